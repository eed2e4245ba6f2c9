using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>The source's checks of a destination's offer and prepare-receipt; every failed check is one reason.</summary>
internal static class MigrationOfferVerifier
{
    /// <summary>The TPMA_OBJECT bits a migration key must have: it never leaves its TPM, the TPM made its private part, and it only decrypts (restricted).</summary>
    private const TpmaObject RequiredKeyAttributes = TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin | TpmaObject.Restricted | TpmaObject.Decrypt;

    public static IReadOnlyList<string> Verify(OfferBody offer, Guid migrationId, Guid vmId, byte[] nonce, MigrationTrustPolicy policy)
    {
        var reasons = new List<string>();
        if (migrationId == Guid.Empty)
        {
            reasons.Add("the offer has no migration id");
        }

        if (offer.VmId != vmId || !CryptographicOperations.FixedTimeEquals(offer.Nonce, nonce))
        {
            reasons.Add("the offer answers another request (VM or nonce differ)");
        }

        if (offer.MinVersion < VTpmStateFormat.MinimumVersion || offer.MaxVersion > VTpmStateFormat.CurrentVersion || offer.MinVersion > offer.MaxVersion)
        {
            reasons.Add($"the offered state-format versions {offer.MinVersion}..{offer.MaxVersion} are outside {VTpmStateFormat.MinimumVersion}..{VTpmStateFormat.CurrentVersion}");
        }

        var akName = offer.AttestationKey.GetName();
        if (!policy.TrustedAttestationKeyNames.Any(n => n.AsSpan().SequenceEqual(akName)))
        {
            reasons.Add($"the destination's attestation key {Convert.ToHexString(akName)} is not trusted");
        }

        var keyName = offer.MigrationKey.GetName();
        var binding = MigrationBinding.Offer(nonce, migrationId, vmId, offer.MinVersion, offer.MaxVersion, keyName);

        // Platform attestation: a quote over the virtualization layer and the junction PCR, qualified by the binding.
        PcrValues reported;
        try
        {
            reported = PcrValues.ParseSerialized(offer.PcrValues, out _);
        }
        catch (FormatException e)
        {
            reasons.Add($"the reported PCR values are malformed: {e.Message}");
            return reasons;
        }

        var selection = policy.QuoteSelection();
        var quote = QuoteVerifier.Verify(new QuoteVerificationRequest(offer.AttestationKey, offer.QuoteMessage, offer.QuoteSignature, binding, reported) { ExpectedSelection = selection });
        reasons.AddRange(quote.Failures.Select(f => $"platform attestation: {f}"));
        foreach (var (bank, pcr) in policy.LayerSelection.Enumerate())
        {
            if (!policy.ExpectedLayerPcrs.TryGetValue(bank, pcr, out var expected))
            {
                reasons.Add($"the trust policy has no expected value for {bank.ToString().ToLowerInvariant()}:{pcr}");
            }
            else if (!reported.TryGetValue(bank, pcr, out var actual) || !actual.AsSpan().SequenceEqual(expected))
            {
                reasons.Add($"the destination's virtualization layer is not trusted: PCR {bank.ToString().ToLowerInvariant()}:{pcr} is {(actual is null ? "missing" : Convert.ToHexString(actual))}, expected {Convert.ToHexString(expected)}");
            }
        }

        // The migration key: certified by the same AK (TPM2_Certify), qualified by the binding, non-duplicable.
        var certify = CheckCertification(offer, keyName, binding);
        if (certify is not null)
        {
            reasons.Add($"the migration key is not certified by the destination's TPM: {certify}");
        }

        if ((offer.MigrationKey.ObjectAttributes & RequiredKeyAttributes) != RequiredKeyAttributes ||
            (offer.MigrationKey.ObjectAttributes & TpmaObject.Sign) != 0 ||
            offer.MigrationKey.Type is not (TpmAlgId.Rsa or TpmAlgId.Ecc))
        {
            reasons.Add($"the migration key is not a non-duplicable restricted decryption key (attributes {offer.MigrationKey.ObjectAttributes})");
        }

        return reasons;
    }

    /// <summary>Checks a prepare-receipt; null when valid, else why not.</summary>
    public static string? CheckReceipt(byte[] body, TpmtPublic attestationKey, Guid migrationId, Guid vmId, byte[] packageDigest)
    {
        ReceiptBody receipt;
        TpmsAttest attest;
        try
        {
            receipt = ReceiptBody.Decode(body);
            attest = TpmsAttest.Parse(receipt.QuoteMessage);
        }
        catch (Exception e) when (e is FormatException or TpmException)
        {
            return $"the prepare-receipt is malformed: {e.Message}";
        }

        if (receipt.VmId != vmId || !CryptographicOperations.FixedTimeEquals(receipt.PackageDigest, packageDigest))
        {
            return "the prepare-receipt is for another VM or package";
        }

        var signature = TpmSignatureVerifier.CheckMessage(attestationKey, receipt.QuoteMessage, receipt.Signature);
        if (!signature.IsValid)
        {
            return $"the prepare-receipt is not signed by the destination's attestation key: {signature.FailureReason}";
        }

        return attest.Magic != TpmsAttest.GeneratedValue || attest.Type != TpmSt.AttestQuote ||
            !CryptographicOperations.FixedTimeEquals(attest.ExtraData, MigrationBinding.Receipt(migrationId, vmId, packageDigest))
            ? "the prepare-receipt is not a TPM quote over this migration's receipt digest"
            : null;
    }

    private static string? CheckCertification(OfferBody offer, byte[] keyName, byte[] binding)
    {
        TpmsAttest attest;
        try
        {
            attest = TpmsAttest.Parse(offer.CertifyMessage);
        }
        catch (TpmException e)
        {
            return $"the certification does not parse ({e.Message})";
        }

        var signature = TpmSignatureVerifier.CheckMessage(offer.AttestationKey, offer.CertifyMessage, offer.CertifySignature);
        if (!signature.IsValid)
        {
            return $"the certification is not signed by the attestation key ({signature.FailureReason})";
        }

        if (attest.Magic != TpmsAttest.GeneratedValue || attest.Attested is not CertifyInfo info)
        {
            return "the certification is not a TPM-generated TPMS_CERTIFY_INFO";
        }

        if (!CryptographicOperations.FixedTimeEquals(attest.ExtraData, binding))
        {
            return "the certification is not qualified by this offer (replayed or for another migration)";
        }

        return info.Name.AsSpan().SequenceEqual(keyName) ? null : "the certification names another key";
    }
}
