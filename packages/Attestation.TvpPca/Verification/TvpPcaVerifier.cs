using System.Security.Cryptography.X509Certificates;
using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Attestation.TvpPca;

/// <summary>The layer a check belongs to.</summary>
public enum TvpPcaLayer
{
    /// <summary>The VM: vTPM quote, guest log, vAIK certificate.</summary>
    Top,

    /// <summary>The platform: hardware quote, platform log, AIK certificate.</summary>
    Bottom,

    /// <summary>The VM runs on this very platform.</summary>
    Sameness,
}

/// <summary>The checks of a TVP-PCA verification.</summary>
public enum TvpPcaCheck
{
    /// <summary>Top: the vTPM quote is TPM-made and its signature and PCR digest verify.</summary>
    TopQuote,

    /// <summary>Top: the vTPM quote carries N1 (not a replayed top quote).</summary>
    TopNonce,

    /// <summary>Top: the vAIK certificate validates to the Privacy CA and certifies the key that signed the vTPM quote.</summary>
    VAikCertificate,

    /// <summary>Top: the guest log replays to the quoted vPCRs.</summary>
    GuestLogReplay,

    /// <summary>Top: every guest component was measured before it ran.</summary>
    GuestMeasureBeforeRun,

    /// <summary>Top: the guest components match the reference values.</summary>
    GuestReferenceValues,

    /// <summary>Bottom: the hardware quote is TPM-made and its signature and PCR digest verify.</summary>
    BottomQuote,

    /// <summary>Bottom: the AIK certificate validates to the Privacy CA and certifies the key that signed the hardware quote.</summary>
    AikCertificate,

    /// <summary>Bottom: the platform log replays to the quoted PCRs.</summary>
    PlatformLogReplay,

    /// <summary>Bottom: every platform component was measured before it ran.</summary>
    PlatformMeasureBeforeRun,

    /// <summary>Bottom: the VMM, management domain, vTPM manager and MMU-vTPM match the reference values.</summary>
    PlatformReferenceValues,

    /// <summary>Sameness (a): vAIK → vEK → VMEK and the hardware AIK lead to the same hardware EK.</summary>
    SameHardwareEk,

    /// <summary>Sameness (b): the platform log holds the junction event for this VM's vTPM (vEK).</summary>
    JunctionEvent,

    /// <summary>Sameness (b'): the vTPM the junction point measured for this VM is a trusted build.</summary>
    VTpmCodeIdentity,

    /// <summary>Sameness (c): the hardware quote carries N2 = SHA-256(N1 ‖ top quote).</summary>
    NonceChain,

    /// <summary>Top: the vTPM quote covers exactly the vPCR selection the challenge asked for (when it asked for one).</summary>
    VPcrSelection,

    /// <summary>Top: the runtime evidence (Evidence.Collector report) is bound to N1 and the vAIK and its decision holds.</summary>
    RuntimeEvidence,
}

/// <summary>One check's outcome.</summary>
/// <param name="Check">Which check.</param>
/// <param name="Passed">Whether it held.</param>
/// <param name="Reason">What was found.</param>
public sealed record TvpPcaReason(TvpPcaCheck Check, bool Passed, string Reason)
{
    /// <summary>The layer of the check.</summary>
    public TvpPcaLayer Layer => TvpPcaVerifier.LayerOf(Check);

    /// <inheritdoc/>
    public override string ToString() => $"{Layer}/{Check}: {(Passed ? "passed" : "FAILED")} ({Reason})";
}

/// <summary>The verdict of one layer (top, bottom or sameness).</summary>
/// <param name="Layer">The layer.</param>
/// <param name="Reasons">Its checks.</param>
public sealed record TvpPcaDecision(TvpPcaLayer Layer, IReadOnlyList<TvpPcaReason> Reasons)
{
    /// <summary>True when every check of the layer passed.</summary>
    public bool Holds => Reasons.Count > 0 && Reasons.All(r => r.Passed);
}

