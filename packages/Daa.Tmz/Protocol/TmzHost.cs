using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz;

/// <summary>The Host: runs Join and Sign around its TPM, doing all work that needs no secret of the TPM.</summary>
public sealed class TmzHost
{
    private readonly ITmzTpm _tpm;
    private readonly IRandomSource _random;
    private readonly DaaOpCounter? _counter;

    /// <summary>Creates a host for <paramref name="tpm"/> and an issuer whose key proof is checked here.</summary>
    /// <param name="tpm">The TPM role.</param>
    /// <param name="issuerKey">The issuer's public key.</param>
    /// <param name="random">The randomness source.</param>
    /// <param name="counter">Optional operation counter of the host entity.</param>
    /// <exception cref="ArgumentException">The issuer key's proof does not verify or the groups differ.</exception>
    public TmzHost(ITmzTpm tpm, TmzIssuerPublicKey issuerKey, IRandomSource random, DaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(issuerKey);
        ArgumentNullException.ThrowIfNull(random);
        if (!ReferenceEquals(tpm.Group, issuerKey.Group))
        {
            throw new ArgumentException("the TPM and the issuer use different groups", nameof(issuerKey));
        }

        if (!issuerKey.VerifyProof())
        {
            throw new ArgumentException("the issuer's key proof does not verify", nameof(issuerKey));
        }

        _tpm = tpm;
        IssuerKey = issuerKey;

        // X1 is a base of every signature (T2): a precomputed table pays for itself (P-256 comb).
        issuerKey.Group.FixedBase(issuerKey.X1);
        _random = random;
        _counter = counter;
    }

    /// <summary>The issuer's public key.</summary>
    public TmzIssuerPublicKey IssuerKey { get; }

    /// <summary>The credential after a successful <see cref="CompleteJoin"/>.</summary>
    public TmzCredential? Credential { get; private set; }

    /// <summary>Join step 2: has the TPM activate the credential and prove knowledge of f bound to nI.</summary>
    /// <param name="challenge">The issuer's challenge.</param>
    /// <returns>The request for the issuer.</returns>
    public TmzJoinRequest CreateJoinRequest(TmzJoinChallenge challenge)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        var g = _tpm.Group;
        var secret = _tpm.ActivateCredential(challenge.Credential);
        var commitment = _tpm.Commit(g.Generator, null);
        var digest = TmzIssuer.JoinDigest(g, _tpm.PublicKey, challenge.Nonce, commitment.E, _counter);
        var signature = _tpm.Sign(commitment.Counter, digest);
        var c = g.TpmChallenge(signature.Nonce, digest, _counter);
        return new TmzJoinRequest(_tpm.Endorsement, challenge.Nonce, secret, c, signature.Nonce, signature.S);
    }

    /// <summary>Join step 4: checks the issuer's proof that (U, U', F) was made with the published keys and stores the credential.</summary>
    /// <param name="response">The issuer's response.</param>
    /// <returns>True when the credential was accepted.</returns>
    public bool CompleteJoin(TmzJoinResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var g = IssuerKey.Group;
        var (cred, proof) = (response.Credential, response.Proof);
        if (cred.U.IsIdentity || cred.F.IsIdentity || cred.UPrime.IsIdentity)
        {
            return false;
        }

        var ipk = IssuerKey;
        var t0 = g.MultiplyAdd([(g.Generator, proof.S0), (g.H, proof.S0Tilde), (ipk.X0, -proof.C)], _counter);
        var t1 = g.MultiplyAdd([(g.H, proof.S1), (ipk.X1, -proof.C)], _counter);
        var t2 = g.MultiplyAdd([(cred.U, proof.S0), (cred.F, proof.S1), (cred.UPrime, -proof.C)], _counter);
        if (TmzIssuer.IssueChallenge(ipk, cred, t0, t1, t2, _counter) != g.Reduce(proof.C))
        {
            return false;
        }

        UseCredential(cred);
        return true;
    }

    /// <summary>Signs <paramref name="message"/> for verifier nonce nV, linkable under <paramref name="basename"/> or fully anonymous without.</summary>
    /// <param name="message">The message.</param>
    /// <param name="basename">The basename, or null.</param>
    /// <param name="verifierNonce">nV.</param>
    /// <returns>σ.</returns>
    /// <exception cref="InvalidOperationException">Not joined.</exception>
    public TmzSignature Sign(ReadOnlySpan<byte> message, byte[]? basename, ReadOnlySpan<byte> verifierNonce)
    {
        var cred = Credential ?? throw new InvalidOperationException("the host has no credential: run Join first");
        var g = IssuerKey.Group;
        var c0 = _counter;

        // 1–2. Randomize the credential and commit to f·Ur and to U'r.
        var r = g.RandomScalar(_random);
        var ur = g.Multiply(cred.U, r, c0);
        var uPrimeR = g.Multiply(cred.UPrime, r, c0);
        var fr = g.Multiply(cred.F, r, c0);
        var z = g.RandomScalar(_random);
        var rPrime = g.RandomScalar(_random);
        var cf = g.Add(fr, g.Multiply(g.H, z, c0), c0);
        var cu = g.Add(uPrimeR, g.Multiply(g.Generator, rPrime, c0), c0);

        // 3. J from the basename (linkable) or from fresh randomness (unlinkable).
        var j = TmzVerifier.BasenamePoint(g, basename ?? _random.GetBytes(32), c0);

        // 4. The TPM commits: E = k·Ur, L = k·J, N = f·J.
        var commitment = _tpm.Commit(ur, j);
        var n = commitment.K ?? throw new InvalidOperationException("the TPM returned no K");
        var l = commitment.L ?? throw new InvalidOperationException("the TPM returned no L");

        // 5–6. The host's own commitments and c'.
        var kz = g.RandomScalar(_random);
        var kr = g.RandomScalar(_random);
        var t1 = g.Add(commitment.E, g.Multiply(g.H, kz, c0), c0);
        var t2 = g.MultiplyAdd([(IssuerKey.X1, kz), (g.Generator, -kr)], c0);
        var digest = TmzVerifier.SignDigest(IssuerKey, ur, cf, cu, j.Point, n, t1, t2, l, verifierNonce, message, c0);

        // 7. The TPM signs; 8. the host's responses.
        var tpmSignature = _tpm.Sign(commitment.Counter, digest);
        var c = g.TpmChallenge(tpmSignature.Nonce, digest, c0);
        var sz = g.Reduce(kz + (c * z));
        var sr = g.Reduce(kr + (c * rPrime));
        return new TmzSignature(ur, cf, cu, j.Point, n, c, tpmSignature.Nonce, g.Reduce(tpmSignature.S), sz, sr);
    }

    /// <summary>Stores a credential obtained elsewhere (for example restored from disk); it is not checked.</summary>
    /// <param name="credential">The credential.</param>
    public void UseCredential(TmzCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);

        // U, U', F are multiplied by a fresh r in every signature: long-lived bases.
        var g = IssuerKey.Group;
        g.FixedBase(credential.U);
        g.FixedBase(credential.UPrime);
        g.FixedBase(credential.F);
        Credential = credential;
    }
}
