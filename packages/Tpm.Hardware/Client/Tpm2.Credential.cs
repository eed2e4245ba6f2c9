using System.Buffers.Binary;

namespace TrustStack.Tpm.Hardware;

/// <summary>Credential protection: MakeCredential (on a TPM or offline) and ActivateCredential.</summary>
public sealed partial class Tpm2
{
    /// <summary>TPM2_MakeCredential: protects <paramref name="credential"/> to the public key at <paramref name="handle"/> for the object named <paramref name="objectName"/>.</summary>
    /// <param name="handle">A loaded asymmetric restricted decryption key (an EK); no authorization is needed.</param>
    /// <param name="credential">The credential (typically a symmetric key), at most a digest of the key's nameAlg.</param>
    /// <param name="objectName">The Name of the object the credential is for (an AK).</param>
    /// <exception cref="TpmException">TPM_RC_TYPE + H1 (not a restricted decryption key), TPM_RC_SIZE + P1 (credential too long).</exception>
    public TpmCredential MakeCredential(uint handle, ReadOnlySpan<byte> credential, ReadOnlySpan<byte> objectName)
    {
        var credentialCopy = credential.ToArray();
        var nameCopy = objectName.ToArray();
        var r = Execute(TpmCc.MakeCredential, [handle], [], w =>
        {
            w.WriteTpm2b(credentialCopy);
            w.WriteTpm2b(nameCopy);
        }).Reader();
        var blob = r.ReadTpm2b();
        var secret = r.ReadTpm2b();
        r.EnsureConsumed();
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(credentialCopy);
        return new TpmCredential(blob, secret);
    }

    /// <summary>
    /// TPM2_ActivateCredential: recovers a credential made for the object at <paramref name="activateHandle"/>
    /// with the decryption key at <paramref name="keyHandle"/>.
    /// </summary>
    /// <param name="activateHandle">The object the credential names (an AK), authorized in the ADMIN role.</param>
    /// <param name="keyHandle">The decryption key the credential was made for (an EK), authorized in the USER role —
    /// for a TCG EK a policy session that has run PolicySecret(TPM_RH_ENDORSEMENT).</param>
    /// <param name="credentialBlob">TPM2B_ID_OBJECT content.</param>
    /// <param name="secret">TPM2B_ENCRYPTED_SECRET content.</param>
    /// <param name="activateAuth">Authorization of <paramref name="activateHandle"/>.</param>
    /// <param name="keyAuth">Authorization of <paramref name="keyHandle"/>.</param>
    /// <returns>The credential.</returns>
    /// <exception cref="TpmException">TPM_RC_INTEGRITY + P1 (made for another Name or another key), TPM_RC_VALUE + P2 (bad secret), TPM_RC_TYPE + H2.</exception>
    public byte[] ActivateCredential(uint activateHandle, uint keyHandle, ReadOnlySpan<byte> credentialBlob, ReadOnlySpan<byte> secret, TpmAuthorization activateAuth, TpmAuthorization keyAuth)
    {
        ArgumentNullException.ThrowIfNull(activateAuth);
        ArgumentNullException.ThrowIfNull(keyAuth);
        var blobCopy = credentialBlob.ToArray();
        var secretCopy = secret.ToArray();
        var r = Execute(TpmCc.ActivateCredential, [activateHandle, keyHandle], [activateAuth, keyAuth], w =>
        {
            w.WriteTpm2b(blobCopy);
            w.WriteTpm2b(secretCopy);
        }).Reader();
        var certInfo = r.ReadTpm2b();
        r.EnsureConsumed();
        return certInfo;
    }