/// <summary>The combined verdict: trusted only if top, bottom and sameness all hold.</summary>
/// <param name="VmId">The VM attested.</param>
/// <param name="Top">The top decision.</param>
/// <param name="Bottom">The bottom decision.</param>
/// <param name="Sameness">The sameness decision.</param>
public sealed record TvpPcaResult(Guid VmId, TvpPcaDecision Top, TvpPcaDecision Bottom, TvpPcaDecision Sameness)
{
    /// <summary>True only when all three decisions hold.</summary>
    public bool IsTrusted => Top.Holds && Bottom.Holds && Sameness.Holds;

    /// <summary>Every check, top first.</summary>
    public IReadOnlyList<TvpPcaReason> Reasons => [.. Top.Reasons, .. Bottom.Reasons, .. Sameness.Reasons];

    /// <summary>The checks that failed.</summary>
    public IReadOnlyList<TvpPcaReason> Failures => [.. Reasons.Where(r => !r.Passed)];

    /// <summary>The outcome of one check.</summary>
    /// <param name="check">The check.</param>
    public TvpPcaReason this[TvpPcaCheck check] => Reasons.First(r => r.Check == check);
}

/// <summary>
/// The challenger's decisions. Log replay, quote signatures, PCR digests, measure-before-run,
/// reference values and the junction event are <see cref="TvpQtVerifier"/>'s checks; certificate
/// chains are <see cref="CertificateChainValidator"/>'s; this class adds the vAIK/AIK bindings,
/// the same-hardware-EK proof and the nonce chain, and sorts every check into its layer.
/// </summary>
/// <param name="endorsements">Where the AIK → EK record comes from: the in-process <see cref="TvpPcaPrivacyCa"/> or a remote, authenticated <see cref="HttpEndorsementDirectory"/>.</param>
/// <param name="validator">A chain validator trusting the Privacy CA (with its CRL).</param>
/// <param name="references">Reference values (platform, guest, trusted vTPM builds; the hardware AK list is not used: the AIK certificate is).</param>
public sealed class TvpPcaVerifier(IEndorsementDirectory endorsements, CertificateChainValidator validator, TvpQtReferenceValues references)
{
    private readonly IEndorsementDirectory _endorsements = endorsements ?? throw new ArgumentNullException(nameof(endorsements));
    private readonly CertificateChainValidator _validator = validator ?? throw new ArgumentNullException(nameof(validator));
    private readonly TvpQtReferenceValues _references = references ?? throw new ArgumentNullException(nameof(references));

    /// <summary>What the top layer requires of runtime evidence (default: checked when sent, not required; only p_tpm decides).</summary>
    public RuntimeEvidenceRequirement RuntimeEvidence { get; init; } = new();

