using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>What a verifier needs to check a TPM2_Quote.</summary>
/// <param name="SigningKey">
/// The public area of the key that signed the quote (an AK). Its attributes, nameAlg and scheme
/// are checked, so they are only worth what the source of the public area is: anchor it by its
/// Name (credential activation, a certificate over the public area, a pinned Name), which covers
/// them all.
/// </param>
/// <param name="QuoteMessage">The marshalled TPMS_ATTEST the TPM signed (tpm2_quote <c>-m</c>).</param>
/// <param name="Signature">The signature over it.</param>
/// <param name="ExpectedNonce">The qualifying data the verifier sent (TPMS_ATTEST.extraData must equal it).</param>
/// <param name="PcrValues">
/// The PCR values the prover reports; every PCR the quote selects needs one. Without an
/// <see cref="ExpectedSelection"/> they define the expected selection: the quote must select
/// exactly the PCRs they are given for.
/// </param>
public sealed record QuoteVerificationRequest(TpmtPublic SigningKey, byte[] QuoteMessage, TpmtSignature Signature, byte[] ExpectedNonce, PcrValues PcrValues)
{
    /// <summary>
    /// The PCR selection the verifier asked for; when set, the quote's selection must equal it
    /// (same banks in the same order, same PCRs). When null, the quote must select exactly the
    /// (bank, PCR) pairs of <see cref="PcrValues"/>.
    /// </summary>
    public PcrSelectionList? ExpectedSelection { get; init; }

    /// <summary>
    /// What <see cref="SigningKey"/> is: the TPM's public area (default; attributes, nameAlg,
    /// scheme and Name are the TPM's and are checked) or only a public key read from PEM/DER,
    /// whose TPMT_PUBLIC fields are defaults (then those checks are skipped, saying so, unless
    /// <see cref="RequireKnownKeyAttributes"/> makes them fail).
    /// </summary>
    public PublicKeyForm SigningKeyForm { get; init; } = PublicKeyForm.PublicArea;

    /// <summary>
    /// When true, a signing key whose attributes cannot be checked (a bare public key,
    /// <see cref="PublicKeyForm.SubjectPublicKeyInfo"/>) fails the <see cref="QuoteCheckKind.SigningKey"/>
    /// check instead of skipping it.
    /// </summary>
    public bool RequireKnownKeyAttributes { get; init; }

    /// <summary>
    /// When true, the signing key must be an attestation key that cannot leave its TPM: besides
    /// sign and restricted, fixedTPM and fixedParent SET (TPMA_OBJECT, TPM 2.0 Part 2 §8.3; the
    /// attributes <c>tpm2_createak</c> and the TCG AK templates set). Implies <see cref="RequireKnownKeyAttributes"/>.
    /// </summary>
    public bool RequireAttestationKey { get; init; }

    /// <summary>
    /// The signing key's qualified name (TPM 2.0 Part 1 §16: nameAlg ‖ H(parent's qualified
    /// name ‖ Name); <c>tpm2_readpublic -q</c>, <see cref="TpmtPublic.GetQualifiedName(ReadOnlySpan{byte})"/>);
    /// when set, TPMS_ATTEST.qualifiedSigner must equal it. Without it only its algorithm and size
    /// are checked against the key's nameAlg.
    /// </summary>
    public byte[]? ExpectedQualifiedSigner { get; init; }

    /// <summary>
    /// An earlier quote by the same key that the caller verified before: this quote must have the
    /// same qualifiedSigner, a clock, resetCount and restartCount that did not go back, and the
    /// same firmwareVersion.
    /// </summary>
    public TpmsAttest? PreviousQuote { get; init; }

    /// <summary>
    /// A minimum the quote's clock info must reach (for example the one a verifier stored for this
    /// TPM): resetCount not lower, restartCount not lower at the same resetCount, clock not lower.
    /// Unlike <see cref="PreviousQuote"/> it names no signer; compare it only with quotes of the
    /// key it was taken from (see the remarks of <see cref="QuoteVerifier"/>).
    /// </summary>
    public TpmsClockInfo? MinimumClockInfo { get; init; }

