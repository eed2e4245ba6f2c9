using System.Security.Cryptography;
using System.Text;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector;

/// <summary>The outcome of opening a sealed evidence store.</summary>
/// <param name="Content">The evidence, or null when the store did not open.</param>
/// <param name="Failure">Null, or why: the key did not unseal (platform PCRs changed, blob altered) or the ciphertext was tampered with.</param>
public sealed record EvidenceStoreOpenResult(byte[]? Content, string? Failure)
{
    /// <summary>True when the content was recovered and authenticated.</summary>
    public bool IsOpen => Content is not null;
}

/// <summary>
/// Evidence at rest, TPM-protected: a fresh 256-bit AES key is sealed by the TPM (a sealed data
/// object under the storage primary, PolicyPCR over the platform PCRs), and the evidence is
/// encrypted with AES-256-GCM under it. Layout of the store directory: <c>key.pub</c>
/// (TPM2B_PUBLIC of the sealed object), <c>key.priv</c> (its TPM2B_PRIVATE), <c>evidence.sealed</c>
/// = nonce (12) ‖ tag (16) ‖ ciphertext, with the associated data "truststack-evidence-store/1".
/// Any change to the ciphertext fails the GCM tag; a change of the platform PCRs or of the key
/// blob fails the unseal.
/// </summary>
public static class EvidenceStore
{
    /// <summary>File names in the store directory.</summary>
    public const string KeyPublicFile = "key.pub", KeyPrivateFile = "key.priv", ContentFile = "evidence.sealed";

    private static readonly byte[] AssociatedData = Encoding.ASCII.GetBytes("truststack-evidence-store/1");

    /// <summary>Seals <paramref name="content"/> into <paramref name="directory"/>.</summary>
    /// <param name="tpm">The agent's TPM.</param>
    /// <param name="directory">The store directory (created).</param>
    /// <param name="content">The evidence (for example the log and records).</param>
    /// <param name="sealPcrs">The platform PCRs the key is sealed to.</param>
    /// <param name="random">Randomness for the key and nonce.</param>
    public static void Write(EvidenceTpm tpm, string directory, ReadOnlySpan<byte> content, PcrSelectionList sealPcrs, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(random);
        var key = new byte[32];
        try
        {
            random.Fill(key);
            var nonce = new byte[12];
            random.Fill(nonce);
            var sealedKey = tpm.Seal(key, sealPcrs);
            var output = new byte[12 + 16 + content.Length];
            using (var gcm = new AesGcm(key, 16))
            {
                gcm.Encrypt(nonce, content, output.AsSpan(28), output.AsSpan(12, 16), AssociatedData);
            }

            nonce.CopyTo(output, 0);
            Directory.CreateDirectory(directory);
            var pub = new TpmWriter();
            sealedKey.Public.MarshalSized(pub);
            File.WriteAllBytes(Path.Combine(directory, KeyPublicFile), pub.ToArray());
            var priv = new TpmWriter();
            priv.WriteTpm2b(sealedKey.Private);
            File.WriteAllBytes(Path.Combine(directory, KeyPrivateFile), priv.ToArray());
            File.WriteAllBytes(Path.Combine(directory, ContentFile), output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Unseals the key and decrypts the store; tampering is a failure result, not an exception.</summary>
    /// <exception cref="FileNotFoundException">A store file is missing.</exception>
    public static EvidenceStoreOpenResult Open(EvidenceTpm tpm, string directory, PcrSelectionList sealPcrs)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(directory);
        var sealedContent = File.ReadAllBytes(Path.Combine(directory, ContentFile));
        if (sealedContent.Length < 28)
        {
            return new EvidenceStoreOpenResult(null, $"{ContentFile} is shorter than nonce and tag");
        }

        byte[] key;
        try
        {
            var pubReader = new TpmReader(File.ReadAllBytes(Path.Combine(directory, KeyPublicFile)));
            var pub = TpmtPublic.UnmarshalSized(ref pubReader);
            var privReader = new TpmReader(File.ReadAllBytes(Path.Combine(directory, KeyPrivateFile)));
            var priv = privReader.ReadTpm2b();
            key = tpm.Unseal(new SealedBlob(priv, pub), sealPcrs);
        }
        catch (TpmException e)
        {
            return new EvidenceStoreOpenResult(null, $"the storage key did not unseal: {e.Message}");
        }

        try
        {
            if (key.Length != 32)
            {
                return new EvidenceStoreOpenResult(null, "the unsealed key is not 32 octets");
            }

            var content = new byte[sealedContent.Length - 28];
            using var gcm = new AesGcm(key, 16);
            gcm.Decrypt(sealedContent.AsSpan(0, 12), sealedContent.AsSpan(28), sealedContent.AsSpan(12, 16), content, AssociatedData);
            return new EvidenceStoreOpenResult(content, null);
        }
        catch (AuthenticationTagMismatchException)
        {
            return new EvidenceStoreOpenResult(null, "the evidence store was tampered with at rest (AES-GCM tag mismatch)");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
