using System.Numerics;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// The ECDAA issuer (FIDO ECDAA v2.0 §3.3–3.4, Camenisch–Drijvers–Lehmann 2016): secret (x, y), public
/// X = x·P2, Y = y·P2 with a proof; Join checks the TPM's proof of f bound to the issuer nonce and issues
/// (A, B, C, D) with a proof that B and D share l·y.
/// </summary>
/// <remarks>
/// The TPM is authenticated here only by its proof of knowledge of f and the rogue list; the EK
/// authentication (credential activation) is the same as TMZ-DAA's (<see cref="TmzIssuer"/>), costs the
/// same in both schemes and is left out of this baseline.
/// </remarks>
public sealed class EcdaaIssuer : IDisposable
{
    internal const string JoinDomain = "ECDAA/join";
    internal const string CredentialDomain = "ECDAA/credential";

    private readonly IRandomSource _random;
    private readonly EcdaaOpCounter? _counter;
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);
    private BigInteger _x;
    private BigInteger _y;
    private bool _disposed;

    /// <summary>Issuer setup: fresh (x, y), X = x·P2, Y = y·P2 and the proof of knowledge.</summary>
    /// <param name="random">The randomness source.</param>
    /// <param name="counter">Optional operation counter of the issuer entity.</param>
    public EcdaaIssuer(IRandomSource random, EcdaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        _random = random;
        _counter = counter;
        _x = BnP256.RandomScalar(random);
        _y = BnP256.RandomScalar(random);
        var p2 = BnP256.G2Generator;
        var x = p2.Multiply(_x, counter);
        var y = p2.Multiply(_y, counter);
        var rx = BnP256.RandomScalar(random);
        var ry = BnP256.RandomScalar(random);
        var unproven = new EcdaaIssuerPublicKey(x, y, 0, 0, 0);
        var c = unproven.Challenge(p2.Multiply(rx, counter), p2.Multiply(ry, counter), counter);
        PublicKey = unproven with { C = c, Sx = BnP256.Reduce(rx + (c * _x)), Sy = BnP256.Reduce(ry + (c * _y)) };
    }

    /// <summary>The public key with its proof.</summary>
    public EcdaaIssuerPublicKey PublicKey { get; }

    /// <summary>Extracted keys of compromised TPMs: Join refuses them; pass the list to verifiers.</summary>
    public EcdaaRogueList RogueList { get; } = new();

    /// <summary>Join step 1: a fresh nonce nI.</summary>
    /// <returns>nI.</returns>
    public byte[] StartJoin()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var nonce = _random.GetBytes(32);
        _pending.Add(Convert.ToHexStringLower(nonce));
        return nonce;
    }

    /// <summary>Join step 3: checks the TPM's proof of f bound to nI and the rogue list, then issues (A, B, C, D) with its proof.</summary>
    /// <param name="request">The Host's request.</param>
    /// <returns>The credential, or why not.</returns>
    public EcdaaIssuanceResult CompleteJoin(EcdaaJoinRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_pending.Remove(Convert.ToHexStringLower(request.Nonce)))
        {
            return new(null, "unknown or reused join nonce");
        }

        var q = request.PublicKey;
        if (q.IsIdentity)
        {
            return new(null, "the DAA key is the identity");
        }

        // E' = s·P1 − c·Q; c must equal SHA-256(nT ‖ H(join, P1, Q, nI, E')).
        var e = BnP256.G1Generator.MultiplyAdd(request.S, q, -request.C, _counter);
        var digest = JoinDigest(q, request.Nonce, e, _counter);
        if (BnP256.TpmChallenge(request.TpmNonce, digest, _counter) != BnP256.Reduce(request.C))
        {
            return new(null, "the TPM's proof of knowledge of f does not verify");
        }

        if (RogueList.Contains(q, BnP256.G1Generator, _counter))
        {
            return new(null, "the TPM's key is on the rogue list");
        }

        var l = BnP256.RandomScalar(_random);
        var a = BnP256.G1Generator.Multiply(l, _counter);
        var b = a.Multiply(_y, _counter);
        var ly = BnP256.Reduce(l * _y);
        var d = q.Multiply(ly, _counter);
        var c = a.Add(d, _counter).Multiply(_x, _counter);
        var credential = new EcdaaCredential(a, b, c, d);

        var r = BnP256.RandomScalar(_random);
        var u = BnP256.G1Generator.Multiply(r, _counter);
        var v = q.Multiply(r, _counter);
        var challenge = CredentialChallenge(u, v, b, q, d, _counter);
        return new(new EcdaaJoinResponse(credential, challenge, BnP256.Reduce(r + (challenge * ly))), null);
    }

    /// <summary>Forgets (x, y).</summary>
    public void Dispose()
    {
        _disposed = true;
        _x = _y = BigInteger.Zero;
        _pending.Clear();
    }

    internal static byte[] JoinDigest(BnG1Point q, byte[] issuerNonce, BnG1Point e, EcdaaOpCounter? counter)
    {
        counter?.Hash();
        return DaaGroup.HashItems(JoinDomain, [BnP256.G1Generator.ToArray(), q.ToArray(), issuerNonce, e.ToArray()]);
    }

    internal static BigInteger CredentialChallenge(BnG1Point u, BnG1Point v, BnG1Point b, BnG1Point q, BnG1Point d, EcdaaOpCounter? counter) =>
        HashToScalar(CredentialDomain, [u.ToArray(), v.ToArray(), BnP256.G1Generator.ToArray(), b.ToArray(), q.ToArray(), d.ToArray()], counter);

    internal static BigInteger HashToScalar(string domain, IEnumerable<byte[]> items, EcdaaOpCounter? counter)
    {
        counter?.Hash();
        return new BigInteger(DaaGroup.HashItems(domain, items), isUnsigned: true, isBigEndian: true) % BnP256.Order;
    }
}