    /// <summary>When true, clockInfo.safe must be YES (no greater Clock was ever reported, TPM 2.0 Part 2 §10.11.1).</summary>
    public bool RequireSafeClock { get; init; }

    /// <summary>When set, TPMS_ATTEST.firmwareVersion must equal it (a policy value).</summary>
    public ulong? ExpectedFirmwareVersion { get; init; }
}

/// <summary>The checks <see cref="QuoteVerifier"/> makes.</summary>
public enum QuoteCheckKind
{
    /// <summary>The message unmarshals as a TPMS_ATTEST.</summary>
    Structure,

    /// <summary>magic is TPM_GENERATED_VALUE: the TPM made the structure.</summary>
    Magic,

    /// <summary>type is TPM_ST_ATTEST_QUOTE.</summary>
    Type,

    /// <summary>extraData equals the expected nonce.</summary>
    Nonce,

    /// <summary>The signature verifies over H_sigHash(message) with the signing key.</summary>
    Signature,

    /// <summary>The quoted PCR selection equals the expected one.</summary>
    PcrSelection,

    /// <summary>pcrDigest equals H_sigHash of the reported PCR values in TPM order.</summary>
    PcrDigest,

    /// <summary>
    /// The signing key is a restricted signing key (sign and restricted SET, decrypt CLEAR; with
    /// <see cref="QuoteVerificationRequest.RequireAttestationKey"/> also fixedTPM and fixedParent)
    /// with a hash nameAlg: only such a key proves that the TPM made the TPMS_ATTEST.
    /// </summary>
    SigningKey,

    /// <summary>The signature's sigAlg and hash are the signing key's scheme.</summary>
    SignatureScheme,

    /// <summary>qualifiedSigner is a qualified name of the key's nameAlg, and the expected one when given.</summary>
    QualifiedSigner,

    /// <summary>clockInfo: reported; safe when required; not before the previous quote's when one is given.</summary>
    Clock,

    /// <summary>firmwareVersion: reported; equal to the expected or the previous quote's when given.</summary>
    FirmwareVersion,
}

/// <summary>How a check ended.</summary>
public enum QuoteCheckStatus
{
    /// <summary>The check passed.</summary>
    Passed,

    /// <summary>The check failed; the quote is not valid.</summary>
    Failed,

    /// <summary>
    /// The check could not be made: nothing to compare with (no previous quote, no expected
    /// firmware version), a bare public key whose attributes are unknown, or a message that did
    /// not parse. The detail says which; a skipped check does not make a quote invalid.
    /// </summary>
    Skipped,
}

/// <summary>One check of a quote.</summary>
/// <param name="Kind">Which check.</param>
/// <param name="Status">Passed, failed or skipped.</param>
/// <param name="Detail">What was found.</param>
public sealed record QuoteCheck(QuoteCheckKind Kind, QuoteCheckStatus Status, string Detail)
{
    /// <inheritdoc />
    public override string ToString() => $"{Kind}: {Status} ({Detail})";
}

/// <summary>The outcome of verifying a quote: every check made, and the parsed TPMS_ATTEST when it parsed.</summary>
/// <param name="Checks">The checks, in the order they were made.</param>
/// <param name="Attest">The parsed message, or null when it did not parse.</param>
public sealed record QuoteVerificationResult(IReadOnlyList<QuoteCheck> Checks, TpmsAttest? Attest)
{
    /// <summary>True when the message parsed and no check failed.</summary>
    public bool IsValid => Attest is not null && Checks.All(c => c.Status != QuoteCheckStatus.Failed);

    /// <summary>The failed checks.</summary>
    public IReadOnlyList<QuoteCheck> FailedChecks => Checks.Where(c => c.Status == QuoteCheckStatus.Failed).ToArray();

    /// <summary>One line per failed check, <c>Kind: detail</c>.</summary>
    public IReadOnlyList<string> Failures => FailedChecks.Select(c => $"{c.Kind}: {c.Detail}").ToArray();

