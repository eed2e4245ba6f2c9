namespace TrustStack.Tpm.Hardware;

/// <summary>Signing commands: Sign and VerifySignature.</summary>
public sealed partial class Tpm2
{
    /// <summary>TPM2_Sign: signs a digest with a loaded signing key.</summary>
    /// <param name="handle">The signing key.</param>
    /// <param name="digest">The digest to sign (the size of the scheme's hash).</param>
    /// <param name="scheme">The scheme; null (TPM_ALG_NULL) uses the key's own scheme.</param>
    /// <param name="validation">A TPMT_TK_HASHCHECK from TPM2_Hash, needed by restricted keys; the null ticket by default.</param>
    /// <param name="auth">Authorization of the key; the empty password by default.</param>
    /// <exception cref="TpmException">For example TPM_RC_TICKET + parameter 3 for a restricted key without a valid ticket, TPM_RC_SCHEME + parameter 2.</exception>
    public TpmtSignature Sign(uint handle, byte[] digest, TpmtScheme? scheme = null, TpmtTicket? validation = null, TpmAuthorization? auth = null)
    {
        ArgumentNullException.ThrowIfNull(digest);
        var r = Execute(
            TpmCc.Sign,
            [handle],
            [auth ?? TpmAuthorization.EmptyPassword],
            w =>
            {
                w.WriteTpm2b(digest);
                (scheme ?? TpmtScheme.Null).Marshal(w);
                (validation ?? TpmtTicket.NullHashCheck).Marshal(w);
            }).Reader();
        var signature = TpmtSignature.Unmarshal(ref r);
        r.EnsureConsumed();
        return signature;
    }

    /// <summary>TPM2_VerifySignature: checks a signature with a loaded key and returns a TPMT_TK_VERIFIED ticket.</summary>
    /// <param name="handle">The key (a public key loaded with <see cref="LoadExternal"/> will do).</param>
    /// <param name="digest">The signed digest.</param>
    /// <param name="signature">The signature.</param>
    /// <exception cref="TpmException">TPM_RC_SIGNATURE + parameter 2 when the signature does not verify.</exception>
    public TpmtTicket VerifySignature(uint handle, byte[] digest, TpmtSignature signature)
    {
        ArgumentNullException.ThrowIfNull(digest);
        ArgumentNullException.ThrowIfNull(signature);
        var r = Execute(
            TpmCc.VerifySignature,
            [handle],
            [],
            w =>
            {
                w.WriteTpm2b(digest);
                signature.Marshal(w);
            }).Reader();
        var ticket = TpmtTicket.Unmarshal(ref r);
        r.EnsureConsumed();
        return ticket;
    }
}
