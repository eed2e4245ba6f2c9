namespace TrustStack.Tpm.Hardware;

/// <summary>The result of TPM2_Commit: K = [d]P2, L = [r]P2, E = [r]P1 (each empty when not computed) and the commit counter.</summary>
/// <param name="K">K, or empty coordinates.</param>
/// <param name="L">L, or empty coordinates.</param>
/// <param name="E">E, or empty coordinates.</param>
/// <param name="Counter">The counter to pass in TPMS_SCHEME_ECDAA.count to the signing command.</param>
public sealed record TpmCommitResult(EccPoint K, EccPoint L, EccPoint E, ushort Counter);

/// <summary>ECDAA commands: Commit and the ECDAA form of Sign.</summary>
public sealed partial class Tpm2
{
    /// <summary>
    /// TPM2_Commit (Part 3 §19.2): the first half of a split ECDAA signature with a key whose scheme is ECDAA.
    /// With P2 = (HnameAlg(s2) mod p, y2) the TPM returns K = [d]P2 and L = [r]P2; with P1, E = [r]P1; with neither, E = [r]G.
    /// </summary>
    /// <param name="handle">The ECDAA key.</param>
    /// <param name="p1">P1, or null for none (sent as the empty point).</param>
    /// <param name="s2">s2, or null/empty for no P2.</param>
    /// <param name="y2">y2, or null/empty for no P2.</param>
    /// <param name="auth">Authorization of the key; the empty password by default.</param>
    /// <returns>K, L, E and the counter.</returns>
    /// <exception cref="TpmException">TPM_RC_SCHEME + handle 1 (not an ECDAA key), TPM_RC_ECC_POINT + parameter 1 or 2, TPM_RC_SIZE + parameter 3, TPM_RC_NO_RESULT.</exception>
    public TpmCommitResult Commit(uint handle, EccPoint? p1 = null, byte[]? s2 = null, byte[]? y2 = null, TpmAuthorization? auth = null)
    {
        var r = Execute(
            TpmCc.Commit,
            [handle],
            [auth ?? TpmAuthorization.EmptyPassword],
            w =>
            {
                var point = new TpmWriter();
                (p1 ?? new EccPoint([], [])).Marshal(point);
                w.WriteTpm2b(point.ToArray());
                w.WriteTpm2b(s2 ?? []);
                w.WriteTpm2b(y2 ?? []);
            }).Reader();
        var k = ReadSizedPoint(ref r);
        var l = ReadSizedPoint(ref r);
        var e = ReadSizedPoint(ref r);
        var counter = r.ReadU16();
        r.EnsureConsumed();
        return new TpmCommitResult(k, l, e, counter);
    }

    /// <summary>TPM2_Sign with scheme ECDAA: s = r + H(nT ‖ digest)·d mod n with the r committed under <paramref name="counter"/>.</summary>
    /// <param name="handle">The ECDAA key.</param>
    /// <param name="digest">The digest (the scheme hash's size).</param>
    /// <param name="counter">The counter TPM2_Commit returned.</param>
    /// <param name="hash">The scheme hash; SHA-256 by default.</param>
    /// <param name="auth">Authorization of the key; the empty password by default.</param>
    /// <returns>The signature: SignatureR = nT, SignatureS = s.</returns>
    /// <exception cref="TpmException">TPM_RC_VALUE when the commitment is not outstanding (already used or never made).</exception>
    public TpmtSignature SignEcdaa(uint handle, byte[] digest, ushort counter, TpmAlgId hash = TpmAlgId.Sha256, TpmAuthorization? auth = null) =>
        Sign(handle, digest, new TpmtScheme(TpmAlgId.Ecdaa, hash, counter), auth: auth);

    private static EccPoint ReadSizedPoint(ref TpmReader r)
    {
        var inner = r.ReadSized16();
        if (inner.Remaining == 0)
        {
            return new EccPoint([], []);
        }

        var point = EccPoint.UnmarshalPoint(ref inner);
        inner.EnsureConsumed();
        return point;
    }
}
