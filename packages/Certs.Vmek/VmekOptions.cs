namespace TrustStack.Certs.Vmek;

/// <summary>Options of the Certs.Vmek package (filled in as its issue lands).</summary>
public sealed class VmekOptions
{
    /// <summary>Whether the package's services are enabled in a composed platform.</summary>
    public bool Enabled { get; set; } = true;
}
