using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek.Tests;

public sealed class TpmSignatureGeneratorTests
{
    [Fact]
    public void SignData_TpmSignatureWithLeadingZeroOctets_EncodesMinimalIntegersThatVerify()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var key = TpmPublicKeys.FromSubjectPublicKeyInfo(ecdsa.ExportSubjectPublicKeyInfo());
        var data = "tbs"u8.ToArray();
        byte[] der = [];
        // Find a signature whose r or s has a leading zero octet, as a TPM returns it (fixed 32 octets).
        for (var i = 0; i < 4000; i++)
        {
            var p1363 = ecdsa.SignData(data, HashAlgorithmName.SHA256);
            if (p1363[0] == 0 || p1363[32] == 0)
            {
                var generator = new TpmSignatureGenerator(key, _ => TpmtSignature.Ecc(TpmAlgId.Ecdsa, TpmAlgId.Sha256, p1363[..32], p1363[32..]));
                der = generator.SignData(data, HashAlgorithmName.SHA256);
                break;
            }
        }

        Assert.NotEmpty(der);
        Assert.True(ecdsa.VerifyData(data, der, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }
}