    /// <summary>Decides on one attestation.</summary>
    /// <param name="topChallenge">The top challenge the challenger sent (N1 and the VM).</param>
    /// <param name="top">The agent's response.</param>
    /// <param name="bottom">The service's response.</param>
    /// <returns>The verdict with every reason.</returns>
    public TvpPcaResult Verify(TopChallenge topChallenge, TopResponse top, BottomResponse bottom)
    {
        ArgumentNullException.ThrowIfNull(topChallenge);
        ArgumentNullException.ThrowIfNull(top);
        ArgumentNullException.ThrowIfNull(bottom);
        var n2 = Challenger.ChainNonce(topChallenge.Nonce, top.Quote.Attest);
        var refs = _references with { TrustedHardwareAks = [bottom.Quote.SigningKey.GetName()] };
        var qt = TvpQtVerifier.Verify(
            new TvpQtEvidence(topChallenge.VmId, top.VEkPublic, bottom.Quote, top.Quote, bottom.PlatformEventLog, top.GuestEventLog),
            new TvpQtChallenge(n2, topChallenge.Nonce),
            refs);
        TvpPcaReason From(TvpQtCheckKind kind, TvpPcaCheck check)
        {
            var c = qt[kind];
            return new TvpPcaReason(check, c.Passed, c.Reason);
        }

        var vaikCert = top.VAikChain.Count > 0 ? top.VAikChain[0] : null;
        var topReasons = new List<TvpPcaReason>
        {
            From(TvpQtCheckKind.VTpmQuote, TvpPcaCheck.TopQuote),
            top.VmId == topChallenge.VmId
                ? From(TvpQtCheckKind.VTpmNonce, TvpPcaCheck.TopNonce)
                : new TvpPcaReason(TvpPcaCheck.TopNonce, false, $"the answer is from VM {top.VmId}, not the challenged {topChallenge.VmId}"),
            AttestationKeyCheck(TvpPcaCheck.VAikCertificate, "vAIK", vaikCert, top.Quote.SigningKey),
            From(TvpQtCheckKind.GuestLogReplay, TvpPcaCheck.GuestLogReplay),
            From(TvpQtCheckKind.GuestMeasureBeforeRun, TvpPcaCheck.GuestMeasureBeforeRun),
            From(TvpQtCheckKind.GuestReferenceValues, TvpPcaCheck.GuestReferenceValues),
            SelectionCheck(topChallenge, top),
        };
        if (RuntimeEvidence.Check(top, topChallenge.Nonce) is { } evidence)
        {
            topReasons.Add(evidence);
        }

        var bottomReasons = new List<TvpPcaReason>
        {
            From(TvpQtCheckKind.HardwareQuote, TvpPcaCheck.BottomQuote),
            AttestationKeyCheck(TvpPcaCheck.AikCertificate, "hardware AIK", bottom.AikCertificate, bottom.Quote.SigningKey),
            From(TvpQtCheckKind.PlatformLogReplay, TvpPcaCheck.PlatformLogReplay),
            From(TvpQtCheckKind.PlatformMeasureBeforeRun, TvpPcaCheck.PlatformMeasureBeforeRun),
            From(TvpQtCheckKind.PlatformReferenceValues, TvpPcaCheck.PlatformReferenceValues),
        };
        var samenessReasons = new List<TvpPcaReason>
        {
            SameHardwareEk(topChallenge.VmId, top, bottom),
            From(TvpQtCheckKind.JunctionEvent, TvpPcaCheck.JunctionEvent),
            From(TvpQtCheckKind.VTpmCodeIdentity, TvpPcaCheck.VTpmCodeIdentity),
            qt[TvpQtCheckKind.HardwareNonce].Passed
                ? new TvpPcaReason(TvpPcaCheck.NonceChain, true, $"the hardware quote carries N2 = SHA-256(N1 ‖ top quote) = {Convert.ToHexString(n2)}")
                : new TvpPcaReason(TvpPcaCheck.NonceChain, false, $"the hardware quote does not carry N2 = SHA-256(N1 ‖ top quote) = {Convert.ToHexString(n2)}: it was made for another top quote or replayed ({qt[TvpQtCheckKind.HardwareNonce].Reason})"),
        };
        return new TvpPcaResult(
            topChallenge.VmId,
            new TvpPcaDecision(TvpPcaLayer.Top, topReasons),
            new TvpPcaDecision(TvpPcaLayer.Bottom, bottomReasons),
            new TvpPcaDecision(TvpPcaLayer.Sameness, samenessReasons));
    }

    internal static TvpPcaLayer LayerOf(TvpPcaCheck check) => check switch
    {
        TvpPcaCheck.VPcrSelection or TvpPcaCheck.RuntimeEvidence => TvpPcaLayer.Top,
        <= TvpPcaCheck.GuestReferenceValues => TvpPcaLayer.Top,
        <= TvpPcaCheck.PlatformReferenceValues => TvpPcaLayer.Bottom,
        _ => TvpPcaLayer.Sameness,
    };

