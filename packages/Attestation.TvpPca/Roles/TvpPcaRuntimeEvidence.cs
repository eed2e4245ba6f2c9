using TrustStack.Evidence.Collector;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Attestation.TvpPca;

/// <summary>
/// Where an Attestation Agent gets optional runtime evidence (book ch. 7–9) for its top response:
/// a report whose quote, by the vTPM's attestation key, carries the challenger's N1.
/// </summary>
public interface IRuntimeEvidenceSource
{
    /// <summary>Runs one evidence round on <paramref name="vTpm"/> and quotes it over <paramref name="nonce"/>.</summary>
    /// <param name="vTpm">The VM's vTPM (the caller holds it exclusively for the call).</param>
    /// <param name="nonce">N1.</param>
    /// <returns>The report.</returns>
    EvidenceReport Collect(Tpm2 vTpm, byte[] nonce);
}

/// <summary>
/// Runtime evidence from an <see cref="EvidenceCollector"/>: a full round (self-measurement,
/// sources, evidence PCR, log) quoted over N1 by the vTPM's ECC P-256 attestation primary — the
/// same key the vAIK certificate certifies, so the challenger anchors the report to the vAIK.
/// </summary>
/// <param name="collector">The collector.</param>
public sealed class CollectorRuntimeEvidenceSource(EvidenceCollector collector) : IRuntimeEvidenceSource
{
    private readonly EvidenceCollector _collector = collector ?? throw new ArgumentNullException(nameof(collector));

    /// <inheritdoc/>
    /// <exception cref="TpmException">The vTPM refused an operation.</exception>
    public EvidenceReport Collect(Tpm2 vTpm, byte[] nonce)
    {
        ArgumentNullException.ThrowIfNull(vTpm);
        ArgumentNullException.ThrowIfNull(nonce);
        using var tpm = new EvidenceTpm(vTpm, ownsClient: false);

        // The agent's Answer is synchronous (it holds the vTPM lock); the round's sources run in parallel inside.
        return Task.Run(() => _collector.RunAsync(tpm, nonce)).GetAwaiter().GetResult();
    }
}

/// <summary>What a challenger requires of runtime evidence in the top layer.</summary>
public sealed record RuntimeEvidenceRequirement
{
    /// <summary>The appraisal policy; null: only p_tpm must hold (the report is authentic, fresh and bound to the vAIK).</summary>
    public AppraisalPolicy? Policy { get; init; }

    /// <summary>Whether a top response without runtime evidence fails the <see cref="TvpPcaCheck.RuntimeEvidence"/> check.</summary>
    public bool Required { get; init; }

    /// <summary>The check's outcome for a top response, or null when there is nothing to check.</summary>
    /// <param name="top">The agent's response.</param>
    /// <param name="n1">The N1 the challenger sent.</param>
    /// <returns>The reason or null.</returns>
    internal TvpPcaReason? Check(TopResponse top, byte[] n1)
    {
        if (top.RuntimeEvidence is not { } report)
        {
            return Required ? new TvpPcaReason(TvpPcaCheck.RuntimeEvidence, false, "runtime evidence is required and the agent sent none") : null;
        }

        // Bind the report to this attestation: its quote must carry N1 and be signed by the key the vAIK certificate certifies.
        var vaik = Convert.ToHexStringLower(top.Quote.SigningKey.GetName());
        var policy = Policy ?? new AppraisalPolicy();
        policy = policy with { Tpm = policy.Tpm with { TrustedAkNames = [vaik], RequireNonce = true } };
        AppraisalResult result;
        try
        {
            result = EvidenceAppraiser.Appraise(report, policy, n1);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or TpmException)
        {
            return new TvpPcaReason(TvpPcaCheck.RuntimeEvidence, false, $"the runtime evidence is malformed: {e.Message}");
        }

        var summary = string.Join("; ", result.Properties.Select(p => $"{p.Property} {p.Verdict}: {string.Join(", ", p.Reasons.Take(3))}"));
        var tpm = result[EvidenceAppraiser.Tpm].Verdict;
        var passed = Policy is null ? tpm == Verdict.Trusted : result.Decision == Verdict.Trusted;
        return new TvpPcaReason(
            TvpPcaCheck.RuntimeEvidence,
            passed,
            Policy is null
                ? $"runtime evidence ({report.Manifest.Records} records) bound to N1 and the vAIK: {tpm} (no appraisal policy: only p_tpm decides) — {summary}"
                : $"runtime evidence ({report.Manifest.Records} records) decision {result.Decision} — {summary}");
    }
}
