namespace TrustStack.Daa.Tmz;

/// <summary>
/// Verifies ECDAA signatures with the issuer's public key alone (FIDO ECDAA v2.0 §3.6): the pairing checks
/// e(R, Y) = e(S, P2) and e(T, P2) = e(R + W, X), the TPM's Schnorr proof, the basename and the rogue list.
/// Unlike TMZ-DAA, verification is public.
/// </summary>
public sealed class EcdaaVerifier
{
    internal const string SignDomain = "ECDAA/sign";
    internal const string BasenameDomain = "ECDAA/basename";

    private readonly EcdaaOpCounter? _counter;

    /// <summary>Creates a verifier for an issuer.</summary>
    /// <param name="publicKey">The issuer's public key.</param>
    /// <param name="rogueList">The rogue list to check, or null for none.</param>
    /// <param name="counter">Optional operation counter of the verifier entity.</param>
    public EcdaaVerifier(EcdaaIssuerPublicKey publicKey, EcdaaRogueList? rogueList = null, EcdaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        PublicKey = publicKey;
        RogueList = rogueList ?? new EcdaaRogueList();
        _counter = counter;
    }

    /// <summary>The issuer's public key.</summary>
    public EcdaaIssuerPublicKey PublicKey { get; }

    /// <summary>The rogue list checked on every verification.</summary>
    public EcdaaRogueList RogueList { get; }

    /// <summary>J for a basename: the TPM2_Commit-compatible hash to G1 of "ECDAA/basename".</summary>
    /// <param name="basename">The basename.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>J with its (s2, y2).</returns>
    public static BnHashedG1Point BasenamePoint(ReadOnlySpan<byte> basename, EcdaaOpCounter? counter = null) => BnP256.HashToG1(BasenameDomain, basename, counter);

    /// <summary>Whether two signatures come from the same TPM under the same basename (same J and same K).</summary>
    /// <param name="first">One signature.</param>
    /// <param name="second">The other.</param>
    /// <returns>True when linked; never for fully anonymous signatures.</returns>
    public static bool Link(EcdaaSignature first, EcdaaSignature second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        return first.J is not null && first.K is not null && first.J.Equals(second.J) && first.K.Equals(second.K);
    }

    /// <summary>Verifies σ on <paramref name="message"/> for verifier nonce nV and, when given, the basename.</summary>
    /// <param name="signature">σ.</param>
    /// <param name="message">The signed message.</param>
    /// <param name="basename">The basename for a linkable signature, or null for a fully anonymous one.</param>
    /// <param name="verifierNonce">nV.</param>
    /// <returns>Valid, or why not.</returns>
    public EcdaaVerificationResult Verify(EcdaaSignature signature, ReadOnlySpan<byte> message, byte[]? basename, ReadOnlySpan<byte> verifierNonce)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var sig = signature;
        if (sig.R.IsIdentity || sig.S.IsIdentity)
        {
            return EcdaaVerificationResult.Invalid("R or S is the identity");
        }

        if (sig.C.Sign < 0 || sig.C >= BnP256.Order || sig.Sf.Sign < 0 || sig.Sf >= BnP256.Order)
        {
            return EcdaaVerificationResult.Invalid("a scalar is out of range");
        }

        if (basename is null != (sig.J is null) || (sig.J is null) != (sig.K is null))
        {
            return EcdaaVerificationResult.Invalid(basename is null ? "a basename point in a signature verified without basename" : "no basename point in a signature verified with a basename");
        }

        if (basename is not null && (!BasenamePoint(basename, _counter).Point.Equals(sig.J) || sig.K!.IsIdentity))
        {
            return EcdaaVerificationResult.Invalid("J is not the basename's point");
        }

        // The TPM's proof: E' = s·S − c·W, L' = s·J − c·K.
        var e = sig.S.MultiplyAdd(sig.Sf, sig.W, -sig.C, _counter);
        var l = sig.J is null ? null : sig.J.MultiplyAdd(sig.Sf, sig.K!, -sig.C, _counter);
        var digest = SignDigest(PublicKey, sig.R, sig.S, sig.T, sig.W, e, sig.J, sig.K, l, verifierNonce, message, _counter);
        if (BnP256.TpmChallenge(sig.TpmNonce, digest, _counter) != sig.C)
        {
            return EcdaaVerificationResult.Invalid("the TPM's proof does not verify (forged, tampered, wrong nonce or message)");
        }

        if (!CheckCredential(PublicKey, sig.R, sig.S, sig.T, sig.W, _counter))
        {
            return EcdaaVerificationResult.Invalid("the randomized credential does not verify under the issuer's key (e(R, Y) ≠ e(S, P2) or e(T, P2) ≠ e(R + W, X))");
        }

        if (RogueList.Contains(sig.W, sig.S, _counter))
        {
            return EcdaaVerificationResult.Invalid("the signing TPM's key is on the rogue list");
        }

        return EcdaaVerificationResult.Valid;
    }

    /// <summary>
    /// e(A, Y) = e(B, P2) and e(C, P2) = e(A + D, X), checked as two multi-pairings e(A, Y)·e(−B, P2) = 1 and
    /// e(C, P2)·e(−(A + D), X) = 1: 4 Miller loops (counted as 4 pairings), 2 final exponentiations; the
    /// lines of X, Y and P2 are computed once and kept in the points.
    /// </summary>
    internal static bool CheckCredential(EcdaaIssuerPublicKey ipk, BnG1Point a, BnG1Point b, BnG1Point c, BnG1Point d, EcdaaOpCounter? counter)
    {
        var p2 = BnP256.G2Generator;
        var first = BnP256.PairProduct([(a, ipk.Y), (b.Negate(), p2)], counter).IsOne;
        var second = BnP256.PairProduct([(c, p2), (a.Add(d, counter).Negate(), ipk.X)], counter).IsOne;
        return first && second;
    }

    internal static byte[] SignDigest(EcdaaIssuerPublicKey ipk, BnG1Point r, BnG1Point s, BnG1Point t, BnG1Point w, BnG1Point e, BnG1Point? j, BnG1Point? k, BnG1Point? l, ReadOnlySpan<byte> verifierNonce, ReadOnlySpan<byte> message, EcdaaOpCounter? counter)
    {
        counter?.Hash();
        return DaaGroup.HashItems(SignDomain, [ipk.X.ToArray(), ipk.Y.ToArray(), r.ToArray(), s.ToArray(), t.ToArray(), w.ToArray(), e.ToArray(), j?.ToArray() ?? [], k?.ToArray() ?? [], l?.ToArray() ?? [], verifierNonce.ToArray(), message.ToArray()]);
    }
}