    /// <summary>The parsed TPMS_QUOTE_INFO, or null.</summary>
    public QuoteInfo? QuoteInfo => Attest?.Attested as QuoteInfo;

    /// <summary>
    /// The quote's clockInfo (clock, resetCount, restartCount, safe), or null when the message did
    /// not parse; keep it (or <see cref="Attest"/>) as the <see cref="QuoteVerificationRequest.PreviousQuote"/> of the next one.
    /// </summary>
    public TpmsClockInfo? ClockInfo => Attest?.ClockInfo;

    /// <summary>The quote's firmwareVersion, or null when the message did not parse.</summary>
    public ulong? FirmwareVersion => Attest?.FirmwareVersion;

    /// <summary>The skipped checks: what was not verified, and why.</summary>
    public IReadOnlyList<QuoteCheck> SkippedChecks => Checks.Where(c => c.Status == QuoteCheckStatus.Skipped).ToArray();
}

/// <summary>
/// Verifies a TPM2_Quote without a TPM (TPM 2.0 Part 3 §18.4): the structure is TPM-generated,
/// is a quote, carries the verifier's nonce, is signed with the key's own scheme by a restricted
/// signing key, names that key as its qualified signer, selects the expected PCRs, and its
/// pcrDigest matches the reported PCR values; its clock info and firmware version are reported
/// and, when the caller gives an earlier quote or a policy, checked. An invalid or malformed
/// quote is a result with named failures, never an exception.
/// </summary>
/// <remarks>
/// Why restricted: TPM_GENERATED_VALUE in TPMS_ATTEST.magic proves the TPM made the structure
/// only when the key refuses to sign such structures from outside. A restricted key signs a
/// digest only with a ticket proving the TPM hashed it and the data did not start with
/// TPM_GENERATED_VALUE (TPM2_Sign, Part 3 §20.2; TPM2_Hash, §15.4); an unrestricted key signs any
/// digest, so its "quote" may carry invented PCRs.
/// Clock info: for a key outside the endorsement and platform hierarchies, the TPM offsets
/// resetCount, restartCount and firmwareVersion by a per-key value (Part 3 §18.1), so compare
/// them only with quotes of the same key, and firmwareVersion with a policy value only for keys of
/// those hierarchies (an AK).
/// </remarks>
public static class QuoteVerifier
{
    /// <summary>Runs every check on <paramref name="request"/>.</summary>
    /// <exception cref="ArgumentNullException">The request or one of its members is null.</exception>
    public static QuoteVerificationResult Verify(QuoteVerificationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.SigningKey);
        ArgumentNullException.ThrowIfNull(request.QuoteMessage);
        ArgumentNullException.ThrowIfNull(request.Signature);
        ArgumentNullException.ThrowIfNull(request.ExpectedNonce);
        ArgumentNullException.ThrowIfNull(request.PcrValues);

        var checks = new List<QuoteCheck>(12);
        TpmsAttest? attest = null;
        try
        {
            attest = TpmsAttest.Parse(request.QuoteMessage);
            checks.Add(Pass(QuoteCheckKind.Structure, $"TPMS_ATTEST of {request.QuoteMessage.Length} octets"));
        }
        catch (TpmException e)
        {
            checks.Add(Fail(QuoteCheckKind.Structure, $"the message is not a TPMS_ATTEST: {e.Message}"));
        }

        if (attest is not null)
        {
            checks.Add(attest.Magic == TpmsAttest.GeneratedValue
                ? Pass(QuoteCheckKind.Magic, "TPM_GENERATED_VALUE")
                : Fail(QuoteCheckKind.Magic, $"magic is 0x{attest.Magic:x8}, not TPM_GENERATED_VALUE 0x{TpmsAttest.GeneratedValue:x8}"));
            checks.Add(attest.Type == TpmSt.AttestQuote
                ? Pass(QuoteCheckKind.Type, "TPM_ST_ATTEST_QUOTE")
                : Fail(QuoteCheckKind.Type, $"type is {attest.Type}, not TPM_ST_ATTEST_QUOTE"));
            checks.Add(CryptographicOperations.FixedTimeEquals(attest.ExtraData, request.ExpectedNonce)
                ? Pass(QuoteCheckKind.Nonce, $"extraData equals the {request.ExpectedNonce.Length}-octet nonce")
                : Fail(QuoteCheckKind.Nonce, $"extraData {Convert.ToHexStringLower(attest.ExtraData)} is not the expected nonce {Convert.ToHexStringLower(request.ExpectedNonce)}"));
        }

