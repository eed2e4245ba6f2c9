using System.Numerics;
using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// The TPM role in software, in any <see cref="DaaGroup"/>: the same commit/sign split and commit
/// counter discipline as TPM2_Commit + TPM2_Sign(ECDAA) (a commitment is used once). Its endorsement
/// is a group element e·G; credential activation is the ECIES-style stand-in described on
/// <see cref="TmzEndorsement"/>.
/// </summary>
public sealed class SoftwareTmzTpm : ITmzTpm, IDisposable
{
    private readonly IRandomSource _random;
    private readonly DaaOpCounter? _counter;
    private readonly Dictionary<ushort, BigInteger> _commits = [];
    private BigInteger _f;
    private BigInteger _e;
    private ushort _nextCounter;
    private bool _disposed;

    /// <summary>Creates a TPM with a fresh DAA key f and endorsement key e.</summary>
    /// <param name="group">The group.</param>
    /// <param name="random">The randomness source.</param>
    /// <param name="counter">Optional operation counter of the TPM entity.</param>
    public SoftwareTmzTpm(DaaGroup group, IRandomSource random, DaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(random);
        Group = group;
        _random = random;
        _counter = counter;
        _f = group.RandomScalar(random);
        _e = group.RandomScalar(random);
        PublicKey = group.Multiply(group.Generator, _f);
        Endorsement = new TmzEndorsement(null, null, group.Multiply(group.Generator, _e), PublicKey);
    }

    /// <inheritdoc/>
    public DaaGroup Group { get; }

    /// <inheritdoc/>
    public DaaPoint PublicKey { get; }

    /// <inheritdoc/>
    public TmzEndorsement Endorsement { get; }

    /// <summary>
    /// The DAA secret f, as an attacker who broke this TPM would extract it (to put it on the rogue list in tests and demos).
    /// </summary>
    /// <returns>f.</returns>
    public BigInteger ExtractSecretKey()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _f;
    }

    /// <inheritdoc/>
    public byte[] ActivateCredential(TpmCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var r = Group.Decode(credential.Secret);
        var z = Group.Multiply(r, _e);
        return SoftwareCredential.Unmask(z, Endorsement.KeyName, credential.CredentialBlob);
    }

    /// <inheritdoc/>
    public TmzCommitment Commit(DaaPoint? p1, DaaHashedPoint? basename)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var k = Group.RandomScalar(_random);
        var e = Group.Multiply(p1 ?? Group.Generator, k, _counter);
        DaaPoint? kPoint = null;
        DaaPoint? l = null;
        if (basename is not null)
        {
            kPoint = Group.Multiply(basename.Point, _f, _counter);
            l = Group.Multiply(basename.Point, k, _counter);
        }

        if (e.IsIdentity || kPoint?.IsIdentity == true || l?.IsIdentity == true)
        {
            throw new TpmException(TpmRc.NoResult, "a commit point is the identity");
        }

        var count = _nextCounter;
        _nextCounter = unchecked((ushort)(_nextCounter + 1));
        _commits[count] = k;
        return new TmzCommitment(e, kPoint, l, count);
    }

    /// <inheritdoc/>
    public TmzTpmSignature Sign(ushort counter, byte[] digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_commits.Remove(counter, out var k))
        {
            throw new TpmException(TpmRc.Value, $"no outstanding commitment {counter}");
        }

        var nonce = Group.EncodeScalar(Group.RandomScalar(_random));
        var c = Group.TpmChallenge(nonce, digest, _counter);
        var s = Group.Reduce(k + (c * _f));
        return new TmzTpmSignature(nonce, s);
    }

    /// <summary>Forgets f, e and outstanding commitments.</summary>
    public void Dispose()
    {
        _disposed = true;
        _commits.Clear();
        _f = BigInteger.Zero;
        _e = BigInteger.Zero;
    }
}

/// <summary>The software stand-in for credential activation: pad = SHA-256("TMZ-DAA/credential", Z, name), blob = secret ⊕ pad.</summary>
internal static class SoftwareCredential
{
    public static TpmCredential Make(DaaPoint ek, byte[] keyName, byte[] secret, IRandomSource random)
    {
        var group = ek.Group;
        var t = group.RandomScalar(random);
        var r = group.Multiply(group.Generator, t);
        var z = group.Multiply(ek, t);
        var pad = Pad(z, keyName);
        var blob = new byte[secret.Length];
        for (var i = 0; i < blob.Length; i++)
        {
            blob[i] = unchecked((byte)(secret[i] ^ pad[i]));
        }

        CryptographicOperations.ZeroMemory(pad);
        return new TpmCredential(blob, r.ToArray());
    }

    public static byte[] Unmask(DaaPoint z, byte[] keyName, byte[] blob)
    {
        if (blob.Length > 32)
        {
            throw new CryptographicException("credential blob too long");
        }

        var pad = Pad(z, keyName);
        var secret = new byte[blob.Length];
        for (var i = 0; i < blob.Length; i++)
        {
            secret[i] = unchecked((byte)(blob[i] ^ pad[i]));
        }

        CryptographicOperations.ZeroMemory(pad);
        return secret;
    }

    private static byte[] Pad(DaaPoint z, byte[] keyName) => DaaGroup.HashItems("TMZ-DAA/credential", [z.ToArray(), keyName]);
}
