using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// Verifies TMZ-DAA signatures. Verification is keyed (it needs x0, x1): the issuer creates
/// verifiers with <see cref="TmzIssuer.CreateVerifier"/> — the one honest difference from classic DAA.
/// </summary>
public sealed class TmzVerifier : IDisposable
{
    internal const string SignDomain = "TMZ-DAA/sign";
    internal const string BasenameDomain = "TMZ-DAA/basename";

    private readonly DaaOpCounter? _counter;
    private BigInteger _x0;
    private BigInteger _x1;

    internal TmzVerifier(TmzIssuerPublicKey publicKey, BigInteger x0, BigInteger x1, TmzRogueList rogueList, DaaOpCounter? counter)
    {
        PublicKey = publicKey;
        _x0 = x0;
        _x1 = x1;
        RogueList = rogueList;
        _counter = counter;
    }

    /// <summary>The issuer's public key.</summary>
    public TmzIssuerPublicKey PublicKey { get; }

    /// <summary>The rogue list checked on every verification.</summary>
    public TmzRogueList RogueList { get; }

    /// <summary>Whether two signatures come from the same TPM under the same basename (same J and same N).</summary>
    /// <param name="first">One signature.</param>
    /// <param name="second">The other.</param>
    /// <returns>True when linked.</returns>
    public static bool Link(TmzSignature first, TmzSignature second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        return first.J.Equals(second.J) && first.N.Equals(second.N);
    }

    /// <summary>J for a basename: HashToGroup("TMZ-DAA/basename", bsn).</summary>
    /// <param name="group">The group.</param>
    /// <param name="basename">The basename.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>J with its TPM2_Commit witness.</returns>
    public static DaaHashedPoint BasenamePoint(DaaGroup group, ReadOnlySpan<byte> basename, DaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(group);
        var hashed = group.HashToGroupWithWitness(BasenameDomain, basename, counter);
        return new DaaHashedPoint(hashed.Point, hashed.S2, hashed.Y2);
    }

    /// <summary>Verifies σ on <paramref name="message"/> for verifier nonce nV and, when given, the basename.</summary>
    /// <param name="signature">σ.</param>
    /// <param name="message">The signed message.</param>
    /// <param name="basename">The basename for a linkable signature, or null for a fully anonymous one.</param>
    /// <param name="verifierNonce">nV.</param>
    /// <returns>Valid, or the reason it is not.</returns>
    public TmzVerificationResult Verify(TmzSignature signature, ReadOnlySpan<byte> message, byte[]? basename, ReadOnlySpan<byte> verifierNonce)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var g = PublicKey.Group;
        DaaPoint[] points = [signature.Ur, signature.Cf, signature.CU, signature.J, signature.N];
        if (points.Any(p => !ReferenceEquals(p.Group, g)))
        {
            return TmzVerificationResult.Invalid("an element is not in the issuer's group");
        }

        if (signature.Ur.IsIdentity || signature.J.IsIdentity || signature.N.IsIdentity)
        {
            return TmzVerificationResult.Invalid("Ur, J or N is the identity");
        }

        BigInteger[] scalars = [signature.C, signature.Sf, signature.Sz, signature.Sr];
        if (scalars.Any(s => s.Sign < 0 || s >= g.Order))
        {
            return TmzVerificationResult.Invalid("a scalar is out of range");
        }

        if (basename is not null && !BasenamePoint(g, basename, _counter).Point.Equals(signature.J))
        {
            return TmzVerificationResult.Invalid("J is not the basename's element");
        }

        var c = signature.C;
        var v = g.Subtract(g.MultiplyAdd([(signature.Ur, _x0), (signature.Cf, _x1)], _counter), signature.CU, _counter);
        var t1 = g.MultiplyAdd([(signature.Ur, signature.Sf), (g.H, signature.Sz), (signature.Cf, -c)], _counter);
        var t2 = g.MultiplyAdd([(PublicKey.X1, signature.Sz), (g.Generator, -signature.Sr), (v, -c)], _counter);
        var t3 = g.MultiplyAdd([(signature.J, signature.Sf), (signature.N, -c)], _counter);
        var digest = SignDigest(PublicKey, signature.Ur, signature.Cf, signature.CU, signature.J, signature.N, t1, t2, t3, verifierNonce, message, _counter);
        if (g.TpmChallenge(signature.TpmNonce, digest, _counter) != c)
        {
            return TmzVerificationResult.Invalid("the proof does not verify (forged, tampered, wrong nonce, message or issuer)");
        }

        if (RogueList.Contains(signature.N, signature.J, _counter))
        {
            return TmzVerificationResult.Invalid("the signing TPM's key is on the rogue list");
        }

        return TmzVerificationResult.Valid;
    }

    /// <summary>Forgets (x0, x1).</summary>
    public void Dispose()
    {
        _x0 = BigInteger.Zero;
        _x1 = BigInteger.Zero;
    }

    internal static byte[] SignDigest(TmzIssuerPublicKey ipk, DaaPoint ur, DaaPoint cf, DaaPoint cu, DaaPoint j, DaaPoint n, DaaPoint t1, DaaPoint t2, DaaPoint t3, ReadOnlySpan<byte> verifierNonce, ReadOnlySpan<byte> message, DaaOpCounter? counter) =>
        DaaGroup.HashItems(SignDomain, [.. ipk.Parameters(), ur.ToArray(), cf.ToArray(), cu.ToArray(), j.ToArray(), n.ToArray(), t1.ToArray(), t2.ToArray(), t3.ToArray(), verifierNonce.ToArray(), message.ToArray()], counter);
}
