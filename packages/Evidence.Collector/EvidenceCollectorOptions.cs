namespace TrustStack.Evidence.Collector;

/// <summary>Options of the Evidence.Collector package (filled in as its issue lands).</summary>
public sealed class EvidenceCollectorOptions
{
    /// <summary>Whether the package's services are enabled in a composed platform.</summary>
    public bool Enabled { get; set; } = true;
}
