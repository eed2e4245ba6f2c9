using System.Numerics;
using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// The TMZ-DAA issuer: holds (x0, x0~, x1), issues credentials to TPMs it authenticates by their EK,
/// and (verification being keyed) creates the verifiers it delegates to.
/// </summary>
public sealed class TmzIssuer : IDisposable
{
    internal const string JoinDomain = "TMZ-DAA/join";
    internal const string IssueDomain = "TMZ-DAA/issue";

    private readonly IRandomSource _random;
    private readonly DaaOpCounter? _counter;
    private readonly HashSet<string> _trustedEks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (TmzEndorsement Endorsement, byte[] Secret)> _pending = new(StringComparer.Ordinal);
    private BigInteger _x0;
    private BigInteger _x0Tilde;
    private BigInteger _x1;
    private bool _disposed;

    /// <summary>Issuer setup: fresh keys and their proof of knowledge.</summary>
    /// <param name="group">The group.</param>
    /// <param name="random">The randomness source.</param>
    /// <param name="counter">Optional operation counter of the issuer entity.</param>
    public TmzIssuer(DaaGroup group, IRandomSource random, DaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(random);
        Group = group;
        _random = random;
        _counter = counter;
        _x0 = group.RandomScalar(random);
        _x0Tilde = group.RandomScalar(random);
        _x1 = group.RandomScalar(random);
        var x0 = group.MultiplyAdd([(group.Generator, _x0), (group.H, _x0Tilde)], counter);
        var x1 = group.Multiply(group.H, _x1, counter);

        var a0 = group.RandomScalar(random);
        var a0Tilde = group.RandomScalar(random);
        var a1 = group.RandomScalar(random);
        var commitment0 = group.MultiplyAdd([(group.Generator, a0), (group.H, a0Tilde)], counter);
        var commitment1 = group.Multiply(group.H, a1, counter);
        var unproven = new TmzIssuerPublicKey(group, x0, x1, new TmzIssuerProof(0, 0, 0, 0));
        var c = unproven.SetupChallenge(commitment0, commitment1, counter);
        PublicKey = unproven with { Proof = new TmzIssuerProof(c, group.Reduce(a0 + (c * _x0)), group.Reduce(a0Tilde + (c * _x0Tilde)), group.Reduce(a1 + (c * _x1))) };
    }

    /// <summary>The group.</summary>
    public DaaGroup Group { get; }

    /// <summary>The public key with its proof.</summary>
    public TmzIssuerPublicKey PublicKey { get; }

    /// <summary>Extracted keys of compromised TPMs: Join refuses them, the verifiers this issuer creates share the list.</summary>
    public TmzRogueList RogueList { get; } = new();

    /// <summary>Marks an EK (by <see cref="TmzEndorsement.EkFingerprint"/>) as belonging to a genuine TPM.</summary>
    /// <param name="ekFingerprint">The fingerprint.</param>
    public void TrustEndorsementKey(string ekFingerprint)
    {
        ArgumentException.ThrowIfNullOrEmpty(ekFingerprint);
        _trustedEks.Add(ekFingerprint);
    }

    /// <summary>Join step 1: a nonce nI and a credential only the TPM holding the EK can activate for the DAA key's Name.</summary>
    /// <param name="endorsement">The TPM's endorsement.</param>
    /// <returns>The challenge.</returns>
    public TmzJoinChallenge StartJoin(TmzEndorsement endorsement)
    {
        ArgumentNullException.ThrowIfNull(endorsement);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var nonce = _random.GetBytes(32);
        var secret = _random.GetBytes(32);
        var credential = endorsement.EkPublic is not null
            ? Tpm2.MakeCredentialOffline(endorsement.EkPublic, secret, endorsement.KeyName, _random)
            : SoftwareCredential.Make(endorsement.SoftwareEk ?? throw new ArgumentException("no endorsement key", nameof(endorsement)), endorsement.KeyName, secret, _random);
        _pending[Convert.ToHexStringLower(nonce)] = (endorsement, secret);
        return new TmzJoinChallenge(nonce, credential);
    }

    /// <summary>
    /// Join step 3: checks the EK is trusted, the activated secret, that the DAA key matches its Name,
    /// the TPM's proof of f and the rogue list; then issues (U, U', F) with a proof.
    /// </summary>
    /// <param name="request">The Host's request.</param>
    /// <returns>The credential, or why not.</returns>
    public TmzIssuanceResult CompleteJoin(TmzJoinRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_pending.Remove(Convert.ToHexStringLower(request.Nonce), out var pending))
        {
            return new(null, "unknown or reused join nonce");
        }

