using System.Numerics;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// The ECDAA TPM role in software on BN_P256, with the TPM2_Commit/TPM2_Sign(ECDAA) split and its
/// one-use commitments (like <see cref="SoftwareTmzTpm"/> for TMZ-DAA).
/// </summary>
public sealed class SoftwareEcdaaTpm : IEcdaaTpm, IDisposable
{
    private readonly IRandomSource _random;
    private readonly EcdaaOpCounter? _counter;
    private readonly Dictionary<ushort, BigInteger> _commits = [];
    private BigInteger _f;
    private ushort _nextCounter;
    private bool _disposed;

    /// <summary>Creates a TPM with a fresh DAA key f.</summary>
    /// <param name="random">The randomness source.</param>
    /// <param name="counter">Optional operation counter of the TPM entity.</param>
    public SoftwareEcdaaTpm(IRandomSource random, EcdaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        _random = random;
        _counter = counter;
        _f = BnP256.RandomScalar(random);
        PublicKey = BnP256.G1Generator.Multiply(_f);
    }

    /// <inheritdoc/>
    public BnG1Point PublicKey { get; }

    /// <summary>The DAA secret f, as an attacker who broke this TPM would extract it (for rogue-list tests and demos).</summary>
    /// <returns>f.</returns>
    public BigInteger ExtractSecretKey()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _f;
    }

    /// <inheritdoc/>
    public EcdaaCommitment Commit(BnG1Point? p1, BnHashedG1Point? basename)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var k = BnP256.RandomScalar(_random);
        var e = (p1 ?? BnP256.G1Generator).Multiply(k, _counter);
        BnG1Point? kPoint = null;
        BnG1Point? l = null;
        if (basename is not null)
        {
            kPoint = basename.Point.Multiply(_f, _counter);
            l = basename.Point.Multiply(k, _counter);
        }

        if (e.IsIdentity || kPoint?.IsIdentity == true || l?.IsIdentity == true)
        {
            throw new TpmException(TpmRc.NoResult, "a commit point is the identity");
        }

        var count = _nextCounter;
        _nextCounter = unchecked((ushort)(_nextCounter + 1));
        _commits[count] = k;
        return new EcdaaCommitment(e, kPoint, l, count);
    }

    /// <inheritdoc/>
    public EcdaaTpmSignature Sign(ushort counter, byte[] digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_commits.Remove(counter, out var k))
        {
            throw new TpmException(TpmRc.Value, $"no outstanding commitment {counter}");
        }

        var nonce = BnP256.EncodeScalar(BnP256.RandomScalar(_random));
        var c = BnP256.TpmChallenge(nonce, digest, _counter);
        return new EcdaaTpmSignature(nonce, BnP256.Reduce(k + (c * _f)));
    }

    /// <summary>Forgets f and outstanding commitments.</summary>
    public void Dispose()
    {
        _disposed = true;
        _commits.Clear();
        _f = BigInteger.Zero;
    }
}
