using System.Numerics;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// The ECDAA TPM role played by a TPM 2.0 over any transport (our <see cref="SoftwareTpm"/>, swtpm/libtpms,
/// a device): an ECDAA signing key on TPM_ECC_BN_P256 (a primary key in the owner hierarchy),
/// <c>TPM2_Commit</c> and <c>TPM2_Sign</c> with scheme ECDAA. The key is flushed on dispose.
/// </summary>
public sealed class Tpm2EcdaaTpm : IEcdaaTpm, IDisposable
{
    private readonly Tpm2 _client;
    private readonly EcdaaOpCounter? _counter;
    private readonly uint _keyHandle;
    private bool _disposed;

    /// <summary>Creates the ECDAA key on BN_P256 in the TPM.</summary>
    /// <param name="client">The TPM client.</param>
    /// <param name="counter">Optional operation counter of the TPM entity (counts what the TPM computes).</param>
    /// <exception cref="TpmException">The TPM refuses the key (for example TPM_RC_CURVE without BN_P256).</exception>
    public Tpm2EcdaaTpm(Tpm2 client, EcdaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _counter = counter;
        var key = client.CreatePrimary(TpmRh.Owner, KeyTemplate());
        _keyHandle = key.Handle;
        var unique = (EccPoint)key.Public.Unique;
        PublicKey = BnG1Point.FromAffine(new BigInteger(unique.X, isUnsigned: true, isBigEndian: true), new BigInteger(unique.Y, isUnsigned: true, isBigEndian: true));
    }

    /// <inheritdoc/>
    public BnG1Point PublicKey { get; }

    /// <summary>The ECDAA key's handle.</summary>
    public uint KeyHandle => _keyHandle;

    /// <summary>The DAA key template: an ECC signing key on TPM_ECC_BN_P256 with scheme ECDAA/SHA-256.</summary>
    /// <returns>The template.</returns>
    public static TpmtPublic KeyTemplate()
    {
        var template = TpmTemplates.SigningEccP256(new TpmtScheme(TpmAlgId.Ecdaa, TpmAlgId.Sha256, 0));
        return template with { Parameters = ((EccParms)template.Parameters) with { Curve = TpmEccCurve.BnP256 } };
    }

    /// <inheritdoc/>
    public EcdaaCommitment Commit(BnG1Point? p1, BnHashedG1Point? basename)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        EccPoint? point = null;
        if (p1 is not null)
        {
            var encoding = p1.Encoding;
            point = new EccPoint(encoding[1..33].ToArray(), encoding[33..].ToArray());
        }

        var result = _client.Commit(_keyHandle, point, basename?.S2, basename?.Y2);
        _counter?.G1Mul(1);
        if (basename is not null)
        {
            _counter?.G1Mul(1);
            _counter?.G1Mul(1);
        }

        return new EcdaaCommitment(
            Decode(result.E) ?? throw new TpmException(TpmRc.NoResult, "the TPM returned no E"),
            Decode(result.K),
            Decode(result.L),
            result.Counter);
    }

    /// <inheritdoc/>
    public EcdaaTpmSignature Sign(ushort counter, byte[] digest)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var signature = _client.SignEcdaa(_keyHandle, digest, counter);
        _counter?.Hash();
        return new EcdaaTpmSignature(signature.SignatureR, new BigInteger(signature.SignatureS, isUnsigned: true, isBigEndian: true));
    }

    /// <summary>Flushes the key.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _client.FlushContext(_keyHandle);
    }

    private static BnG1Point? Decode(EccPoint point) => point.X.Length == 0 && point.Y.Length == 0
        ? null
        : BnG1Point.FromAffine(new BigInteger(point.X, isUnsigned: true, isBigEndian: true), new BigInteger(point.Y, isUnsigned: true, isBigEndian: true));
}
