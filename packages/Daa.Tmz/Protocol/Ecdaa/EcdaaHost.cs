using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz;

/// <summary>The ECDAA Host: runs Join and Sign around its TPM, doing all work that needs no secret of the TPM.</summary>
public sealed class EcdaaHost
{
    private readonly IEcdaaTpm _tpm;
    private readonly IRandomSource _random;
    private readonly EcdaaOpCounter? _counter;

    /// <summary>Creates a host for <paramref name="tpm"/>; the issuer key's proof is checked here.</summary>
    /// <param name="tpm">The TPM role.</param>
    /// <param name="issuerKey">The issuer's public key.</param>
    /// <param name="random">The randomness source.</param>
    /// <param name="counter">Optional operation counter of the host entity.</param>
    /// <exception cref="ArgumentException">The issuer key's proof does not verify.</exception>
    public EcdaaHost(IEcdaaTpm tpm, EcdaaIssuerPublicKey issuerKey, IRandomSource random, EcdaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(issuerKey);
        ArgumentNullException.ThrowIfNull(random);
        if (!issuerKey.VerifyProof())
        {
            throw new ArgumentException("the issuer's key proof does not verify", nameof(issuerKey));
        }

        _tpm = tpm;
        IssuerKey = issuerKey;
        _random = random;
        _counter = counter;
    }

    /// <summary>The issuer's public key.</summary>
    public EcdaaIssuerPublicKey IssuerKey { get; }

    /// <summary>The credential after a successful <see cref="CompleteJoin"/>.</summary>
    public EcdaaCredential? Credential { get; private set; }

    /// <summary>Join step 2: the TPM proves knowledge of f bound to nI (TPM2_Commit with P1, TPM2_Sign).</summary>
    /// <param name="issuerNonce">nI.</param>
    /// <returns>The request for the issuer.</returns>
    public EcdaaJoinRequest CreateJoinRequest(byte[] issuerNonce)
    {
        ArgumentNullException.ThrowIfNull(issuerNonce);
        var commitment = _tpm.Commit(BnP256.G1Generator, null);
        var digest = EcdaaIssuer.JoinDigest(_tpm.PublicKey, issuerNonce, commitment.E, _counter);
        var signature = _tpm.Sign(commitment.Counter, digest);
        var c = BnP256.TpmChallenge(signature.Nonce, digest, _counter);
        return new EcdaaJoinRequest(_tpm.PublicKey, issuerNonce, c, signature.Nonce, signature.S);
    }

    /// <summary>
    /// Join step 4: checks the issuer's proof over (B, D), then e(A, Y) = e(B, P2) and e(C, P2) = e(A + D, X),
    /// and stores the credential.
    /// </summary>
    /// <param name="response">The issuer's response.</param>
    /// <returns>True when the credential was accepted.</returns>
    public bool CompleteJoin(EcdaaJoinResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var cred = response.Credential;
        var q = _tpm.PublicKey;
        if (cred.A.IsIdentity || cred.B.IsIdentity)
        {
            return false;
        }

        var u = BnP256.G1Generator.MultiplyAdd(response.S, cred.B, -response.C, _counter);
        var v = q.MultiplyAdd(response.S, cred.D, -response.C, _counter);
        if (EcdaaIssuer.CredentialChallenge(u, v, cred.B, q, cred.D, _counter) != BnP256.Reduce(response.C))
        {
            return false;
        }

        if (!EcdaaVerifier.CheckCredential(IssuerKey, cred.A, cred.B, cred.C, cred.D, _counter))
        {
            return false;
        }

        Credential = cred;
        return true;
    }

    /// <summary>
    /// Signs <paramref name="message"/> for verifier nonce nV: randomizes the credential, has the TPM commit
    /// (to S, and to J = H(bsn) with a basename) and sign c'. Linkable under <paramref name="basename"/>,
    /// fully anonymous without.
    /// </summary>
    /// <param name="message">The message.</param>
    /// <param name="basename">The basename, or null.</param>
    /// <param name="verifierNonce">nV.</param>
    /// <returns>σ.</returns>
    /// <exception cref="InvalidOperationException">Not joined.</exception>
    public EcdaaSignature Sign(ReadOnlySpan<byte> message, byte[]? basename, ReadOnlySpan<byte> verifierNonce)
    {
        var cred = Credential ?? throw new InvalidOperationException("the host has no credential: run Join first");
        var l = BnP256.RandomScalar(_random);
        var r = cred.A.Multiply(l, _counter);
        var s = cred.B.Multiply(l, _counter);
        var t = cred.C.Multiply(l, _counter);
        var w = cred.D.Multiply(l, _counter);
        var j = basename is null ? null : EcdaaVerifier.BasenamePoint(basename, _counter);

        var commitment = _tpm.Commit(s, j);
        if (j is not null && (commitment.K is null || commitment.L is null))
        {
            throw new InvalidOperationException("the TPM returned no K or L");
        }

        var digest = EcdaaVerifier.SignDigest(IssuerKey, r, s, t, w, commitment.E, j?.Point, commitment.K, commitment.L, verifierNonce, message, _counter);
        var tpmSignature = _tpm.Sign(commitment.Counter, digest);
        var c = BnP256.TpmChallenge(tpmSignature.Nonce, digest, _counter);
        return new EcdaaSignature(r, s, t, w, j?.Point, commitment.K, c, tpmSignature.Nonce, BnP256.Reduce(tpmSignature.S));
    }

    /// <summary>Stores a credential obtained elsewhere (for example restored from disk); it is not checked.</summary>
    /// <param name="credential">The credential.</param>
    public void UseCredential(EcdaaCredential credential) => Credential = credential ?? throw new ArgumentNullException(nameof(credential));
}