    private static TvpPcaReason SelectionCheck(TopChallenge challenge, TopResponse top)
    {
        var asked = challenge.Pcrs ?? PcrSelectionList.Empty;
        if (!asked.Enumerate().Any())
        {
            return new TvpPcaReason(TvpPcaCheck.VPcrSelection, true, "no vPCR selection was asked; the agent chose its default");
        }

        PcrSelectionList quoted;
        try
        {
            quoted = TpmsAttest.Parse(top.Quote.Attest).Attested is QuoteInfo q ? q.PcrSelect : PcrSelectionList.Empty;
        }
        catch (TpmException e)
        {
            return new TvpPcaReason(TvpPcaCheck.VPcrSelection, false, $"the vTPM quote's TPMS_ATTEST does not parse: {e.Message}");
        }

        // Exactly the asked selection: a quote of more vPCRs than asked answers another question
        // (one changed on the wire, for instance), even when the extra vPCRs are at reset.
        var have = quoted.Enumerate().ToHashSet();
        var want = asked.Enumerate().ToHashSet();
        var missing = want.Where(p => !have.Contains(p)).ToList();
        var extra = have.Where(p => !want.Contains(p)).ToList();
        return missing.Count == 0 && extra.Count == 0
            ? new TvpPcaReason(TvpPcaCheck.VPcrSelection, true, $"the vTPM quote covers exactly the asked vPCRs {asked}")
            : new TvpPcaReason(TvpPcaCheck.VPcrSelection, false, $"asked for {asked}, the vTPM quote covers {quoted}" +
                (missing.Count > 0 ? $": missing {string.Join(", ", missing.Select(p => $"{p.Bank}:{p.Pcr}"))}" : string.Empty) +
                (extra.Count > 0 ? $"{(missing.Count > 0 ? ";" : ":")} not asked {string.Join(", ", extra.Select(p => $"{p.Bank}:{p.Pcr}"))}" : string.Empty));
    }

    private TvpPcaReason AttestationKeyCheck(TvpPcaCheck check, string what, X509Certificate2? certificate, TpmtPublic key)
    {
        if (certificate is null)
        {
            return new TvpPcaReason(check, false, $"no {what} certificate was sent");
        }

        var r = _validator.Validate([certificate], new ChainExpectations { Profile = CertificateProfile.AttestationKey, SubjectKey = key });
        return r.IsValid
            ? new TvpPcaReason(check, true, $"{what} certificate {certificate.SerialNumber} validates and certifies the quoting key")
            : new TvpPcaReason(check, false, $"{what} certificate {certificate.SerialNumber}: {r}");
    }

    private TvpPcaReason SameHardwareEk(Guid vmId, TopResponse top, BottomResponse bottom)
    {
        var problems = new List<string>();
        byte[]? EndorsementOf(X509Certificate2 certificate, string what)
        {
            try
            {
                return _endorsements.EndorsementOf(certificate);
            }
            catch (EndorsementQueryException e)
            {
                problems.Add($"the Privacy CA's answer about the {what} certificate was rejected: {e.Message}");
                return null;
            }
        }

        var rejected = problems.Count;
        var hardwareEk = EndorsementOf(bottom.AikCertificate, "hardware AIK");
        if (hardwareEk is null && problems.Count == rejected)
        {
            problems.Add("the Privacy CA did not certify the hardware AIK through any EK");
        }

        if (top.VAikChain.Count < 2)
        {
            problems.Add("no vEK chain below the vAIK certificate");
        }
        else
        {
            var vek = EndorsementOf(top.VAikChain[0], "vAIK");
            if (vek is null || !vek.AsSpan().SequenceEqual(top.VEkPublic.GetName()))
            {
                problems.Add($"the vAIK was not certified through the presented vEK {Convert.ToHexString(top.VEkPublic.GetName())}");
            }

            var chain = _validator.Validate([.. top.VAikChain.Skip(1)], new ChainExpectations
            {
                Profile = CertificateProfile.VEk,
                SubjectKey = top.VEkPublic,
                VmId = vmId,
                HardwareEkName = hardwareEk,
            });
            if (!chain.IsValid)
            {
                problems.Add($"vEK → VMEK chain: {chain}");
            }
        }

        return problems.Count == 0
            ? new TvpPcaReason(TvpPcaCheck.SameHardwareEk, true, $"vAIK → vEK → VMEK and the hardware AIK lead to hardware EK {Convert.ToHexString(hardwareEk!)}")
            : new TvpPcaReason(TvpPcaCheck.SameHardwareEk, false, string.Join("; ", problems));
    }
}
