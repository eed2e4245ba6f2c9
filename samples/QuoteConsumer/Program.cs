// Uses TrustStack.Tpm.Hardware as a NuGet package, the way an outside project does:
// software TPM -> attestation key -> quote of PCR 16 over a fresh nonce -> TPM-free verification.
// The README's "Using Tpm.Hardware from your code" shows this file; the packaging test runs it.
using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
var client = new Tpm2(tpm);

// Measure something into PCR 16 and predict the PCR's value without asking the TPM.
var measurement = SHA256.HashData("QuoteConsumer sample"u8);
client.PcrExtend(16, TpmAlgId.Sha256, measurement);
var expectedPcr16 = TpmHash.Extend(TpmAlgId.Sha256, new byte[32], measurement);

// An attestation key (ECC P-256, restricted ECDSA-SHA256, as tpm2_createak makes it) quotes PCR 16.
var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
var selection = PcrSelectionList.Create(TpmAlgId.Sha256, 16);
var nonce = RandomNumberGenerator.GetBytes(32);
var quote = client.Quote(ak.Handle, nonce, selection);

// The verifier needs only the AK's public area, the quote, the nonce and the expected PCR values.
var expected = PcrValues.Create([(TpmAlgId.Sha256, 16, expectedPcr16)]);
var result = QuoteVerifier.Verify(new QuoteVerificationRequest(ak.Public, quote.Quoted, quote.Signature, nonce, expected) { ExpectedSelection = selection });
if (!result.IsValid)
{
    Console.Error.WriteLine($"quote rejected: {string.Join("; ", result.Failures)}");
    return 1;
}

Console.WriteLine("quote verified");
return 0;
