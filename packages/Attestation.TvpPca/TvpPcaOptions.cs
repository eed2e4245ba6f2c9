namespace TrustStack.Attestation.TvpPca;

/// <summary>Options of the Attestation.TvpPca package (filled in as its issue lands).</summary>
public sealed class TvpPcaOptions
{
    /// <summary>Whether the package's services are enabled in a composed platform.</summary>
    public bool Enabled { get; set; } = true;
}
