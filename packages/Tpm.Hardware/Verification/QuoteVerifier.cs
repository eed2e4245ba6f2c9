using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>What a verifier needs to check a TPM2_Quote.</summary>
/// <param name="SigningKey">The public area of the key that signed the quote (an AK).</param>
/// <param name="QuoteMessage">The marshalled TPMS_ATTEST the TPM signed (tpm2_quote <c>-m</c>).</param>
/// <param name="Signature">The signature over it.</param>
/// <param name="ExpectedNonce">The qualifying data the verifier sent (TPMS_ATTEST.extraData must equal it).</param>
/// <param name="PcrValues">The PCR values the prover reports; every PCR the quote selects needs one.</param>
public sealed record QuoteVerificationRequest(TpmtPublic SigningKey, byte[] QuoteMessage, TpmtSignature Signature, byte[] ExpectedNonce, PcrValues PcrValues)
{
    /// <summary>The PCR selection the verifier asked for; when set, the quote's selection must equal it.</summary>
    public PcrSelectionList? ExpectedSelection { get; init; }
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
}

/// <summary>How a check ended.</summary>
public enum QuoteCheckStatus
{
    /// <summary>The check passed.</summary>
    Passed,

    /// <summary>The check failed; the quote is not valid.</summary>
    Failed,

    /// <summary>The check could not be made (no expected selection given, or the message did not parse).</summary>
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
}

/// <summary>
/// Verifies a TPM2_Quote without a TPM (TPM 2.0 Part 3 §18.4): the structure is TPM-generated,
/// is a quote, carries the verifier's nonce, is signed by the given key, selects the expected
/// PCRs, and its pcrDigest matches the reported PCR values. An invalid or malformed quote is a
/// result with named failures, never an exception.
/// </summary>
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

        var checks = new List<QuoteCheck>();
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

        var signature = TpmSignatureVerifier.CheckMessage(request.SigningKey, request.QuoteMessage, request.Signature);
        checks.Add(signature.IsValid
            ? Pass(QuoteCheckKind.Signature, $"{request.Signature.SigAlg}/{request.Signature.Hash} signature verifies with the key")
            : Fail(QuoteCheckKind.Signature, signature.FailureReason ?? "the signature does not verify"));

        if (attest?.Attested is QuoteInfo quote)
        {
            checks.Add(CheckSelection(quote.PcrSelect, request.ExpectedSelection));
            checks.Add(CheckDigest(quote, request.Signature.Hash, request.PcrValues));
        }
        else
        {
            const string why = "no TPMS_QUOTE_INFO to check";
            checks.Add(new QuoteCheck(QuoteCheckKind.PcrSelection, QuoteCheckStatus.Skipped, why));
            checks.Add(new QuoteCheck(QuoteCheckKind.PcrDigest, QuoteCheckStatus.Skipped, why));
        }

        return new QuoteVerificationResult(checks.ToArray(), attest);
    }

    private static QuoteCheck CheckSelection(PcrSelectionList quoted, PcrSelectionList? expected)
    {
        if (expected is null)
        {
            return new QuoteCheck(QuoteCheckKind.PcrSelection, QuoteCheckStatus.Skipped, $"no expected selection given; the quote selects {Describe(quoted)}");
        }

        // Compare (bank, PCR) in TPM order: the same PCRs in the same bank order, whatever the
        // sizeofSelect of each bitmap; banks with nothing selected add nothing to the digest.
        return quoted.Enumerate().SequenceEqual(expected.Enumerate())
            ? Pass(QuoteCheckKind.PcrSelection, Describe(quoted))
            : Fail(QuoteCheckKind.PcrSelection, $"the quote selects {Describe(quoted)}, expected {Describe(expected)}");
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
            return Fail(QuoteCheckKind.PcrDigest, $"no reported value for {string.Join(", ", missing.Select(m => $"{PcrValues.BankName(m.Bank)}:{m.Pcr}"))}");
        }

        var computed = values.ComputeDigest(quote.PcrSelect, hash);
        return CryptographicOperations.FixedTimeEquals(computed, quote.PcrDigest)
            ? Pass(QuoteCheckKind.PcrDigest, $"{PcrValues.BankName(hash)} digest of the reported values matches")
            : Fail(QuoteCheckKind.PcrDigest, $"pcrDigest {Convert.ToHexStringLower(quote.PcrDigest)} is not the {PcrValues.BankName(hash)} digest of the reported values {Convert.ToHexStringLower(computed)}");
    }

    private static string Describe(PcrSelectionList selection) =>
        selection.Selections.Count == 0 ? "nothing" : string.Join('+', selection.Selections.Select(s => $"{PcrValues.BankName(s.Hash)}:{string.Join(',', s.Pcrs)}"));

    private static QuoteCheck Pass(QuoteCheckKind kind, string detail) => new(kind, QuoteCheckStatus.Passed, detail);

    private static QuoteCheck Fail(QuoteCheckKind kind, string detail) => new(kind, QuoteCheckStatus.Failed, detail);
}