        checks.Add(CheckSigningKey(request));
        checks.Add(CheckScheme(request));
        var signature = TpmSignatureVerifier.CheckMessage(request.SigningKey, request.QuoteMessage, request.Signature);
        checks.Add(signature.IsValid
            ? Pass(QuoteCheckKind.Signature, $"{request.Signature.SigAlg}/{request.Signature.Hash} signature verifies with the key")
            : Fail(QuoteCheckKind.Signature, signature.FailureReason ?? "the signature does not verify"));
        checks.Add(attest is null ? Skip(QuoteCheckKind.QualifiedSigner, "the message did not parse") : CheckQualifiedSigner(request, attest.QualifiedSigner));

        if (attest?.Attested is QuoteInfo quote)
        {
            checks.Add(CheckSelection(quote.PcrSelect, request.ExpectedSelection, request.PcrValues));
            checks.Add(CheckDigest(quote, request.Signature.Hash, request.PcrValues));
        }
        else
        {
            const string why = "no TPMS_QUOTE_INFO to check";
            checks.Add(Skip(QuoteCheckKind.PcrSelection, why));
            checks.Add(Skip(QuoteCheckKind.PcrDigest, why));
        }

        if (attest is null)
        {
            checks.Add(Skip(QuoteCheckKind.Clock, "the message did not parse"));
            checks.Add(Skip(QuoteCheckKind.FirmwareVersion, "the message did not parse"));
        }
        else
        {
            checks.Add(CheckClock(request, attest));
            checks.Add(CheckFirmware(request, attest));
        }

