using System.Security.Cryptography;
using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

/// <summary>Quotes built and signed here (no TPM): each check of <see cref="QuoteVerifier"/> fails on its own.</summary>
public sealed class QuoteVerifierTests
{
    private const ulong Firmware = 0x2019_1023_0016_3636;
    private static readonly ECDsa Ak = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    // The AK as a TPM holds it: tpm2_createak's attributes and scheme (ECDSA-SHA256).
    private static readonly TpmtPublic AkPublic = TpmPublicKeys.FromECDsa(Ak, scheme: new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256)) with { ObjectAttributes = TpmTemplates.AkAttributes };
    private static readonly byte[] QualifiedSigner = AkPublic.GetPrimaryQualifiedName(TpmRh.Endorsement);
    private static readonly byte[] Nonce = [1, 2, 3, 4, 5, 6, 7, 8];
    private static readonly PcrSelectionList Selection = PcrSelectionList.Parse("sha256:0,7+sha1:0");
    private static readonly PcrValues Values = PcrValues.Create(Selection.Enumerate().Select(p => (p.Bank, p.Pcr, TpmHash.Hash(p.Bank, [(byte)p.Pcr]))));

    [Fact]
    public void Verify_WellFormedQuoteWithEveryExpectation_IsValidWithEveryCheckPassed()
    {
        var request = Request() with
        {
            RequireAttestationKey = true,
            ExpectedQualifiedSigner = QualifiedSigner,
            PreviousQuote = Attest() with { ClockInfo = new TpmsClockInfo(900, 1, 0, true) },
            RequireSafeClock = true,
            ExpectedFirmwareVersion = Firmware,
        };

        var result = QuoteVerifier.Verify(request);

        Assert.True(result.IsValid, string.Join("; ", result.Failures));
        Assert.Equal(
            [QuoteCheckKind.Structure, QuoteCheckKind.Magic, QuoteCheckKind.Type, QuoteCheckKind.Nonce, QuoteCheckKind.SigningKey, QuoteCheckKind.SignatureScheme,
             QuoteCheckKind.Signature, QuoteCheckKind.QualifiedSigner, QuoteCheckKind.PcrSelection, QuoteCheckKind.PcrDigest, QuoteCheckKind.Clock, QuoteCheckKind.FirmwareVersion],
            result.Checks.Select(c => c.Kind));
        Assert.Equal(Enum.GetValues<QuoteCheckKind>().Order(), result.Checks.Select(c => c.Kind).Order());
        Assert.All(result.Checks, c => Assert.Equal(QuoteCheckStatus.Passed, c.Status));
        Assert.Empty(result.Failures);
    }

    [Fact]
    public void Verify_NoExpectations_ReportsClockInfoAndFirmwareAsSkipped()
    {
        var result = QuoteVerifier.Verify(Request());

        Assert.True(result.IsValid);
        Assert.Equal(new TpmsClockInfo(1000, 1, 0, true), result.ClockInfo);
        Assert.Equal(Firmware, result.FirmwareVersion);
        Assert.Equal([QuoteCheckKind.Clock, QuoteCheckKind.FirmwareVersion], result.SkippedChecks.Select(c => c.Kind));
        Assert.Contains("clock 1000 ms, resetCount 1, restartCount 0, safe yes", result.SkippedChecks[0].Detail, StringComparison.Ordinal);
        Assert.Contains("0x2019102300163636", result.SkippedChecks[1].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_NoExpectedSelection_ReportedValuesDefineItAndPass()
    {
        var result = QuoteVerifier.Verify(Request() with { ExpectedSelection = null });

        Assert.True(result.IsValid, string.Join("; ", result.Failures));
        Assert.Equal(QuoteCheckStatus.Passed, result.Checks.Single(c => c.Kind == QuoteCheckKind.PcrSelection).Status);
    }

    [Fact]
    public void Verify_NoExpectedSelectionAndAValueMissing_FailsPcrSelectionAndPcrDigest()
    {
        var partial = PcrValues.Create(Selection.Enumerate().Where(p => p.Pcr != 7).Select(p => (p.Bank, p.Pcr, Values[p.Bank, p.Pcr])));

        var result = QuoteVerifier.Verify(Request() with { ExpectedSelection = null, PcrValues = partial });

        Assert.Equal([QuoteCheckKind.PcrSelection, QuoteCheckKind.PcrDigest], result.FailedChecks.Select(c => c.Kind));
        Assert.Contains("sha256:7 quoted without a reported value", result.Failures[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_NoExpectedSelectionAndAPcrSelectedTwice_FailsPcrSelection()
    {
        var twice = new PcrSelectionList([PcrSelection.Create(TpmAlgId.Sha256, 0, 7), PcrSelection.Create(TpmAlgId.Sha256, 7), PcrSelection.Create(TpmAlgId.Sha1, 0)]);
        var attest = Attest() with { Attested = new QuoteInfo(twice, Values.ComputeDigest(twice, TpmAlgId.Sha256)) };

        AssertOnlyFailure(QuoteVerifier.Verify(Request(attest) with { ExpectedSelection = null }), QuoteCheckKind.PcrSelection);
    }

    [Fact]
    public void Attack_UnrestrictedSigningKey_FailsSigningKeyNamingRestricted()
    {
        var result = QuoteVerifier.Verify(Request(key: AkPublic with { ObjectAttributes = TpmTemplates.SigningKeyAttributes }));

        AssertOnlyFailure(result, QuoteCheckKind.SigningKey);
        Assert.Contains("restricted is CLEAR", result.Failures[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_KeyWithoutSign_FailsSigningKey()
    {
        var result = QuoteVerifier.Verify(Request(key: AkPublic with { ObjectAttributes = TpmTemplates.AkAttributes & ~TpmaObject.Sign }));

        AssertOnlyFailure(result, QuoteCheckKind.SigningKey);
        Assert.Contains("sign is CLEAR", result.Failures[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RestrictedKeyThatAlsoDecrypts_FailsSigningKey()
    {
        var result = QuoteVerifier.Verify(Request(key: AkPublic with { ObjectAttributes = TpmTemplates.AkAttributes | TpmaObject.Decrypt }));

        AssertOnlyFailure(result, QuoteCheckKind.SigningKey);
        Assert.Contains("both sign and decrypt", result.Failures[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TpmaObject.FixedTpm, "fixedTPM is CLEAR")]
    [InlineData(TpmaObject.FixedParent, "fixedParent is CLEAR")]
    public void Verify_AttestationKeyRequiredButDuplicable_FailsSigningKey(TpmaObject missing, string reason)
    {
        var key = AkPublic with { ObjectAttributes = TpmTemplates.AkAttributes & ~missing };

        Assert.True(QuoteVerifier.Verify(Request(key: key)).IsValid);
        var result = QuoteVerifier.Verify(Request(key: key) with { RequireAttestationKey = true });

        AssertOnlyFailure(result, QuoteCheckKind.SigningKey);
        Assert.Contains(reason, result.Failures[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x00000001u)]
    [InlineData(0x00000100u)]
    [InlineData(0x01000000u)]
    public void Verify_ReservedAttributeBitSet_FailsSigningKey(uint bit)
    {
        var result = QuoteVerifier.Verify(Request(key: AkPublic with { ObjectAttributes = TpmTemplates.AkAttributes | (TpmaObject)bit }));

        AssertOnlyFailure(result, QuoteCheckKind.SigningKey);
        Assert.Contains("reserved attribute bits", result.Failures[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RsaKeyBitsNotTheModulusSize_FailsSigningKey()
    {
        using var rsa = RSA.Create(2048);
        var key = TpmPublicKeys.FromRsa(rsa, scheme: new TpmtScheme(TpmAlgId.Rsassa, TpmAlgId.Sha256)) with { ObjectAttributes = TpmTemplates.AkAttributes };
        var message = Attest().ToBytes();
        var signature = TpmtSignature.Rsa(TpmAlgId.Rsassa, TpmAlgId.Sha256, rsa.SignData(message, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        var request = new QuoteVerificationRequest(key, message, signature, Nonce, Values) { ExpectedSelection = Selection };
        Assert.True(QuoteVerifier.Verify(request).IsValid);

        var result = QuoteVerifier.Verify(request with { SigningKey = key with { Parameters = ((RsaParms)key.Parameters) with { KeyBits = 2049 } } });

        AssertOnlyFailure(result, QuoteCheckKind.SigningKey);
        Assert.Contains("keyBits 2049", result.Failures[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_KeyNameAlgNotAHash_FailsSigningKeyAndQualifiedSigner()
    {
        var result = QuoteVerifier.Verify(Request(key: AkPublic with { NameAlg = TpmAlgId.Null }));

        Assert.Equal([QuoteCheckKind.SigningKey, QuoteCheckKind.QualifiedSigner], result.FailedChecks.Select(c => c.Kind));
    }

    [Fact]
    public void Verify_SignatureHashIsNotTheKeysScheme_FailsSignatureScheme()
    {
        var key = AkPublic with { Parameters = ((EccParms)AkPublic.Parameters) with { Scheme = new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha384) } };

        var result = QuoteVerifier.Verify(Request(key: key));

        AssertOnlyFailure(result, QuoteCheckKind.SignatureScheme);
        Assert.Contains("the signature is Ecdsa/Sha256, the key's scheme is Ecdsa/Sha384", result.Failures[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RestrictedKeyWithoutScheme_FailsSignatureScheme()
    {
        var key = AkPublic with { Parameters = ((EccParms)AkPublic.Parameters) with { Scheme = TpmtScheme.Null } };

        AssertOnlyFailure(QuoteVerifier.Verify(Request(key: key)), QuoteCheckKind.SignatureScheme);
    }

    [Fact]
    public void Verify_BarePublicKey_SkipsAttributeChecksSayingSoAndStaysValid()
    {
        var result = QuoteVerifier.Verify(Request(key: TpmPublicKeys.FromECDsa(Ak)) with { SigningKeyForm = PublicKeyForm.SubjectPublicKeyInfo });

        Assert.True(result.IsValid, string.Join("; ", result.Failures));
        var skipped = result.SkippedChecks.Select(c => c.Kind).ToArray();
        Assert.Equal([QuoteCheckKind.SigningKey, QuoteCheckKind.SignatureScheme, QuoteCheckKind.QualifiedSigner, QuoteCheckKind.Clock, QuoteCheckKind.FirmwareVersion], skipped);
        Assert.Contains("attributes could not be checked", result.SkippedChecks[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_BarePublicKeyWithKnownAttributesRequired_FailsSigningKey()
    {
        var request = Request(key: TpmPublicKeys.FromECDsa(Ak)) with { SigningKeyForm = PublicKeyForm.SubjectPublicKeyInfo, RequireKnownKeyAttributes = true };

        var result = QuoteVerifier.Verify(request);

        AssertOnlyFailure(result, QuoteCheckKind.SigningKey);
        Assert.Contains("could not be checked", result.Failures[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Attack_BarePublicKeyReadAsPublicArea_FailsSigningKey()
    {
        // A caller that forgets to say the key came from PEM gets the strict check, not a pass.
        AssertOnlyFailure(QuoteVerifier.Verify(Request(key: TpmPublicKeys.FromECDsa(Ak))), QuoteCheckKind.SigningKey);
    }

    [Fact]
    public void Verify_QualifiedSignerOfAnotherNameAlg_FailsQualifiedSigner() =>
        AssertOnlyFailure(QuoteVerifier.Verify(Request(Attest() with { QualifiedSigner = [0, 4, .. new byte[20]] })), QuoteCheckKind.QualifiedSigner);

    [Fact]
    public void Verify_QualifiedSignerNotTheExpected_FailsQualifiedSigner() =>
        AssertOnlyFailure(QuoteVerifier.Verify(Request() with { ExpectedQualifiedSigner = [0, 11, .. new byte[31], 1] }), QuoteCheckKind.QualifiedSigner);

    [Fact]
    public void Verify_QualifiedSignerOfTheEngine_IsTheKeysQualifiedName()
    {
        // The engine writes the AK's qualified name: a primary of the endorsement hierarchy.
        using var tpm = new Tpm2(new SoftwareTpm(new SoftwareTpmOptions { Seed = 3, AutoStartup = true }), ownsTransport: true);
        var ak = tpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var quote = tpm.Quote(ak.Handle, Nonce, PcrSelectionList.Create(TpmAlgId.Sha256, 16));

        Assert.Equal(ak.Public.GetPrimaryQualifiedName(TpmRh.Endorsement), TpmsAttest.Parse(quote.Quoted).QualifiedSigner);
    }

    [Theory]
    [InlineData(1000, 2, 0, "resetCount went back from the previous quote's 2 to 1")]
    [InlineData(1000, 1, 3, "restartCount went back from the previous quote's 3 to 0")]
    [InlineData(1001, 1, 0, "clock went back from the previous quote's 1001 ms to 1000 ms")]
    public void Attack_ClockInfoBeforeThePreviousQuotes_FailsClock(ulong clock, uint resetCount, uint restartCount, string reason)
    {
        var previous = Attest() with { ClockInfo = new TpmsClockInfo(clock, resetCount, restartCount, true) };

        var result = QuoteVerifier.Verify(Request() with { PreviousQuote = previous });

        AssertOnlyFailure(result, QuoteCheckKind.Clock);
        Assert.Contains(reason, result.Failures[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(999, 1, 0, true)]
    [InlineData(1000, 1, 0, true)]
    [InlineData(1001, 1, 0, false)]
    [InlineData(0, 2, 0, false)]
    public void Verify_MinimumClockInfo_PassesOnlyWhenReached(ulong clock, uint resetCount, uint restartCount, bool passes)
    {
        var result = QuoteVerifier.Verify(Request() with { MinimumClockInfo = new TpmsClockInfo(clock, resetCount, restartCount, true) });

        Assert.Equal(passes ? QuoteCheckStatus.Passed : QuoteCheckStatus.Failed, result.Checks.Single(c => c.Kind == QuoteCheckKind.Clock).Status);
    }

    [Fact]
    public void Verify_PreviousQuoteBeforeAResetWithAHigherRestartCount_PassesClock()
    {
        var previous = Attest() with { ClockInfo = new TpmsClockInfo(500, 0, 9, true) };

        var result = QuoteVerifier.Verify(Request() with { PreviousQuote = previous });

        Assert.True(result.IsValid, string.Join("; ", result.Failures));
        Assert.Equal(QuoteCheckStatus.Passed, result.Checks.Single(c => c.Kind == QuoteCheckKind.Clock).Status);
    }

    [Fact]
    public void Verify_PreviousQuoteOfAnotherSigner_FailsClock()
    {
        var previous = Attest() with { QualifiedSigner = [0, 11, .. new byte[31], 7] };

        var result = QuoteVerifier.Verify(Request() with { PreviousQuote = previous });

        AssertOnlyFailure(result, QuoteCheckKind.Clock);
        Assert.Contains("another qualifiedSigner", result.Failures[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_UnsafeClockWhenSafeRequired_FailsClock()
    {
        var attest = Attest() with { ClockInfo = new TpmsClockInfo(1000, 1, 0, false) };

        Assert.True(QuoteVerifier.Verify(Request(attest)).IsValid);
        AssertOnlyFailure(QuoteVerifier.Verify(Request(attest) with { RequireSafeClock = true }), QuoteCheckKind.Clock);
    }

    [Fact]
    public void Verify_FirmwareNotThePolicys_FailsFirmwareVersion() =>
        AssertOnlyFailure(QuoteVerifier.Verify(Request() with { ExpectedFirmwareVersion = Firmware + 1 }), QuoteCheckKind.FirmwareVersion);

    [Fact]
    public void Verify_FirmwareChangedSinceThePreviousQuote_FailsFirmwareVersion()
    {
        var result = QuoteVerifier.Verify(Request() with { PreviousQuote = Attest() with { FirmwareVersion = Firmware - 1 } });

        AssertOnlyFailure(result, QuoteCheckKind.FirmwareVersion);
        Assert.Contains("the TPM firmware changed", result.Failures[0], StringComparison.Ordinal);
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
        QualifiedSigner,
        Nonce,
        new TpmsClockInfo(1000, 1, 0, true),
        Firmware,
        new QuoteInfo(Selection, Values.ComputeDigest(Selection, TpmAlgId.Sha256)));

    private static QuoteVerificationRequest Request(TpmsAttest? attest = null, TpmtPublic? key = null)
    {
        var message = (attest ?? Attest()).ToBytes();
        var ieee = Ak.SignData(message, HashAlgorithmName.SHA256);
        var signature = TpmtSignature.Ecc(TpmAlgId.Ecdsa, TpmAlgId.Sha256, ieee[..32], ieee[32..]);
        return new QuoteVerificationRequest(key ?? AkPublic, message, signature, Nonce, Values) { ExpectedSelection = Selection };
    }
}
