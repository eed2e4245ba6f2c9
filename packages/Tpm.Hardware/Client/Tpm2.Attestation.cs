namespace TrustStack.Tpm.Hardware;

/// <summary>The result of TPM2_Quote.</summary>
/// <param name="Quoted">The marshalled TPMS_ATTEST (what was signed; tpm2-tools' quote message).</param>
/// <param name="Attest">The same, parsed.</param>
/// <param name="Signature">The signature over H(<paramref name="Quoted"/>).</param>
public sealed record QuoteResult(byte[] Quoted, TpmsAttest Attest, TpmtSignature Signature);

/// <summary>The result of TPM2_Certify.</summary>
/// <param name="CertifyInfo">The marshalled TPMS_ATTEST (what was signed).</param>
/// <param name="Attest">The same, parsed.</param>
/// <param name="Signature">The signature over H(<paramref name="CertifyInfo"/>).</param>
public sealed record CertifyResult(byte[] CertifyInfo, TpmsAttest Attest, TpmtSignature Signature);

/// <summary>Attestation commands: Quote and Certify.</summary>
public sealed partial class Tpm2
{
    /// <summary>TPM2_Quote: signs the digest of the selected PCRs with <paramref name="nonce"/> as qualifying data.</summary>
    /// <param name="handle">The signing key (an attestation key).</param>
    /// <param name="nonce">Qualifying data (the verifier's nonce), at most 64 octets.</param>
    /// <param name="pcrs">The PCRs to quote.</param>
    /// <param name="scheme">The scheme; null (TPM_ALG_NULL) uses the key's own scheme.</param>
    /// <param name="auth">Authorization of the key; the empty password by default.</param>
    /// <exception cref="TpmException">For example TPM_RC_KEY + handle 1 when the key cannot sign.</exception>
    public QuoteResult Quote(uint handle, byte[] nonce, PcrSelectionList pcrs, TpmtScheme? scheme = null, TpmAuthorization? auth = null)
    {
        ArgumentNullException.ThrowIfNull(nonce);
        ArgumentNullException.ThrowIfNull(pcrs);
        var r = Execute(
            TpmCc.Quote,
            [handle],
            [auth ?? TpmAuthorization.EmptyPassword],
            w =>
            {
                w.WriteTpm2b(nonce);
                (scheme ?? TpmtScheme.Null).Marshal(w);
                pcrs.Marshal(w);
            }).Reader();
        var (quoted, attest, signature) = ReadAttestation(ref r);
        return new QuoteResult(quoted, attest, signature);
    }

    /// <summary>TPM2_Certify: a signing key vouches for the Name and qualified name of a loaded object.</summary>
    /// <param name="objectHandle">The object to certify (ADMIN role).</param>
    /// <param name="signHandle">The signing key (USER role).</param>
    /// <param name="qualifyingData">Qualifying data (a nonce), at most 64 octets.</param>
    /// <param name="scheme">The scheme; null (TPM_ALG_NULL) uses the key's own scheme.</param>
    /// <param name="objectAuth">Authorization of the certified object; the empty password by default.</param>
    /// <param name="signAuth">Authorization of the signing key; the empty password by default.</param>
    /// <exception cref="TpmException">For example TPM_RC_KEY + handle 2 when the signing key cannot sign.</exception>
    public CertifyResult Certify(uint objectHandle, uint signHandle, byte[] qualifyingData, TpmtScheme? scheme = null, TpmAuthorization? objectAuth = null, TpmAuthorization? signAuth = null)
    {
        ArgumentNullException.ThrowIfNull(qualifyingData);
        var r = Execute(
            TpmCc.Certify,
            [objectHandle, signHandle],
            [objectAuth ?? TpmAuthorization.EmptyPassword, signAuth ?? TpmAuthorization.EmptyPassword],
            w =>
            {
                w.WriteTpm2b(qualifyingData);
                (scheme ?? TpmtScheme.Null).Marshal(w);
            }).Reader();
        var (info, attest, signature) = ReadAttestation(ref r);
        return new CertifyResult(info, attest, signature);
    }

    private static (byte[] Bytes, TpmsAttest Attest, TpmtSignature Signature) ReadAttestation(ref TpmReader r)
    {
        var bytes = r.ReadTpm2b();
        var signature = TpmtSignature.Unmarshal(ref r);
        r.EnsureConsumed();
        return (bytes, TpmsAttest.Parse(bytes), signature);
    }
}
