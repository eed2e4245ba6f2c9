using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>A quote as the prover sends it: the signed TPMS_ATTEST, its signature, the signing key's public area and the PCR values it claims.</summary>
/// <param name="Attest">The marshalled TPMS_ATTEST.</param>
/// <param name="Signature">The signature over it.</param>
/// <param name="SigningKey">The attestation key's public area (hardware AK or vAK).</param>
/// <param name="PcrValues">The reported PCR values of every quoted PCR.</param>
public sealed record QuoteEvidence(byte[] Attest, TpmtSignature Signature, TpmtPublic SigningKey, PcrValues PcrValues);

/// <summary>Everything a TVP-QT prover hands a verifier about one VM.</summary>
/// <param name="VmId">The VM the guest claims to be.</param>
/// <param name="VEkPublic">Its vTPM's vEK public area.</param>
/// <param name="HardwareQuote">The hardware TPM's quote over the virtualization layer's PCRs and the junction PCR.</param>
/// <param name="VTpmQuote">The vTPM's quote (signed with the vAK) over the guest PCRs.</param>
/// <param name="PlatformEventLog">The platform's TCG event log (at least the part the hardware quote covers).</param>
/// <param name="GuestEventLog">The guest's TCG event log.</param>
public sealed record TvpQtEvidence(Guid VmId, TpmtPublic VEkPublic, QuoteEvidence HardwareQuote, QuoteEvidence VTpmQuote, byte[] PlatformEventLog, byte[] GuestEventLog);

/// <summary>The fresh nonces the verifier sent.</summary>
/// <param name="HardwareNonce">Qualifying data of the hardware quote.</param>
/// <param name="VTpmNonce">Qualifying data of the vTPM quote.</param>
public sealed record TvpQtChallenge(byte[] HardwareNonce, byte[] VTpmNonce);

/// <summary>A known-good measurement: a component's name and the SHA-256 digest of its image, optionally the PCR it extends and its kind.</summary>
/// <param name="Name">The component name as logged.</param>
/// <param name="Sha256">The expected SHA-256 digest.</param>
public sealed record ReferenceMeasurement(string Name, byte[] Sha256)
{
    /// <summary>The PCR the component's event must extend; null: any quoted PCR.</summary>
    public uint? Pcr { get; init; }

    /// <summary>The <c>kind</c> field its event must carry (a <see cref="PlatformComponentKind"/> or <see cref="GuestComponentKind"/> name); null: any kind of the layer.</summary>
    public string? Kind { get; init; }
}

/// <summary>
/// What the verifier trusts: the platform chain and the guest chain (names in measure-before-run
/// order with their digests; each log must hold exactly these components in this order), the
/// vTPM builds (code identities) and the hardware attestation keys (Names) it accepts, and for
/// each log the <see cref="EventLogPolicy"/> that allows events that are neither components nor
/// launches (separators, EV_NO_ACTION, firmware events). Appraisal is default-deny: an attested
/// event that no reference value matches and no rule allows makes the verdict untrusted.
/// <see cref="TvpQtReferenceFile"/> reads and writes them as a JSON file.
/// </summary>
/// <param name="Platform">The virtualization layer's components, in order, ending with the junction point.</param>
/// <param name="Guest">The guest boot chain, in order.</param>
/// <param name="TrustedVTpmCode">SHA-256 code identities of accepted vTPM builds.</param>
/// <param name="TrustedHardwareAks">TPM Names of accepted hardware attestation keys (established by EK credential activation or a certificate).</param>
public sealed record TvpQtReferenceValues(IReadOnlyList<ReferenceMeasurement> Platform, IReadOnlyList<ReferenceMeasurement> Guest, IReadOnlyList<byte[]> TrustedVTpmCode, IReadOnlyList<byte[]> TrustedHardwareAks)
{
    /// <summary>The junction PCR of the platform.</summary>
    public uint JunctionPcr { get; init; } = TrustedJunctionPoint.DefaultPcr;

    /// <summary>The rules that allow platform-log events other than component and launch events (default: none, <see cref="EventLogPolicy.DenyAll"/>).</summary>
    public EventLogPolicy PlatformEvents { get; init; } = EventLogPolicy.DenyAll;

