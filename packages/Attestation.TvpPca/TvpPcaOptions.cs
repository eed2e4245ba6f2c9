using TrustStack.VTpm.Core;

namespace TrustStack.Attestation.TvpPca;

/// <summary>Options of the Attestation.TvpPca package.</summary>
public sealed class TvpPcaOptions
{
    /// <summary>Whether the package's services are enabled in a composed platform.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The challenger's reference values (null: <see cref="TvpPcaHost.ExpectedReferences"/>, the demo platform's).</summary>
    public TvpQtReferenceValues? References { get; set; }

    /// <summary>What the challenger requires of runtime evidence in the top layer (default: checked when sent, not required).</summary>
    public RuntimeEvidenceRequirement RuntimeEvidence { get; set; } = new();
}
