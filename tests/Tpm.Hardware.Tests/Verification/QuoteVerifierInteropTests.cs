using TrustStack.Tests.Shared;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

/// <summary>Quotes made by swtpm through tpm2-tools, verified by <see cref="QuoteVerifier"/>.</summary>
[Collection(SwtpmCollection.Name)]
public sealed class QuoteVerifierInteropTests(SwtpmQuoteFixture tpm)
{
    private static readonly byte[] Nonce = Convert.FromHexString(SwtpmQuoteFixture.NonceHex);

    [Fact]
    public void Verify_EccQuoteWithSerializedPcrsAndTssSignature_IsValid()
    {
        var result = QuoteVerifier.Verify(Request("ak.pub", "quote.msg", "quote.sig", "pcrs.ser"));

        AssertValid(result);
        Assert.Equal(PcrSelectionList.Parse(SwtpmQuoteFixture.PcrList).Enumerate(), result.QuoteInfo!.PcrSelect.Enumerate());
    }

    [Fact]
    public void Verify_EccQuoteWithValuesPcrsAndPlainSignature_IsValid()
    {
        var key = TpmtPublic.Parse(tpm.Read("ak.pub"));
        var message = tpm.Read("quote-plain.msg");
        var selection = ((QuoteInfo)TpmsAttest.Parse(message).Attested).PcrSelect;
        var signature = TpmSignatureVerifier.ParseSignature(tpm.Read("quote-plain.sig"), key, TpmAlgId.Sha256);
        var values = PcrValues.ParseValues(tpm.Read("pcrs.val"), selection);

        var result = QuoteVerifier.Verify(new QuoteVerificationRequest(key, message, signature, Nonce, values) { ExpectedSelection = PcrSelectionList.Parse(SwtpmQuoteFixture.PcrList) });

        AssertValid(result);
        Assert.Equal(TpmAlgId.Ecdsa, signature.SigAlg);
    }

    [Fact]
    public void Verify_RsassaQuote_IsValid() => AssertValid(QuoteVerifier.Verify(Request("akrsa.pub", "quote-rsa.msg", "quote-rsa.sig", "pcrs-rsa.ser")));

    [Fact]
    public void Verify_RsassaQuoteWithPlainSignature_IsValid() =>
        AssertValid(QuoteVerifier.Verify(Request("akrsa.pub", "quote-rsa-plain.msg", "quote-rsa-plain.sig", "pcrs-rsa-plain.ser")));

    [Fact]
    public void Verify_RsapssQuote_IsValid()
    {
        var request = Request("akpss.pub", "quote-pss.msg", "quote-pss.sig", "pcrs-pss.ser");

        AssertValid(QuoteVerifier.Verify(request));
        Assert.Equal(TpmAlgId.Rsapss, request.Signature.SigAlg);
    }

    [Fact]
    public void Verify_PemPublicKeyFromTpmTools_IsValidSayingTheAttributesWereNotChecked()
    {
        var pem = TpmPublicKeys.Parse(tpm.Read("ak.pem"), out var form);
        var request = Request("ak.pub", "quote.msg", "quote.sig", "pcrs.ser") with { SigningKey = pem, SigningKeyForm = form };

        var result = QuoteVerifier.Verify(request);

        AssertValid(result);
        Assert.Equal(PublicKeyForm.SubjectPublicKeyInfo, form);
        Assert.Contains(result.SkippedChecks, c => c.Kind == QuoteCheckKind.SigningKey && c.Detail.Contains("could not be checked", StringComparison.Ordinal));
        Assert.False(QuoteVerifier.Verify(request with { RequireKnownKeyAttributes = true }).IsValid);
    }

    [Fact]
    public void Verify_TpmToolsQuoteWithEveryExpectation_IsValid()
    {
        // quote-plain.msg was made after quote.msg by the same AK.
        var request = Request("ak.pub", "quote.msg", "quote.sig", "pcrs.ser");
        var plain = tpm.Read("quote-plain.msg");
        var later = request with
        {
            QuoteMessage = plain,
            Signature = TpmSignatureVerifier.ParseSignature(tpm.Read("quote-plain.sig"), request.SigningKey, TpmAlgId.Sha256),
            RequireAttestationKey = true,
            ExpectedQualifiedSigner = tpm.Read("ak.qname"),
            PreviousQuote = TpmsAttest.Parse(request.QuoteMessage),
        };

        var result = QuoteVerifier.Verify(later);

        AssertValid(result);
        Assert.Empty(result.SkippedChecks);
        Assert.True(result.ClockInfo!.Clock > later.PreviousQuote.ClockInfo.Clock);
    }

