using System.Security.Cryptography;
using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

/// <summary>Quotes built and signed here (no TPM): each check of <see cref="QuoteVerifier"/> fails on its own.</summary>
public sealed class QuoteVerifierTests
{
    private static readonly ECDsa Ak = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly byte[] Nonce = [1, 2, 3, 4, 5, 6, 7, 8];
    private static readonly PcrSelectionList Selection = PcrSelectionList.Parse("sha256:0,7+sha1:0");
    private static readonly PcrValues Values = PcrValues.Create(Selection.Enumerate().Select(p => (p.Bank, p.Pcr, TpmHash.Hash(p.Bank, [(byte)p.Pcr]))));

    [Fact]
    public void Verify_WellFormedQuote_IsValidWithEveryCheckPassed()
    {
        var result = QuoteVerifier.Verify(Request());

        Assert.True(result.IsValid, string.Join("; ", result.Failures));
        Assert.Equal(Enum.GetValues<QuoteCheckKind>(), result.Checks.Select(c => c.Kind));
        Assert.All(result.Checks, c => Assert.Equal(QuoteCheckStatus.Passed, c.Status));
        Assert.Empty(result.Failures);
    }

    [Fact]
    public void Verify_NoExpectedSelection_SkipsThatCheckAndStaysValid()
    {
        var result = QuoteVerifier.Verify(Request() with { ExpectedSelection = null });

        Assert.True(result.IsValid);
        Assert.Equal(QuoteCheckStatus.Skipped, result.Checks.Single(c => c.Kind == QuoteCheckKind.PcrSelection).Status);
    }

    [Fact]
    public void Verify_MagicNotTpmGenerated_FailsMagic() =>
        AssertOnlyFailure(QuoteVerifier.Verify(Request(Attest() with { Magic = 0xff544346 })), QuoteCheckKind.Magic);

    [Fact]
    public void Verify_CertifyInsteadOfQuote_FailsType()
    {
        var certify = Attest() with { Attested = new CertifyInfo([0, 11, .. new byte[32]], [0, 11, .. new byte[32]]) };

        var result = QuoteVerifier.Verify(Request(certify));

        Assert.False(result.IsValid);
        Assert.Contains(QuoteCheckKind.Type, result.FailedChecks.Select(c => c.Kind));
        Assert.Equal(QuoteCheckStatus.Skipped, result.Checks.Single(c => c.Kind == QuoteCheckKind.PcrDigest).Status);
    }

    [Fact]
    public void Verify_OtherNonce_FailsNonce() =>
        AssertOnlyFailure(QuoteVerifier.Verify(Request() with { ExpectedNonce = [1, 2, 3, 4, 5, 6, 7, 9] }), QuoteCheckKind.Nonce);

    [Fact]
    public void Verify_NoncePrefix_FailsNonce() =>
        AssertOnlyFailure(QuoteVerifier.Verify(Request() with { ExpectedNonce = Nonce[..7] }), QuoteCheckKind.Nonce);

    [Fact]
    public void Verify_SignatureOverOtherMessage_FailsSignature()
    {
        var request = Request();
        var other = Request(Attest() with { FirmwareVersion = 2 });

        AssertOnlyFailure(QuoteVerifier.Verify(request with { Signature = other.Signature }), QuoteCheckKind.Signature);
    }

    [Fact]
    public void Verify_OtherSelectionExpected_FailsPcrSelection() =>
        AssertOnlyFailure(QuoteVerifier.Verify(Request() with { ExpectedSelection = PcrSelectionList.Parse("sha256:0,7") }), QuoteCheckKind.PcrSelection);

    [Fact]
    public void Verify_ExpectedSelectionWithOtherBankOrder_FailsPcrSelection() =>
        AssertOnlyFailure(QuoteVerifier.Verify(Request() with { ExpectedSelection = PcrSelectionList.Parse("sha1:0+sha256:0,7") }), QuoteCheckKind.PcrSelection);

    [Fact]
    public void Verify_ExpectedSelectionWithFourOctetBitmap_Passes()
    {
        var wide = new PcrSelectionList([new PcrSelection(TpmAlgId.Sha256, [0x81, 0, 0, 0]), new PcrSelection(TpmAlgId.Sha1, [1, 0, 0, 0])]);

        Assert.True(QuoteVerifier.Verify(Request() with { ExpectedSelection = wide }).IsValid);
    }