    /// <summary>The rules that allow guest-log events other than component events (default: none).</summary>
    public EventLogPolicy GuestEvents { get; init; } = EventLogPolicy.DenyAll;

    /// <summary>The reference measurements of a platform profile's components (name, SHA-256, PCR and kind).</summary>
    public static IReadOnlyList<ReferenceMeasurement> From(PlatformBootProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return [.. profile.Components.Select(c => new ReferenceMeasurement(c.Name, c.Sha256) { Pcr = c.PcrIndex, Kind = c.Kind.ToString() })];
    }

    /// <summary>The reference measurements of a guest profile's components (name, SHA-256, PCR and kind).</summary>
    public static IReadOnlyList<ReferenceMeasurement> From(GuestBootProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return [.. profile.Components.Select(c => new ReferenceMeasurement(c.Name, c.Sha256) { Pcr = c.PcrIndex, Kind = c.Kind.ToString() })];
    }
}

/// <summary>The checks <see cref="TvpQtVerifier"/> makes, in the order it makes them.</summary>
public enum TvpQtCheckKind
{
    /// <summary>The hardware quote is signed by a trusted hardware AK.</summary>
    HardwareAk,

    /// <summary>The hardware quote is a TPM-made quote whose signature and PCR digest verify.</summary>
    HardwareQuote,

    /// <summary>The hardware quote carries this challenge's nonce (not a replayed quote).</summary>
    HardwareNonce,

    /// <summary>The platform log replays to the quoted hardware PCRs, and every logged PCR is quoted.</summary>
    PlatformLogReplay,

    /// <summary>Every platform component was measured by its predecessor before it ran, and launches came after the junction point.</summary>
    PlatformMeasureBeforeRun,

    /// <summary>
    /// The platform components match the reference values, every launch event is well-formed and
    /// bound to its own fields, and every other attested event is allowed by
    /// <see cref="TvpQtReferenceValues.PlatformEvents"/> (default deny).
    /// </summary>
    PlatformReferenceValues,

    /// <summary>A junction event binds this vTPM's vEK and this VM to this platform.</summary>
    JunctionEvent,

    /// <summary>The vTPM the junction point measured is a trusted build.</summary>
    VTpmCodeIdentity,

    /// <summary>The vTPM quote is a TPM-made quote whose signature and PCR digest verify.</summary>
    VTpmQuote,

    /// <summary>The vTPM quote carries this challenge's nonce.</summary>
    VTpmNonce,

    /// <summary>The guest log replays to the quoted vPCRs, and every logged vPCR is quoted.</summary>
    GuestLogReplay,

    /// <summary>Every guest component was measured by its predecessor before it ran.</summary>
    GuestMeasureBeforeRun,

    /// <summary>The guest components match the reference values and every other attested event is allowed by <see cref="TvpQtReferenceValues.GuestEvents"/> (default deny).</summary>
    GuestReferenceValues,
}

/// <summary>One check of a TVP-QT verification.</summary>
/// <param name="Kind">Which check.</param>
/// <param name="Passed">Whether it passed.</param>
/// <param name="Reason">What was found.</param>
public sealed record TvpQtCheck(TvpQtCheckKind Kind, bool Passed, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => $"{Kind}: {(Passed ? "passed" : "FAILED")} ({Reason})";
}

/// <summary>The verdict on one VM: every check with its reason; trusted only when all pass.</summary>
/// <param name="VmId">The VM.</param>
/// <param name="Checks">Every check, in <see cref="TvpQtCheckKind"/> order.</param>
public sealed record TvpQtVerificationResult(Guid VmId, IReadOnlyList<TvpQtCheck> Checks)
{
    /// <summary>True when every check passed.</summary>
    public bool IsTrusted => Checks.Count > 0 && Checks.All(c => c.Passed);

    /// <summary>The failed checks.</summary>
    public IReadOnlyList<TvpQtCheck> Failures => [.. Checks.Where(c => !c.Passed)];

    /// <summary>The check of <paramref name="kind"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such check was made.</exception>
    public TvpQtCheck this[TvpQtCheckKind kind] => Checks.FirstOrDefault(c => c.Kind == kind) ?? throw new KeyNotFoundException(kind.ToString());
}