    [Fact]
    public void Attack_EarlierQuoteAfterALaterOne_FailsClock()
    {
        var request = Request("ak.pub", "quote.msg", "quote.sig", "pcrs.ser") with { PreviousQuote = TpmsAttest.Parse(tpm.Read("quote-plain.msg")) };

        var result = QuoteVerifier.Verify(request);

        Assert.Equal([QuoteCheckKind.Clock], result.FailedChecks.Select(c => c.Kind));
        Assert.Contains("clock went back", result.Failures[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_QuoteOfAnotherAkWithThisAksQualifiedName_FailsQualifiedSigner()
    {
        var request = Request("ak2.pub", "quote-ak2.msg", "quote-ak2.sig", "pcrs-ak2.ser") with { ExpectedQualifiedSigner = tpm.Read("ak.qname") };

        Assert.Equal([QuoteCheckKind.QualifiedSigner], QuoteVerifier.Verify(request).FailedChecks.Select(c => c.Kind));
    }

    [Fact]
    public void GetQualifiedName_TpmToolsAkUnderTheEk_MatchesTpm2ReadpublicQualifiedName()
    {
        // tpm2_createak makes the AK a child of the EK, a primary of the endorsement hierarchy.
        var ek = TpmtPublic.Parse(tpm.Read("ek.pub"));
        var ak = TpmtPublic.Parse(tpm.Read("ak.pub"));

        var qualifiedName = ak.GetQualifiedName(ek.GetPrimaryQualifiedName(TpmRh.Endorsement));

        Assert.Equal(tpm.Read("ak.qname"), qualifiedName);
        Assert.Equal(qualifiedName, TpmsAttest.Parse(tpm.Read("quote.msg")).QualifiedSigner);
    }

    [Fact]
    public void Verify_WrongNonce_FailsNonceOnly()
    {
        var request = Request("ak.pub", "quote.msg", "quote.sig", "pcrs.ser") with { ExpectedNonce = Convert.FromHexString("0123456789abcdef0011223344556678") };

        var result = QuoteVerifier.Verify(request);

        Assert.False(result.IsValid);
        Assert.Equal([QuoteCheckKind.Nonce], result.FailedChecks.Select(c => c.Kind));
    }

    [Fact]
    public void Verify_TamperedPcrValue_FailsPcrDigestOnly()
    {
        var request = Request("ak.pub", "quote.msg", "quote.sig", "pcrs.ser");
        var tampered = request.PcrValues[TpmAlgId.Sha256, 10];
        tampered[0] ^= 1;
        request = request with { PcrValues = request.PcrValues.With(TpmAlgId.Sha256, 10, tampered) };

        var result = QuoteVerifier.Verify(request);

        Assert.False(result.IsValid);
        Assert.Equal([QuoteCheckKind.PcrDigest], result.FailedChecks.Select(c => c.Kind));
    }

    [Fact]
    public void Verify_TamperedMessage_FailsSignature()
    {
        var request = Request("ak.pub", "quote.msg", "quote.sig", "pcrs.ser");
        var message = (byte[])request.QuoteMessage.Clone();
        message[67] ^= 0x01; // low octet of TPMS_CLOCK_INFO.clock (after magic, type, 34-octet signer, 16-octet nonce): still parses, no longer signed

        var result = QuoteVerifier.Verify(request with { QuoteMessage = message });

        Assert.False(result.IsValid);
        Assert.Contains(QuoteCheckKind.Signature, result.FailedChecks.Select(c => c.Kind));
        Assert.NotNull(result.Attest);
    }

    [Fact]
    public void Verify_SignatureFromAnotherKey_FailsSignatureOnly()
    {
        // A quote signed by AK2, presented as AK1's.
        var request = Request("ak.pub", "quote-ak2.msg", "quote-ak2.sig", "pcrs-ak2.ser");

        var result = QuoteVerifier.Verify(request);

        Assert.False(result.IsValid);
        Assert.Equal([QuoteCheckKind.Signature], result.FailedChecks.Select(c => c.Kind));
    }

    [Fact]
    public void Verify_OtherExpectedSelection_FailsPcrSelection()
    {
        var request = Request("ak.pub", "quote.msg", "quote.sig", "pcrs.ser") with { ExpectedSelection = PcrSelectionList.Parse("sha256:0,1,2,3,10,16") };

        var result = QuoteVerifier.Verify(request);

        Assert.Equal([QuoteCheckKind.PcrSelection], result.FailedChecks.Select(c => c.Kind));
    }

    [Fact]
    public void ParseSerialized_TpmToolsFile_HasTheSelectionAndTheExtendedValues()
    {
        var values = PcrValues.ParseSerialized(tpm.Read("pcrs.ser"), out var selection);

        Assert.Equal(PcrSelectionList.Parse(SwtpmQuoteFixture.PcrList).Enumerate(), selection.Enumerate());
        var expectedPcr3 = TpmHash.Extend(TpmAlgId.Sha256, new byte[32], Convert.FromHexString(new string('c', 64)));
        Assert.Equal(expectedPcr3, values[TpmAlgId.Sha256, 3]);
        var expectedSha1Pcr0 = TpmHash.Extend(TpmAlgId.Sha1, new byte[20], Convert.FromHexString(new string('b', 40)));
        Assert.Equal(expectedSha1Pcr0, values[TpmAlgId.Sha1, 0]);
        Assert.Equal(new byte[32], values[TpmAlgId.Sha256, 1]);
    }

    [Fact]
    public void ParseSerialized_TpmToolsFile_AgreesWithValuesFile()
    {
        var serialized = PcrValues.ParseSerialized(tpm.Read("pcrs.ser"), out var selection);
        var values = PcrValues.ParseValues(tpm.Read("pcrs.val"), selection);

        Assert.Equal(serialized, values);
    }

    [Fact]
    public void ToSerializedFormat_SameValues_IsByteIdenticalToTpmTools()
    {
        var file = tpm.Read("pcrs.ser");
        var values = PcrValues.ParseSerialized(file, out var selection);

        Assert.Equal(file, values.ToSerializedFormat(selection));
    }

    [Fact]
    public void ToSerializedFormat_TamperedValue_IsRejectedByTpm2Checkquote()
    {
        // tpm2_checkquote accepts the untouched files and rejects our re-serialization of a tampered value:
        // the tool reads our writer's output and agrees with our verdict.
        var values = PcrValues.ParseSerialized(tpm.Read("pcrs.ser"), out var selection);
        var bad = values[TpmAlgId.Sha256, 0];
        bad[^1] ^= 0x80;
        File.WriteAllBytes(tpm.PathOf("pcrs-tampered.ser"), values.With(TpmAlgId.Sha256, 0, bad).ToSerializedFormat(selection));

        var good = Checkquote("pcrs.ser");
        var tampered = Checkquote("pcrs-tampered.ser");

        Assert.True(good.ExitCode == 0, good.Error);
        Assert.NotEqual(0, tampered.ExitCode);
    }

    [Fact]
    public void ExportSubjectPublicKeyInfoPem_TpmToolsAk_MatchesTpmToolsPem()
    {
        var ours = TpmPublicKeys.ExportSubjectPublicKeyInfoPem(TpmtPublic.Parse(tpm.Read("ak.pub")));
        var theirs = File.ReadAllText(tpm.PathOf("ak.pem"));

        Assert.Equal(theirs.Trim(), ours.Trim());
    }

    [Fact]
    public void Name_TpmToolsAk_MatchesTpmToolsNameFile()
    {
        var name = TpmtPublic.Parse(tpm.Read("ak.pub")).GetName();

        Assert.Equal(tpm.Read("ak.name"), name);
    }

    private (int ExitCode, string Output, string Error) Checkquote(string pcrs) =>
        PeerTools.Run("tpm2_checkquote", ["-u", "ak.pem", "-m", "quote.msg", "-s", "quote.sig", "-f", pcrs, "-q", SwtpmQuoteFixture.NonceHex, "-g", "sha256"], workingDirectory: tpm.Directory);

    private QuoteVerificationRequest Request(string key, string message, string signature, string pcrs)
    {
        var publicKey = TpmtPublic.Parse(tpm.Read(key));
        var values = PcrValues.ParseSerialized(tpm.Read(pcrs), out _);
        var sig = TpmSignatureVerifier.ParseSignature(tpm.Read(signature), publicKey, TpmAlgId.Sha256);
        return new QuoteVerificationRequest(publicKey, tpm.Read(message), sig, Nonce, values)
        {
            ExpectedSelection = PcrSelectionList.Parse(SwtpmQuoteFixture.PcrList),
        };
    }

    private static void AssertValid(QuoteVerificationResult result) =>
        Assert.True(result.IsValid, string.Join("; ", result.Failures));
}