    [Fact]
    public void Verify_TamperedPcrValue_FailsPcrDigest()
    {
        var tampered = Values.With(TpmAlgId.Sha1, 0, new byte[20]);

        AssertOnlyFailure(QuoteVerifier.Verify(Request() with { PcrValues = tampered }), QuoteCheckKind.PcrDigest);
    }

    [Fact]
    public void Verify_MissingPcrValue_FailsPcrDigestNamingThePcr()
    {
        var partial = PcrValues.Create(Selection.Enumerate().Where(p => p.Pcr != 7).Select(p => (p.Bank, p.Pcr, Values[p.Bank, p.Pcr])));

        var result = QuoteVerifier.Verify(Request() with { PcrValues = partial });

        AssertOnlyFailure(result, QuoteCheckKind.PcrDigest);
        Assert.Contains("sha256:7", result.Failures[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ExtraPcrValues_AreIgnored()
    {
        Assert.True(QuoteVerifier.Verify(Request() with { PcrValues = Values.With(TpmAlgId.Sha256, 23, new byte[32]) }).IsValid);
    }

    [Fact]
    public void Attack_QuoteOfPcr0AgainstValuesFor0And16WithoutExpectedSelection_FailsPcrSelection()
    {
        // The quote covers sha256:0 only; the prover reports values for 0 and 16 and the verifier,
        // giving no selection, means the values it was handed: PCR 16 is not quoted.
        var quoted = PcrSelectionList.Parse("sha256:0");
        var values = PcrValues.Create([(TpmAlgId.Sha256, 0, new byte[32]), (TpmAlgId.Sha256, 16, TpmHash.Hash(TpmAlgId.Sha256, "unquoted"u8))]);
        var attest = Attest() with { Attested = new QuoteInfo(quoted, values.ComputeDigest(quoted, TpmAlgId.Sha256)) };

        var result = QuoteVerifier.Verify(Request(attest) with { PcrValues = values, ExpectedSelection = null });

        Assert.False(result.IsValid);
        Assert.Contains(result.Failures, f => f.StartsWith("PcrSelection:", StringComparison.Ordinal) && f.Contains("sha256:0,16", StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_GarbageMessage_FailsStructureWithoutThrowing()
    {
        var result = QuoteVerifier.Verify(Request() with { QuoteMessage = [0xff, 0x54, 0x43] });

        Assert.False(result.IsValid);
        Assert.Null(result.Attest);
        Assert.Contains(QuoteCheckKind.Structure, result.FailedChecks.Select(c => c.Kind));
    }

    [Property(MaxTest = 300)]
    public bool Verify_AnyChangedOctet_IsInvalid(NonNegativeInt position, byte mask)
    {
        var request = Request();
        var message = (byte[])request.QuoteMessage.Clone();
        message[position.Get % message.Length] ^= mask == 0 ? (byte)0x80 : mask;

        var result = QuoteVerifier.Verify(request with { QuoteMessage = message });

        return !result.IsValid && result.FailedChecks.Any(c => c.Kind is QuoteCheckKind.Signature or QuoteCheckKind.Structure);
    }

    [Property(MaxTest = 200)]
    public bool Verify_AnyMessageOctets_ReturnsAResult(byte[] message) =>
        !QuoteVerifier.Verify(Request() with { QuoteMessage = message }).IsValid;

    private static void AssertOnlyFailure(QuoteVerificationResult result, QuoteCheckKind kind)
    {
        Assert.False(result.IsValid);
        Assert.Equal([kind], result.FailedChecks.Select(c => c.Kind));
    }

    private static TpmsAttest Attest() => new(
        TpmsAttest.GeneratedValue,
        [0, 11, .. new byte[32]],
        Nonce,
        new TpmsClockInfo(1000, 1, 0, true),
        0x2019_1023_0016_3636,
        new QuoteInfo(Selection, Values.ComputeDigest(Selection, TpmAlgId.Sha256)));

    private static QuoteVerificationRequest Request(TpmsAttest? attest = null)
    {
        var message = (attest ?? Attest()).ToBytes();
        var ieee = Ak.SignData(message, HashAlgorithmName.SHA256);
        var signature = TpmtSignature.Ecc(TpmAlgId.Ecdsa, TpmAlgId.Sha256, ieee[..32], ieee[32..]);
        return new QuoteVerificationRequest(TpmPublicKeys.FromECDsa(Ak), message, signature, Nonce, Values) { ExpectedSelection = Selection };
    }
}
