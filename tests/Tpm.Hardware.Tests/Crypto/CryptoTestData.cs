using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware.Tests;

/// <summary>Templates and helpers shared by the crypto tests.</summary>
internal static class CryptoTestData
{
    public const TpmaObject StorageAttributes = TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin
        | TpmaObject.UserWithAuth | TpmaObject.NoDA | TpmaObject.Restricted | TpmaObject.Decrypt;

    public const TpmaObject SigningAttributes = TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin
        | TpmaObject.UserWithAuth | TpmaObject.Sign;

    /// <summary>TCG EK Credential Profile template L-1 attributes (RSA/ECC EK): adminWithPolicy, restricted, decrypt.</summary>
    public const TpmaObject EkAttributes = TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin
        | TpmaObject.AdminWithPolicy | TpmaObject.Restricted | TpmaObject.Decrypt;

    public static TpmtPublic RsaStorage(ushort bits = 2048, TpmaObject attributes = StorageAttributes) =>
        new(TpmAlgId.Rsa, TpmAlgId.Sha256, attributes, [], new RsaParms(TpmtSymDef.Aes128Cfb, TpmtScheme.Null, bits, 0), new RsaPublicId([]));

    public static TpmtPublic RsaSigning(ushort bits = 2048, TpmtScheme? scheme = null) =>
        new(TpmAlgId.Rsa, TpmAlgId.Sha256, SigningAttributes, [], new RsaParms(TpmtSymDef.Null, scheme ?? TpmtScheme.Null, bits, 0), new RsaPublicId([]));

    public static TpmtPublic EccStorage(TpmEccCurve curve = TpmEccCurve.NistP256, TpmaObject attributes = StorageAttributes) =>
        new(TpmAlgId.Ecc, TpmAlgId.Sha256, attributes, [], new EccParms(TpmtSymDef.Aes128Cfb, TpmtScheme.Null, curve, TpmtScheme.Null), new EccPoint([], []));

    public static TpmtPublic EccSigning(TpmEccCurve curve = TpmEccCurve.NistP256, TpmtScheme? scheme = null) =>
        new(TpmAlgId.Ecc, TpmAlgId.Sha256, SigningAttributes, [], new EccParms(TpmtSymDef.Null, scheme ?? TpmtScheme.Null, curve, TpmtScheme.Null), new EccPoint([], []));

    /// <summary>The EK Credential Profile RSA 2048 template L-1 policy (PolicySecret(endorsement)).</summary>
    public static byte[] EkPolicy { get; } = Convert.FromHexString("837197674484B3F81A90CC8D46A5D724FD52D76E06520B64F2A1DA1B331469AA");

    public static TpmtPublic RsaEk() =>
        new(TpmAlgId.Rsa, TpmAlgId.Sha256, EkAttributes, EkPolicy, new RsaParms(TpmtSymDef.Aes128Cfb, TpmtScheme.Null, 2048, 0), new RsaPublicId(new byte[256]));

    public static TpmtPublic EccEk() =>
        new(TpmAlgId.Ecc, TpmAlgId.Sha256, EkAttributes, EkPolicy, new EccParms(TpmtSymDef.Aes128Cfb, TpmtScheme.Null, TpmEccCurve.NistP256, TpmtScheme.Null), new EccPoint(new byte[32], new byte[32]));

    public static byte[] Seed(byte fill, int length = 32)
    {
        var seed = new byte[length];
        seed.AsSpan().Fill(fill);
        return seed;
    }

    private static readonly Dictionary<string, (TpmtPublic Public, byte[] Sensitive)> Cache = [];
    private static readonly Lock CacheLock = new();

    /// <summary>A generated key, cached per name so the suite does not regenerate RSA keys.</summary>
    public static (TpmtPublic Public, TpmtSensitive Sensitive) Key(string name, Func<TpmtPublic> template)
    {
        lock (CacheLock)
        {
            if (!Cache.TryGetValue(name, out var entry))
            {
                var seed = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name));
                var (pub, sens) = KeyGenerator.CreatePrimary(null, seed, template(), TpmsSensitiveCreate.Empty);
                var w = new TpmWriter();
                sens.Marshal(w);
                entry = (pub, w.ToArray());
                Cache[name] = entry;
            }

            var reader = new TpmReader(entry.Sensitive);
            return (entry.Public, TpmtSensitive.Unmarshal(ref reader));
        }
    }

    public static RSA DotNetRsa(TpmtPublic key)
    {
        var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters { Modulus = ((RsaPublicId)key.Unique).Modulus, Exponent = [1, 0, 1] });
        return rsa;
    }

    public static ECDsa DotNetEcdsa(TpmtPublic key)
    {
        var point = (EccPoint)key.Unique;
        return ECDsa.Create(new ECParameters
        {
            Curve = EccCurves.GetDotNetCurve(((EccParms)key.Parameters).Curve),
            Q = new ECPoint { X = point.X, Y = point.Y },
        });
    }
}
