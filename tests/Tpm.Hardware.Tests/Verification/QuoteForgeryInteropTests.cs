using TrustStack.Tests.Shared;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

/// <summary>
/// The issue-19 forgery against the real peer: tpm2-tools on swtpm make an unrestricted ECDSA key
/// sign a quote structure with invented PCR values (<see cref="TpmToolsForgery"/>).
/// </summary>
[Collection(SwtpmCollection.Name)]
public sealed class QuoteForgeryInteropTests(SwtpmQuoteFixture tpm)
{
    private static readonly byte[] Nonce = Convert.FromHexString(SwtpmQuoteFixture.NonceHex);

    [Fact]
    public void Attack_UnrestrictedKeySignsForgedQuote_RejectedNamingTheRestrictedAttribute()
    {
        var key = TpmtPublic.Parse(tpm.Read(TpmToolsForgery.KeyPublic));
        var message = tpm.Read(TpmToolsForgery.Message);
        var signature = TpmSignatureVerifier.ParseSignature(tpm.Read(TpmToolsForgery.Signature), key, TpmAlgId.Sha256);
        var values = PcrValues.ParseSerialized(tpm.Read(TpmToolsForgery.Pcrs), out _);
        var request = new QuoteVerificationRequest(key, message, signature, Nonce, values) { ExpectedSelection = PcrSelectionList.Parse(SwtpmQuoteFixture.PcrList) };

        var result = QuoteVerifier.Verify(request);

        // The forgery is cryptographically sound: the signature verifies and the digest matches the invented values.
        Assert.True(TpmSignatureVerifier.VerifyMessage(key, message, signature));
        Assert.Equal(tpm.InventedValues, values);
        Assert.False(result.IsValid, "a TPMS_ATTEST signed by an unrestricted key must not verify as a quote");
        var failure = Assert.Single(result.Failures);
        Assert.Contains("restricted", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Attack_ForgedQuote_RestrictedAkRefusesToSignIt()
    {
        // Why restricted matters: the AK signs a TPM_GENERATED_VALUE structure only when the TPM made it (Part 3 §20.2).
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() => tpm.Tpm2("tpm2_sign", "-c", "ak.ctx", "-g", "sha256", "-s", "ecdsa", "-o", "ak-forged.sig", TpmToolsForgery.Message));
            Assert.Contains("tpm2_sign", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            tpm.Tpm2("tpm2_flushcontext", "-t");
        }
    }
}
