using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_MakeCredential and TPM2_ActivateCredential (TPM 2.0 Part 3 §12.5–12.6, Part 1 §24).</summary>
internal sealed class CredentialCommands : ICommandGroup
{
    /// <summary>sizeof(TPMU_HA): the largest TPM2B_DIGEST.</summary>
    public const int MaxDigestSize = 64;

    /// <summary>sizeof(TPMU_NAME): a hash algorithm and the largest digest.</summary>
    public const int MaxNameSize = 2 + MaxDigestSize;

    /// <summary>sizeof(TPMS_ID_OBJECT): integrity HMAC and encrypted TPM2B_DIGEST.</summary>
    public const int MaxIdObjectSize = 2 + MaxDigestSize + 2 + MaxDigestSize;

    /// <summary>sizeof(TPMU_ENCRYPTED_SECRET) for RSA-4096 (the largest the unmarshaller accepts).</summary>
    public const int MaxEncryptedSecretSize = 512;

    public void Register(CommandTable table)
    {
        table.Add(TpmCc.MakeCredential, [new HandleSpec(HandleKinds.Object)], 0, MakeCredential, CommandFlags.DecryptFirst | CommandFlags.EncryptFirst);
        table.Add(
            TpmCc.ActivateCredential,
            [new HandleSpec(HandleKinds.Object, AuthRole.Admin), new HandleSpec(HandleKinds.Object, AuthRole.User)],
            0,
            ActivateCredential,
            CommandFlags.DecryptFirst | CommandFlags.EncryptFirst);
    }

    /// <summary>Part 3 §12.6: protects <c>credential</c> to the public key at handle 1 for the object named <c>objectName</c>.</summary>
    private static void MakeCredential(CommandContext c)
    {
        var r = c.ReadParameters();
        var credential = r.ReadTpm2b(MaxDigestSize);
        r.Parameter = 2;
        var objectName = r.ReadTpm2b(MaxNameSize);
        r.EnsureConsumed();

        var key = c.Object(0);
        CheckCredentialKey(key, 1);
        if (credential.Length > TpmHash.DigestSize(key.Public.NameAlg))
        {
            throw CommandContext.ParameterError(TpmRc.Size, 1, $"a credential is at most a {key.Public.NameAlg} digest");
        }

        try
        {
            var (blob, secret) = CredentialProtection.MakeCredential(key.Public, credential, objectName, c.Tpm.Random);
            c.Output.WriteTpm2b(blob);
            c.Output.WriteTpm2b(secret);
        }
        catch (TpmException e) when (e.ResponseCode is TpmRc.Key or TpmRc.EccPoint or TpmRc.NoResult)
        {
            // A loaded public key that cannot encrypt is the key's fault (Part 3: TPM_RC_KEY for handle 1).
            throw CommandContext.HandleError(TpmRc.Key, 1, e.Message);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(credential);
        }
    }

    /// <summary>
    /// Part 3 §12.5: recovers the seed from <c>secret</c> with the private key at handle 2 (USER role),
    /// checks the blob's integrity against the Name of the object at handle 1 (ADMIN role), and
    /// returns the credential.
    /// </summary>
    private static void ActivateCredential(CommandContext c)
    {
        var r = c.ReadParameters();
        var credentialBlob = r.ReadTpm2b(MaxIdObjectSize);
        r.Parameter = 2;
        var secret = r.ReadTpm2b(MaxEncryptedSecretSize);
        r.EnsureConsumed();

        var activateObject = c.Object(0);
        var key = c.Object(1);
        CheckCredentialKey(key, 2);
        ObjectCommands.RequirePrivate(key);

        var privateKey = key.GetPrivateKey(c.Tpm.Secrets.AllowsDerivedKeyCaching, out var callerDisposes);
        byte[] seed;
        try
        {
            seed = SecretSharing.Decrypt(privateKey, key.Public, CredentialProtection.IdentityLabel, secret);
        }
        catch (TpmException e)
        {
            // TPM_RC_KEY here means the TPM's own key is broken (ms-tpm-20-ref returns TPM_RC_FAILURE).
            throw e.ResponseCode == TpmRc.Key ? new TpmException(TpmRc.Failure, e.Message, e) : CommandContext.Numbered(e, 2);
        }
        finally
        {
            if (callerDisposes)
            {
                privateKey.Dispose();
            }
        }

        byte[]? plaintext = null;
        try
        {
            plaintext = ObjectProtection.UnwrapOuter(key.Public.NameAlg, seed, key.Public.Parameters.Symmetric, activateObject.Name, credentialBlob);
            var pr = new TpmReader(plaintext) { Parameter = 1 };
            var certInfo = pr.ReadTpm2b(TpmHash.DigestSize(key.Public.NameAlg));
            pr.EnsureConsumed();
            c.Output.WriteTpm2b(certInfo);
            CryptographicOperations.ZeroMemory(certInfo);
        }
        catch (TpmException e)
        {
            throw CommandContext.Numbered(e, 1);
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

    /// <summary>Credentials are protected by asymmetric, restricted decryption keys (TPM_RC_TYPE + handle n otherwise).</summary>
    private static void CheckCredentialKey(TpmObject key, int handle)
    {
        var a = key.Attributes;
        if (key.Public.Type is not (TpmAlgId.Rsa or TpmAlgId.Ecc) || (a & TpmaObject.Decrypt) == 0 || (a & TpmaObject.Restricted) == 0)
        {
            throw CommandContext.HandleError(TpmRc.Type, handle, "credentials are protected only by asymmetric restricted decryption keys");
        }
    }
}
