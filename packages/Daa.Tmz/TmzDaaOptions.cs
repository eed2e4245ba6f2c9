namespace TrustStack.Daa.Tmz;

/// <summary>Options of the Daa.Tmz package (filled in as its issue lands).</summary>
public sealed class TmzDaaOptions
{
    /// <summary>Whether the package's services are enabled in a composed platform.</summary>
    public bool Enabled { get; set; } = true;
}
