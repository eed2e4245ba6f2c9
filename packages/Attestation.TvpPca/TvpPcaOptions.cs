using Microsoft.Extensions.Options;
using TrustStack.VTpm.Core;

namespace TrustStack.Attestation.TvpPca;

/// <summary>Options of the Attestation.TvpPca package.</summary>
public sealed class TvpPcaOptions
{
    /// <summary>Whether the package's services are enabled in a composed platform.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The challenger's reference values: required. A verifier without them does not start
    /// (deployment rule "default deny"); there is no default, least of all the public demo
    /// platform's. Read them with <see cref="TvpQtReferenceFile.Load"/> (<c>truststack attest serve
    /// --references-out</c> writes the served platform's).
    /// </summary>
    public TvpQtReferenceValues? References { get; set; }

    /// <summary>What the challenger requires of runtime evidence in the top layer (default: checked when sent, not required).</summary>
    public RuntimeEvidenceRequirement RuntimeEvidence { get; set; } = new();
}

/// <summary>
/// Validates <see cref="TvpPcaOptions"/> when the host starts (<c>ValidateOnStart</c>) or when the
/// options are first read: references must be set and complete, and the failure says what to configure.
/// </summary>
internal sealed class TvpPcaOptionsValidator : IValidateOptions<TvpPcaOptions>
{
    /// <summary>What a challenger without references is told.</summary>
    internal const string MissingReferences =
        "TvpPcaOptions.References is not set: a TVP-PCA challenger trusts only reference values it is given, and has no default. " +
        "Configure AddTvpPca(o => o.References = ...) with the platform chain, guest chain and trusted vTPM builds you accept, " +
        "for example TvpQtReferenceFile.Load(\"references.json\") (truststack attest serve --references-out FILE writes a served platform's).";

    public ValidateOptionsResult Validate(string? name, TvpPcaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Skip;
        }

        if (options.References is not { } r)
        {
            return ValidateOptionsResult.Fail(MissingReferences);
        }

        var problems = new List<string>();
        if (r.Platform is null || r.Guest is null || r.TrustedVTpmCode is null || r.TrustedHardwareAks is null || r.PlatformEvents is null || r.GuestEvents is null)
        {
            problems.Add("TvpPcaOptions.References has a null list (Platform, Guest, TrustedVTpmCode, TrustedHardwareAks, PlatformEvents and GuestEvents are all required; use empty ones for none).");
        }
        else
        {
            if (r.Platform.Count == 0)
            {
                problems.Add("TvpPcaOptions.References.Platform is empty: give the virtualization layer's components, ending with the trusted junction point.");
            }

            if (r.Guest.Count == 0)
            {
                problems.Add("TvpPcaOptions.References.Guest is empty: give the guest boot chain.");
            }

            if (r.TrustedVTpmCode.Count == 0)
            {
                problems.Add("TvpPcaOptions.References.TrustedVTpmCode is empty: give the code identities of the vTPM builds you trust.");
            }
        }

        if (options.RuntimeEvidence is null)
        {
            problems.Add("TvpPcaOptions.RuntimeEvidence is null.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