        return new QuoteVerificationResult(checks.ToArray(), attest);
    }

    private static QuoteCheck CheckSigningKey(QuoteVerificationRequest request)
    {
        var key = request.SigningKey;
        if (request.SigningKeyForm == PublicKeyForm.SubjectPublicKeyInfo)
        {
            const string unknown = "the key is a bare public key (PEM/DER): its attributes could not be checked (restricted, sign, fixedTPM, fixedParent are unknown, and an unrestricted key signs any structure); give its TPM2B_PUBLIC to check them";
            return request.RequireKnownKeyAttributes || request.RequireAttestationKey ? Fail(QuoteCheckKind.SigningKey, unknown) : Skip(QuoteCheckKind.SigningKey, unknown);
        }

        var a = key.ObjectAttributes;
        var problems = new List<string>();
        if ((a & ReservedAttributes) != 0)
        {
            problems.Add($"reserved attribute bits 0x{(uint)(a & ReservedAttributes):x8} are SET: no TPM creates such a key (TPM_RC_RESERVED_BITS, Part 2 §8.3)");
        }

        if (key.Type is not (TpmAlgId.Rsa or TpmAlgId.Ecc))
        {
            problems.Add($"object type {key.Type} is not an asymmetric signing key");
        }

        if ((a & TpmaObject.Sign) == 0)
        {
            problems.Add("sign is CLEAR: not a signing key (Part 3 §18.4 TPM_RC_KEY)");
        }

        if ((a & TpmaObject.Restricted) == 0)
        {
            problems.Add("restricted is CLEAR: an unrestricted key signs any digest (Part 3 §20.2), so its signature does not show the TPM made this TPMS_ATTEST");
        }
        else if ((a & TpmaObject.Decrypt) != 0 && (a & TpmaObject.Sign) != 0)
        {
            problems.Add("restricted with both sign and decrypt SET: no TPM creates such a key (Part 2 §8.3)");
        }

        if (request.RequireAttestationKey)
        {
            if ((a & TpmaObject.FixedTpm) == 0)
            {
                problems.Add("fixedTPM is CLEAR: the key can be duplicated out of its TPM, not an attestation key");
            }

            if ((a & TpmaObject.FixedParent) == 0)
            {
                problems.Add("fixedParent is CLEAR: the key can be duplicated to another parent, not an attestation key");
            }
        }

        if (!TpmHash.IsSupported(key.NameAlg))
        {
            problems.Add($"nameAlg {key.NameAlg} is not a supported hash, so the key has no Name");
        }

        // The TPM writes keyBits for the modulus it made (TPMS_RSA_PARMS, Part 2 §12.2.3.5).
        if (key.Parameters is RsaParms rsa && key.Unique is RsaPublicId id && rsa.KeyBits != 8 * TpmPublicKeys.StripLeadingZeros(id.Modulus).Length)
        {
            problems.Add($"keyBits {rsa.KeyBits} is not the size of the {8 * TpmPublicKeys.StripLeadingZeros(id.Modulus).Length}-bit modulus");
        }

        var attributes = $"attributes 0x{(uint)a:x8} ({Describe(a)}), nameAlg {PcrValues.BankName(key.NameAlg)}";
        return problems.Count == 0
            ? Pass(QuoteCheckKind.SigningKey, $"{(request.RequireAttestationKey ? "attestation key" : "restricted signing key")}: {attributes}")
            : Fail(QuoteCheckKind.SigningKey, $"{string.Join("; ", problems)} [{attributes}]");
    }

    // TPMA_OBJECT bits 0, 3, 8-9, 12-15 and 20-31 are reserved (TPM 2.0 Part 2 §8.3.2).
    private const TpmaObject ReservedAttributes = (TpmaObject)0xFFF0F309;

    private static QuoteCheck CheckScheme(QuoteVerificationRequest request)
    {
        var signature = request.Signature;
        var used = $"{signature.SigAlg}/{signature.Hash}";
        if (request.SigningKeyForm == PublicKeyForm.SubjectPublicKeyInfo)
        {
            return Skip(QuoteCheckKind.SignatureScheme, $"the key's scheme is unknown (bare public key); the signature is {used}");
        }

        var key = request.SigningKey;
        var scheme = key.Parameters switch
        {
            RsaParms r when key.Type == TpmAlgId.Rsa => r.Scheme,
            EccParms e when key.Type == TpmAlgId.Ecc => e.Scheme,
            _ => null,
        };
        if (scheme is null)
        {
            return Fail(QuoteCheckKind.SignatureScheme, $"a {key.Type} key has no signing scheme; the signature is {used}");
        }

        if (scheme.Scheme == TpmAlgId.Null)
        {
            // A restricted signing key must name its scheme (TPM 2.0 Part 3 §12.1, TPM_RC_SCHEME);
            // an unrestricted one signs with the caller's, which only has to suit the key type.
            if ((key.ObjectAttributes & TpmaObject.Restricted) != 0)
            {
                return Fail(QuoteCheckKind.SignatureScheme, $"the restricted key has no scheme (TPM_ALG_NULL), which no TPM creates; the signature is {used}");
            }

            var suits = key.Type == TpmAlgId.Ecc
                ? signature.SigAlg is TpmAlgId.Ecdsa or TpmAlgId.Ecdaa or TpmAlgId.Sm2 or TpmAlgId.Ecschnorr
                : signature.SigAlg is TpmAlgId.Rsassa or TpmAlgId.Rsapss;
            return suits
                ? Pass(QuoteCheckKind.SignatureScheme, $"the key has no scheme of its own; {used} suits a {key.Type} key")
                : Fail(QuoteCheckKind.SignatureScheme, $"the signature is {used}, which a {key.Type} key does not make");
        }

        // The TPM signs a quote with the key's scheme when it has one (Part 3 §18.4: inScheme must be it or TPM_ALG_NULL).
        return signature.SigAlg == scheme.Scheme && signature.Hash == scheme.HashAlg
            ? Pass(QuoteCheckKind.SignatureScheme, $"{used} is the key's scheme")
            : Fail(QuoteCheckKind.SignatureScheme, $"the signature is {used}, the key's scheme is {scheme.Scheme}/{scheme.HashAlg}");
    }

    private static QuoteCheck CheckQualifiedSigner(QuoteVerificationRequest request, byte[] qualifiedSigner)
    {
        var hex = Convert.ToHexStringLower(qualifiedSigner);
        if (request.ExpectedQualifiedSigner is { } expected)
        {
            // The TPM writes the signing key's qualified name (Part 2 §10.12.12, Part 1 §16).
            return CryptographicOperations.FixedTimeEquals(qualifiedSigner, expected)
                ? Pass(QuoteCheckKind.QualifiedSigner, $"qualifiedSigner {hex} is the key's qualified name")
                : Fail(QuoteCheckKind.QualifiedSigner, $"qualifiedSigner {hex} is not the key's qualified name {Convert.ToHexStringLower(expected)}");
        }

        if (request.SigningKeyForm == PublicKeyForm.SubjectPublicKeyInfo)
        {
            return Skip(QuoteCheckKind.QualifiedSigner, $"the key's nameAlg and Name are unknown (bare public key): qualifiedSigner {hex} is not checked");
        }

        var nameAlg = request.SigningKey.NameAlg;
        if (!TpmHash.IsSupported(nameAlg))
        {
            return Fail(QuoteCheckKind.QualifiedSigner, $"the key's nameAlg {nameAlg} is not a hash, so qualifiedSigner {hex} cannot be its qualified name");
        }

        var size = 2 + TpmHash.DigestSize(nameAlg);
        if (qualifiedSigner.Length != size || BinaryPrimitives.ReadUInt16BigEndian(qualifiedSigner) != (ushort)nameAlg)
        {
            return Fail(QuoteCheckKind.QualifiedSigner, $"qualifiedSigner {hex} is not a {PcrValues.BankName(nameAlg)} qualified name ({size} octets starting 0x{(ushort)nameAlg:x4}), as the key's would be");
        }

        return Pass(QuoteCheckKind.QualifiedSigner, $"qualifiedSigner {hex} is a {PcrValues.BankName(nameAlg)} qualified name as the key's; it is not compared with the key's own (that needs its parent's: give the expected qualified name)");
    }

    private static QuoteCheck CheckSelection(PcrSelectionList quoted, PcrSelectionList? expected, PcrValues values)
    {
        if (expected is not null)
        {
            // Compare (bank, PCR) in TPM order: the same PCRs in the same bank order, whatever the
            // sizeofSelect of each bitmap; banks with nothing selected add nothing to the digest.
            return quoted.Enumerate().SequenceEqual(expected.Enumerate())
                ? Pass(QuoteCheckKind.PcrSelection, Describe(quoted))
                : Fail(QuoteCheckKind.PcrSelection, $"the quote selects {Describe(quoted)}, expected {Describe(expected)}");
        }

        // No selection asked for: the values the verifier holds are what it means to have quoted,
        // so the quote must cover exactly them (the digest check then fixes the order).
        var pairs = quoted.Enumerate().ToArray();
        var distinct = pairs.ToHashSet();
        if (distinct.Count != pairs.Length)
        {
            return Fail(QuoteCheckKind.PcrSelection, $"the quote selects a PCR twice: {Describe(quoted)}");
        }

        var reported = values.Banks.SelectMany(b => values.PcrsIn(b).Select(p => (Bank: b, Pcr: p))).ToArray();
        var unquoted = reported.Where(r => !distinct.Contains(r)).ToArray();
        var unreported = pairs.Where(p => !reported.Contains(p)).ToArray();
        if (unquoted.Length == 0 && unreported.Length == 0)
        {
            return Pass(QuoteCheckKind.PcrSelection, $"{Describe(quoted)}: exactly the PCRs of the reported values (no expected selection given)");
        }

        var why = new List<string>();
        if (unquoted.Length > 0)
        {
            why.Add($"values for {Describe(unquoted)} are not quoted");
        }

        if (unreported.Length > 0)
        {
            why.Add($"{Describe(unreported)} quoted without a reported value");
        }

        return Fail(QuoteCheckKind.PcrSelection, $"the quote selects {Describe(quoted)}, the reported values are for {Describe(reported)}: {string.Join("; ", why)}");
    }

    private static QuoteCheck CheckDigest(QuoteInfo quote, TpmAlgId hash, PcrValues values)
    {
        if (!TpmHash.IsSupported(hash))
        {
            return Fail(QuoteCheckKind.PcrDigest, $"signature hash {hash} is not supported, so the PCR digest cannot be computed");
        }

        var missing = values.Missing(quote.PcrSelect);
        if (missing.Count > 0)
        {
            return Fail(QuoteCheckKind.PcrDigest, $"no reported value for {Describe(missing)}");
        }

        var computed = values.ComputeDigest(quote.PcrSelect, hash);
        return CryptographicOperations.FixedTimeEquals(computed, quote.PcrDigest)
            ? Pass(QuoteCheckKind.PcrDigest, $"{PcrValues.BankName(hash)} digest of the reported values matches")
            : Fail(QuoteCheckKind.PcrDigest, $"pcrDigest {Convert.ToHexStringLower(quote.PcrDigest)} is not the {PcrValues.BankName(hash)} digest of the reported values {Convert.ToHexStringLower(computed)}");
    }

    private static QuoteCheck CheckClock(QuoteVerificationRequest request, TpmsAttest attest)
    {
        var now = attest.ClockInfo;
        var reported = Describe(now);
        if (request.PreviousQuote is null && request.MinimumClockInfo is null && !request.RequireSafeClock)
        {
            return Skip(QuoteCheckKind.Clock, $"{reported}; no earlier quote or clock policy to compare with");
        }

        var problems = new List<string>();
        if (request.RequireSafeClock && !now.Safe)
        {
            problems.Add("safe is NO: the TPM may have reported a greater clock before (Part 2 §10.11.1)");
        }

        if (request.PreviousQuote is { } previous)
        {
            if (!CryptographicOperations.FixedTimeEquals(previous.QualifiedSigner, attest.QualifiedSigner))
            {
                problems.Add($"the previous quote has another qualifiedSigner ({Convert.ToHexStringLower(previous.QualifiedSigner)}): clock info of different keys does not compare");
            }
            else
            {
                NotBefore(previous.ClockInfo, "the previous quote's");
            }
        }

        if (request.MinimumClockInfo is { } minimum)
        {
            NotBefore(minimum, "the minimum's");
        }

        var against = (request.PreviousQuote is { } p ? $"; previous quote {Describe(p.ClockInfo)}" : "") + (request.MinimumClockInfo is { } m ? $"; minimum {Describe(m)}" : "");
        return problems.Count == 0
            ? Pass(QuoteCheckKind.Clock, $"{reported}{against}")
            : Fail(QuoteCheckKind.Clock, $"{string.Join("; ", problems)} [{reported}{against}]");

        // resetCount only grows (TPM2_Clear sets it to 0); restartCount grows until the next TPM
        // Reset; Clock never goes back (Part 2 §10.11.1).
        void NotBefore(TpmsClockInfo before, string whose)
        {
            if (now.ResetCount < before.ResetCount)
            {
                problems.Add($"resetCount went back from {whose} {before.ResetCount} to {now.ResetCount} (a TPM2_Clear, or another TPM)");
            }
            else if (now.ResetCount == before.ResetCount && now.RestartCount < before.RestartCount)
            {
                problems.Add($"restartCount went back from {whose} {before.RestartCount} to {now.RestartCount} without a TPM Reset");
            }

            if (now.Clock < before.Clock)
            {
                problems.Add($"clock went back from {whose} {before.Clock} ms to {now.Clock} ms");
            }
        }
    }

    private static QuoteCheck CheckFirmware(QuoteVerificationRequest request, TpmsAttest attest)
    {
        var version = $"firmwareVersion 0x{attest.FirmwareVersion:x16}";
        var problems = new List<string>();
        var compared = false;
        if (request.ExpectedFirmwareVersion is { } expected)
        {
            compared = true;
            if (attest.FirmwareVersion != expected)
            {
                problems.Add($"{version} is not the expected 0x{expected:x16}");
            }
        }

        if (request.PreviousQuote is { } previous && CryptographicOperations.FixedTimeEquals(previous.QualifiedSigner, attest.QualifiedSigner))
        {
            // A different signer is reported by the clock check; its firmware value is offset differently.
            compared = true;
            if (attest.FirmwareVersion != previous.FirmwareVersion)
            {
                problems.Add($"{version} differs from the previous quote's 0x{previous.FirmwareVersion:x16} (the TPM firmware changed)");
            }
        }

        if (!compared)
        {
            return Skip(QuoteCheckKind.FirmwareVersion, $"{version}; no expected version or previous quote to compare with");
        }

        return problems.Count == 0
            ? Pass(QuoteCheckKind.FirmwareVersion, version)
            : Fail(QuoteCheckKind.FirmwareVersion, string.Join("; ", problems));
    }

    private static string Describe(TpmsClockInfo clock) =>
        string.Create(CultureInfo.InvariantCulture, $"clock {clock.Clock} ms, resetCount {clock.ResetCount}, restartCount {clock.RestartCount}, safe {(clock.Safe ? "yes" : "no")}");

    private static string Describe(TpmaObject a)
    {
        var names = new List<string>();
        foreach (var (flag, name) in AttributeNames)
        {
            if ((a & flag) != 0)
            {
                names.Add(name);
            }
        }

        return names.Count == 0 ? "none" : string.Join('|', names);
    }

    private static readonly (TpmaObject Flag, string Name)[] AttributeNames =
    [
        (TpmaObject.FixedTpm, "fixedTPM"), (TpmaObject.StClear, "stClear"), (TpmaObject.FixedParent, "fixedParent"),
        (TpmaObject.SensitiveDataOrigin, "sensitiveDataOrigin"), (TpmaObject.UserWithAuth, "userWithAuth"),
        (TpmaObject.AdminWithPolicy, "adminWithPolicy"), (TpmaObject.NoDA, "noDA"), (TpmaObject.EncryptedDuplication, "encryptedDuplication"),
        (TpmaObject.Restricted, "restricted"), (TpmaObject.Decrypt, "decrypt"), (TpmaObject.Sign, "sign"), (TpmaObject.X509Sign, "x509sign"),
    ];

    private static string Describe(PcrSelectionList selection) => Describe(selection.Enumerate());

    private static string Describe(IEnumerable<(TpmAlgId Bank, int Pcr)> pairs)
    {
        // Bank by bank in first-seen order: sha256:0,1+sha1:7.
        var banks = new List<(TpmAlgId Bank, List<int> Pcrs)>();
        foreach (var (bank, pcr) in pairs)
        {
            var at = banks.FindIndex(b => b.Bank == bank);
            if (at < 0)
            {
                banks.Add((bank, [pcr]));
            }
            else
            {
                banks[at].Pcrs.Add(pcr);
            }
        }

        return banks.Count == 0 ? "nothing" : string.Join('+', banks.Select(b => $"{PcrValues.BankName(b.Bank)}:{string.Join(',', b.Pcrs)}"));
    }

    private static QuoteCheck Pass(QuoteCheckKind kind, string detail) => new(kind, QuoteCheckStatus.Passed, detail);

    private static QuoteCheck Fail(QuoteCheckKind kind, string detail) => new(kind, QuoteCheckStatus.Failed, detail);

    private static QuoteCheck Skip(QuoteCheckKind kind, string detail) => new(kind, QuoteCheckStatus.Skipped, detail);
}
