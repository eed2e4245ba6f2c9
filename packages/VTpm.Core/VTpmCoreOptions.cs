namespace TrustStack.VTpm.Core;

/// <summary>Options of the VTpm.Core package (filled in as its issue lands).</summary>
public sealed class VTpmCoreOptions
{
    /// <summary>Whether the package's services are enabled in a composed platform.</summary>
    public bool Enabled { get; set; } = true;
}