    /// <summary>
    /// What TPM2_MakeCredential computes, without a TPM (as <c>tpm2_makecredential --tcti none</c>):
    /// a verifier protects a credential to an EK's public key for an AK's Name.
    /// </summary>
    /// <param name="encryptionKey">The public area of an RSA or ECC restricted decryption key (an EK).</param>
    /// <param name="credential">The credential, at most a digest of the key's nameAlg.</param>
    /// <param name="objectName">The Name of the object the credential is for.</param>
    /// <param name="random">Randomness for the seed; the OS CSPRNG by default.</param>
    /// <exception cref="ArgumentException">The key is not an asymmetric restricted decryption key, or the credential is too long.</exception>
    /// <exception cref="TpmException">TPM_RC_KEY: the public key is malformed.</exception>
    public static TpmCredential MakeCredentialOffline(TpmtPublic encryptionKey, ReadOnlySpan<byte> credential, ReadOnlySpan<byte> objectName, IRandomSource? random = null)
    {
        ArgumentNullException.ThrowIfNull(encryptionKey);
        var a = encryptionKey.ObjectAttributes;
        if (encryptionKey.Type is not (TpmAlgId.Rsa or TpmAlgId.Ecc) || (a & TpmaObject.Decrypt) == 0 || (a & TpmaObject.Restricted) == 0)
        {
            throw new ArgumentException("Credentials are protected only by asymmetric restricted decryption keys.", nameof(encryptionKey));
        }

        if (credential.Length > TpmHash.DigestSize(encryptionKey.NameAlg))
        {
            throw new ArgumentException($"A credential is at most a {encryptionKey.NameAlg} digest.", nameof(credential));
        }

        var (blob, secret) = CredentialProtection.MakeCredential(encryptionKey, credential, objectName, random ?? SystemRandomSource.Instance);
        return new TpmCredential(blob, secret);
    }
}

/// <summary>The output of TPM2_MakeCredential.</summary>
/// <param name="CredentialBlob">TPM2B_ID_OBJECT content: integrity HMAC and encrypted credential.</param>
/// <param name="Secret">TPM2B_ENCRYPTED_SECRET content: the seed, encrypted to the key.</param>
public sealed record TpmCredential(byte[] CredentialBlob, byte[] Secret);

/// <summary>
/// The credential file of tpm2-tools (<c>tpm2_makecredential -o</c>, <c>tpm2_activatecredential -i</c>):
/// u32 0xBADCC0DE ‖ u32 version 1 ‖ TPM2B_ID_OBJECT ‖ TPM2B_ENCRYPTED_SECRET, big-endian.
/// </summary>
public static class CredentialBlobFile
{
    /// <summary>The file's magic number.</summary>
    public const uint Magic = 0xBADCC0DE;

    /// <summary>The file format version tpm2-tools writes.</summary>
    public const uint Version = 1;

    /// <summary>Serializes <paramref name="credential"/> in the tpm2-tools format.</summary>
    /// <param name="credential">The credential blob and secret.</param>
    /// <exception cref="ArgumentException">A part is longer than a TPM2B can hold.</exception>
    public static byte[] Write(TpmCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        if (credential.CredentialBlob.Length > ushort.MaxValue || credential.Secret.Length > ushort.MaxValue)
        {
            throw new ArgumentException("The credential blob and secret must each fit a TPM2B.", nameof(credential));
        }

        var w = new TpmWriter(12 + credential.CredentialBlob.Length + credential.Secret.Length);
        w.WriteU32(Magic);
        w.WriteU32(Version);
        w.WriteTpm2b(credential.CredentialBlob);
        w.WriteTpm2b(credential.Secret);
        return w.ToArray();
    }

    /// <summary>Parses a tpm2-tools credential file.</summary>
    /// <param name="data">The file's contents.</param>
    /// <exception cref="FormatException">Wrong magic or version, truncated, or trailing octets.</exception>
    public static TpmCredential Read(ReadOnlySpan<byte> data)
    {
        if (data.Length < 8 || BinaryPrimitives.ReadUInt32BigEndian(data) != Magic)
        {
            throw new FormatException("Not a tpm2-tools credential file (the magic 0xBADCC0DE is missing).");
        }

        var version = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
        if (version != Version)
        {
            throw new FormatException($"Credential file version {version} is not supported (expected {Version}).");
        }

        try
        {
            var r = new TpmReader(data[8..]);
            var blob = r.ReadTpm2b();
            var secret = r.ReadTpm2b();
            r.EnsureConsumed();
            return new TpmCredential(blob, secret);
        }
        catch (TpmException e)
        {
            throw new FormatException($"Malformed credential file: {e.Message}", e);
        }
    }
}
