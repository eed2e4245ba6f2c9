using TrustStack.Tpm.Hardware;

namespace TrustStack.Tests.Shared;

/// <summary>
/// The quote forgery of issue 19, made with the real tools: an <em>unrestricted</em> ECDSA signing
/// key (<c>tpm2_create -G ecc256:ecdsa</c> under an owner primary) signs (<c>tpm2_sign</c>) a
/// genuine quote's TPMS_ATTEST whose pcrDigest was replaced by the digest of invented PCR values.
/// The signature is cryptographically valid; only the key's missing <c>restricted</c> attribute
/// (TPMA_OBJECT, TPM 2.0 Part 2 §8.3) tells it from a quote.
/// A restricted key refuses to sign it: TPM2_Sign needs a ticket proving the digest was not of a
/// TPM_GENERATED_VALUE structure (TPM 2.0 Part 3 §20.2).
/// </summary>
public static class TpmToolsForgery
{
    /// <summary>TPM2B_PUBLIC of the unrestricted signing key.</summary>
    public const string KeyPublic = "forger.pub";

    /// <summary>Saved context of the loaded unrestricted key.</summary>
    public const string KeyContext = "forger.ctx";

    /// <summary>The forged TPMS_ATTEST.</summary>
    public const string Message = "forged.msg";

    /// <summary>The forger's TPMT_SIGNATURE over <see cref="Message"/>.</summary>
    public const string Signature = "forged.sig";

    /// <summary>The invented PCR values in tpm2-tools' serialized form.</summary>
    public const string Pcrs = "forged-pcrs.ser";

    /// <summary>
    /// Makes the forgery files in <paramref name="swtpm"/>'s working folder from the genuine quote
    /// message <paramref name="genuineMessage"/> (made with <c>-g sha256</c>); returns the invented values.
    /// </summary>
    public static PcrValues Make(SwtpmProcess swtpm, string genuineMessage)
    {
        ArgumentNullException.ThrowIfNull(swtpm);

        // swtpm has no resource manager: flush the transient objects after every step.
        void Tool(string tool, params string[] args)
        {
            swtpm.RunTool(tool, args);
            swtpm.RunTool("tpm2_flushcontext", "-t");
        }

        Tool("tpm2_createprimary", "-C", "o", "-G", "ecc", "-c", "forger-parent.ctx");
        Tool("tpm2_create", "-C", "forger-parent.ctx", "-G", "ecc256:ecdsa", "-u", KeyPublic, "-r", "forger.priv");
        Tool("tpm2_load", "-C", "forger-parent.ctx", "-u", KeyPublic, "-r", "forger.priv", "-c", KeyContext);

        var genuine = TpmsAttest.Parse(swtpm.ReadFile(genuineMessage));
        var quote = (QuoteInfo)genuine.Attested;
        var invented = PcrValues.Create(quote.PcrSelect.Enumerate().Select(p => (p.Bank, p.Pcr, TpmHash.Hash(p.Bank, [.. "invented"u8, (byte)p.Pcr]))));
        var forged = genuine with { Attested = quote with { PcrDigest = invented.ComputeDigest(quote.PcrSelect, TpmAlgId.Sha256) } };
        File.WriteAllBytes(swtpm.PathOf(Message), forged.ToBytes());
        File.WriteAllBytes(swtpm.PathOf(Pcrs), invented.ToSerializedFormat(quote.PcrSelect));
        Tool("tpm2_sign", "-c", KeyContext, "-g", "sha256", "-s", "ecdsa", "-o", Signature, Message);
        return invented;
    }
}
