using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Credential protection (TPM 2.0 Part 1 §24, Part 3 TPM2_MakeCredential / TPM2_ActivateCredential):
/// a credential sealed to an encryption key (an EK) and bound to an object's Name.
/// seed = SecretSharing(key, "IDENTITY"); credentialBlob (TPM2B_ID_OBJECT content) =
/// TPM2B(HMAC(KDFa(nameAlg, seed, "INTEGRITY"), encIdentity ‖ name)) ‖ encIdentity, with
/// encIdentity = CFB(KDFa(nameAlg, seed, "STORAGE", name, "", symBits), IV 0, TPM2B(credential)).
/// </summary>
internal static class CredentialProtection
{
    /// <summary>The label of the credential seed.</summary>
    public const string IdentityLabel = "IDENTITY";

    /// <summary>Makes a credential blob and its secret for <paramref name="encryptionKey"/> and <paramref name="objectName"/>.</summary>
    /// <exception cref="TpmException">TPM_RC_TYPE (not a restricted decryption key with a symmetric algorithm), TPM_RC_SIZE (credential longer than a nameAlg digest), TPM_RC_KEY.</exception>
    public static (byte[] CredentialBlob, byte[] Secret) MakeCredential(TpmtPublic encryptionKey, ReadOnlySpan<byte> credential, ReadOnlySpan<byte> objectName, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(encryptionKey);
        ArgumentNullException.ThrowIfNull(random);
        CheckKey(encryptionKey);
        if (credential.Length > TpmHash.DigestSize(encryptionKey.NameAlg))
        {
            throw new TpmException(TpmRc.Size, $"a credential is at most a {encryptionKey.NameAlg} digest");
        }

        var (seed, secret) = SecretSharing.Encrypt(encryptionKey, IdentityLabel, random);
        var plaintext = new byte[2 + credential.Length];
        plaintext[0] = (byte)(credential.Length >> 8);
        plaintext[1] = (byte)credential.Length;
        credential.CopyTo(plaintext.AsSpan(2));
        try
        {
            var blob = ObjectProtection.ProduceOuterWrap(encryptionKey.NameAlg, seed, encryptionKey.Parameters.Symmetric, objectName, plaintext);
            return (blob, secret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Recovers the credential (TPM2_ActivateCredential).</summary>
    /// <exception cref="TpmException">TPM_RC_INTEGRITY (blob does not match the seed or the name), TPM_RC_SIZE (malformed credential), and the errors of <see cref="SecretSharing.Decrypt"/>.</exception>
    public static byte[] ActivateCredential(TpmPrivateKey key, TpmtPublic keyPublic, ReadOnlySpan<byte> credentialBlob, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> objectName)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(keyPublic);
        CheckKey(keyPublic);
        var seed = SecretSharing.Decrypt(key, keyPublic, IdentityLabel, secret);
        byte[]? plaintext = null;
        try
        {
            plaintext = ObjectProtection.UnwrapOuter(keyPublic.NameAlg, seed, keyPublic.Parameters.Symmetric, objectName, credentialBlob);
            var reader = new TpmReader(plaintext);
            var credential = reader.ReadTpm2b(TpmHash.DigestSize(keyPublic.NameAlg));
            reader.EnsureConsumed();
            return credential;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
            if (plaintext is not null)
            {
                CryptographicOperations.ZeroMemory(plaintext);
            }
        }
    }

    private static void CheckKey(TpmtPublic key)
    {
        var a = key.ObjectAttributes;
        if (key.Type is not (TpmAlgId.Rsa or TpmAlgId.Ecc) || !a.HasFlag(TpmaObject.Decrypt) || !a.HasFlag(TpmaObject.Restricted))
        {
            throw new TpmException(TpmRc.Type, "credentials are protected by asymmetric restricted decryption keys");
        }
    }
}