        try
        {
            var endorsement = request.Endorsement;
            if (endorsement != pending.Endorsement)
            {
                return new(null, "the endorsement differs from the one challenged");
            }

            if (!_trustedEks.Contains(endorsement.EkFingerprint))
            {
                return new(null, "the endorsement key is not a known genuine TPM");
            }

            if (request.ActivatedSecret.Length != pending.Secret.Length || !CryptographicOperations.FixedTimeEquals(request.ActivatedSecret, pending.Secret))
            {
                return new(null, "the TPM did not activate the credential (wrong EK or key Name)");
            }

            var q = endorsement.PublicKey;
            if (!ReferenceEquals(q.Group, Group) || q.IsIdentity)
            {
                return new(null, "the DAA key is not an element of the issuer's group");
            }

            if (endorsement.KeyPublic is not null && !KeyMatches(endorsement.KeyPublic, q))
            {
                return new(null, "the DAA key public area does not hold Q");
            }

            if (!VerifyTpmProof(Group, q, request.Nonce, request.C, request.TpmNonce, request.S, _counter))
            {
                return new(null, "the TPM's proof of knowledge of f does not verify");
            }

            if (RogueList.Contains(q, Group.Generator, _counter))
            {
                return new(null, "the TPM's key is on the rogue list");
            }

            return new(Issue(q), null);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pending.Secret);
        }
    }

    /// <summary>A verifier holding (x0, x1) and sharing this issuer's rogue list (TMZ-DAA verification is keyed).</summary>
    /// <param name="counter">Optional operation counter of the verifier entity.</param>
    /// <returns>The verifier; dispose it to zero the keys.</returns>
    public TmzVerifier CreateVerifier(DaaOpCounter? counter = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new TmzVerifier(PublicKey, _x0, _x1, RogueList, counter);
    }

    /// <summary>Forgets the secret keys.</summary>
    public void Dispose()
    {
        _disposed = true;
        _x0 = _x0Tilde = _x1 = BigInteger.Zero;
        foreach (var pending in _pending.Values)
        {
            CryptographicOperations.ZeroMemory(pending.Secret);
        }

        _pending.Clear();
    }

    /// <summary>Checks s·G − c·Q against c = SHA-256(nT ‖ Hs(join, G, Q, nI, E')) (the TPM's Join proof).</summary>
    internal static bool VerifyTpmProof(DaaGroup group, DaaPoint q, byte[] issuerNonce, BigInteger c, byte[] tpmNonce, BigInteger s, DaaOpCounter? counter)
    {
        var e = group.MultiplyAdd([(group.Generator, s), (q, -c)], counter);
        var digest = JoinDigest(group, q, issuerNonce, e, counter);
        return group.TpmChallenge(tpmNonce, digest, counter) == group.Reduce(c);
    }

    internal static byte[] JoinDigest(DaaGroup group, DaaPoint q, byte[] issuerNonce, DaaPoint e, DaaOpCounter? counter) =>
        DaaGroup.HashItems(JoinDomain, [System.Text.Encoding.UTF8.GetBytes(group.Name), group.Generator.ToArray(), q.ToArray(), issuerNonce, e.ToArray()], counter);

    internal static BigInteger IssueChallenge(TmzIssuerPublicKey ipk, TmzCredential credential, DaaPoint a0, DaaPoint a1, DaaPoint a2, DaaOpCounter? counter) =>
        ipk.Group.HashToScalar(IssueDomain, [.. ipk.Parameters(), credential.U.ToArray(), credential.F.ToArray(), credential.UPrime.ToArray(), a0.ToArray(), a1.ToArray(), a2.ToArray()], counter);

    private static bool KeyMatches(TpmtPublic keyPublic, DaaPoint q)
    {
        if (keyPublic.Unique is not EccPoint point || q.Group is not P256Group p256 || q.IsIdentity)
        {
            return false;
        }

        var (x, y) = p256.ToAffine(q);
        return point.X.AsSpan().TrimStart((byte)0).SequenceEqual(x.AsSpan().TrimStart((byte)0))
            && point.Y.AsSpan().TrimStart((byte)0).SequenceEqual(y.AsSpan().TrimStart((byte)0));
    }

    private TmzJoinResponse Issue(DaaPoint q)
    {
        var g = Group;
        var b = g.RandomScalar(_random);
        var u = g.Multiply(g.Generator, b, _counter);
        var f = g.Multiply(q, b, _counter);
        var uPrime = g.MultiplyAdd([(u, _x0), (f, _x1)], _counter);
        var credential = new TmzCredential(u, uPrime, f);

        var a0 = g.RandomScalar(_random);
        var a0Tilde = g.RandomScalar(_random);
        var a1 = g.RandomScalar(_random);
        var t0 = g.MultiplyAdd([(g.Generator, a0), (g.H, a0Tilde)], _counter);
        var t1 = g.Multiply(g.H, a1, _counter);
        var t2 = g.MultiplyAdd([(u, a0), (f, a1)], _counter);
        var c = IssueChallenge(PublicKey, credential, t0, t1, t2, _counter);
        var proof = new TmzIssuerProof(c, g.Reduce(a0 + (c * _x0)), g.Reduce(a0Tilde + (c * _x0Tilde)), g.Reduce(a1 + (c * _x1)));
        return new TmzJoinResponse(credential, proof);
    }
}
