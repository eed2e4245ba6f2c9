namespace TrustStack.Daa.Tmz;

/// <summary>Options of the Daa.Tmz package.</summary>
public sealed class TmzDaaOptions
{
    /// <summary>Whether the package's services are enabled in a composed platform.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The group (<c>ristretto255</c> or <c>p256</c>); p256 when a TPM 2.0 plays the TPM role.</summary>
    public string Group { get; set; } = "p256";

    /// <summary>A CPU profile JSON file for the cost model, or null for the shipped default.</summary>
    public string? CpuProfilePath { get; set; }
}
