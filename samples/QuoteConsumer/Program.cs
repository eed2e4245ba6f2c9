// Uses TrustStack.Tpm.Hardware as a NuGet package, the way an outside project does:
// software TPM -> attestation key -> quote of PCR 16 over a fresh nonce -> TPM-free verification.
using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 42 });
var client = new Tpm2(tpm);
client.Startup(TpmSu.Clear);

// Measure something into PCR 16 and predict the PCR's value without asking the TPM.
var measurement = SHA256.HashData("QuoteConsumer sample"u8);
client.PcrExtend(16, TpmAlgId.Sha256, measurement);
var expectedPcr16 = TpmHash.Extend(TpmAlgId.Sha256, new byte[32], measurement);

var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EccAttestationKey());
var selection = PcrSelectionList.Create(TpmAlgId.Sha256, 16);
var nonce = RandomNumberGenerator.GetBytes(32);
var (attest, signature) = client.Quote(ak.Handle, nonce, selection);

// The verifier needs only the AK's public area, the quote, the nonce and the expected PCR values.
var result = QuoteVerifier.Verify(ak.Public, attest, signature, nonce, [expectedPcr16]);
if (!result.IsValid)
{
    Console.Error.WriteLine($"quote rejected: {result}");
    return 1;
}

Console.WriteLine("quote verified");
return 0;
