namespace TrustStack.Vmm.ShadowPaging;

/// <summary>Options of the Vmm.ShadowPaging package (filled in as its issue lands).</summary>
public sealed class ShadowPagingOptions
{
    /// <summary>Whether the package's services are enabled in a composed platform.</summary>
    public bool Enabled { get; set; } = true;
}
