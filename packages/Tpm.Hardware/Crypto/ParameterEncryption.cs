using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Session-based parameter encryption (TPM 2.0 Part 1 §21): the data of the first command or
/// response parameter, when it is a TPM2B, is encrypted with a key derived from the session.
/// Shared by the engine (decrypts commands, encrypts responses) and the client (the reverse).
/// </summary>
internal static class ParameterEncryption
{
    private const int CfbBlockBits = 128;

    /// <summary>Which way the parameter travels: it decides the order of the nonces in the KDF.</summary>
    public enum Direction
    {
        /// <summary>Caller to TPM: contextU = nonceCaller, contextV = nonceTPM.</summary>
        Command,

        /// <summary>TPM to caller: contextU = nonceTPM (the new one), contextV = nonceCaller.</summary>
        Response,
    }

    /// <summary>Commands whose first parameter is a TPM2B (TPM 2.0 Part 3, "decrypt" in the command tables), of those this library knows.</summary>
    public static IReadOnlySet<TpmCc> DecryptableCommands { get; } = new HashSet<TpmCc>
    {
        TpmCc.CreatePrimary, TpmCc.Create, TpmCc.Load, TpmCc.LoadExternal, TpmCc.ObjectChangeAuth,
        TpmCc.Quote, TpmCc.Certify, TpmCc.NvCertify, TpmCc.GetTime, TpmCc.MakeCredential, TpmCc.ActivateCredential,
        TpmCc.Hash, TpmCc.HashSequenceStart, TpmCc.SequenceUpdate, TpmCc.SequenceComplete, TpmCc.EventSequenceComplete,
        TpmCc.HierarchyChangeAuth, TpmCc.NvDefineSpace, TpmCc.NvWrite, TpmCc.NvExtend, TpmCc.PcrEvent,
        TpmCc.PolicySecret, TpmCc.StirRandom, TpmCc.Sign, TpmCc.VerifySignature, TpmCc.Commit,
    };

    /// <summary>Commands whose first response parameter is a TPM2B (Part 3, "encrypt" in the response tables), of those this library knows.</summary>
    public static IReadOnlySet<TpmCc> EncryptableResponses { get; } = new HashSet<TpmCc>
    {
        TpmCc.CreatePrimary, TpmCc.Create, TpmCc.Load, TpmCc.LoadExternal, TpmCc.ObjectChangeAuth, TpmCc.ReadPublic, TpmCc.Unseal,
        TpmCc.Quote, TpmCc.Certify, TpmCc.NvCertify, TpmCc.GetTime, TpmCc.MakeCredential, TpmCc.ActivateCredential,
        TpmCc.Hash, TpmCc.SequenceComplete, TpmCc.NvRead, TpmCc.NvReadPublic, TpmCc.PolicySecret, TpmCc.PolicyGetDigest, TpmCc.GetRandom, TpmCc.Commit,
    };

    /// <summary>True for a session symmetric definition that can encrypt parameters (AES-CFB or XOR).</summary>
    public static bool CanEncrypt(TpmtSymDef symmetric) => symmetric.Algorithm is TpmAlgId.Aes or TpmAlgId.Xor;

    /// <summary>
    /// The data of the TPM2B at the start of <paramref name="parameters"/>, or false when its size
    /// field claims more octets than there are (TPM_RC_SIZE for a command).
    /// </summary>
    public static bool TryGetFirstTpm2b(Span<byte> parameters, out Span<byte> data)
    {
        data = default;
        if (parameters.Length < 2)
        {
            return false;
        }

        var size = BinaryPrimitives.ReadUInt16BigEndian(parameters);
        if (size > parameters.Length - 2)
        {
            return false;
        }

        data = parameters.Slice(2, size);
        return true;
    }

    /// <summary>
    /// Encrypts (<paramref name="encrypt"/>) or decrypts <paramref name="data"/> in place.
    /// CFB: key ‖ iv = KDFa(authHash, sessionKey ‖ authValue, "CFB", contextU, contextV, keyBits + 128);
    /// XOR: data ^= KDFa(authHash, sessionKey ‖ authValue, "XOR", contextU, contextV, 8·|data|)
    /// (Part 1 §21.2, §21.3), with the nonces ordered by <paramref name="direction"/>.
    /// </summary>
    /// <param name="symmetric">The session's symmetric definition (AES-CFB or XOR).</param>
    /// <param name="authHash">The session's hash algorithm.</param>
    /// <param name="sessionKey">The session key (empty for an unbound, unsalted session).</param>
    /// <param name="authValue">The authValue of the entity the session authorizes (empty when it authorizes none).</param>
    /// <param name="nonceCaller">The caller's nonce of this command.</param>
    /// <param name="nonceTpm">The TPM's nonce: the one the command was sent with, or the new one for a response.</param>
    /// <param name="direction">Command or response.</param>
    /// <param name="encrypt">Encrypt (true) or decrypt (false).</param>
    /// <param name="data">The TPM2B's data, transformed in place.</param>
    public static void Apply(TpmtSymDef symmetric, TpmAlgId authHash, ReadOnlySpan<byte> sessionKey, ReadOnlySpan<byte> authValue, ReadOnlySpan<byte> nonceCaller, ReadOnlySpan<byte> nonceTpm, Direction direction, bool encrypt, Span<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        var command = direction == Direction.Command;
        var contextU = command ? nonceCaller : nonceTpm;
        var contextV = command ? nonceTpm : nonceCaller;
        var key = new byte[sessionKey.Length + authValue.Length];
        sessionKey.CopyTo(key);
        authValue.CopyTo(key.AsSpan(sessionKey.Length));
        try
        {
            switch (symmetric.Algorithm)
            {
                case TpmAlgId.Xor:
                    SymmetricCipher.XorInPlace(authHash, key, contextU, contextV, data);
                    break;
                case TpmAlgId.Aes when symmetric.Mode == TpmAlgId.Cfb:
                    var keyBytes = symmetric.KeyBits / 8;
                    var keyAndIv = TpmKdf.KdfA(authHash, key, "CFB", contextU, contextV, symmetric.KeyBits + CfbBlockBits);
                    try
                    {
                        var cipherKey = keyAndIv.AsSpan(0, keyBytes);
                        var iv = keyAndIv.AsSpan(keyBytes);
                        if (encrypt)
                        {
                            SymmetricCipher.CfbEncryptInPlace(cipherKey, iv, data);
                        }
                        else
                        {
                            SymmetricCipher.CfbDecryptInPlace(cipherKey, iv, data);
                        }
                    }
                    finally
                    {
                        CryptographicOperations.ZeroMemory(keyAndIv);
                    }

                    break;
                default:
                    throw new ArgumentException($"{symmetric} cannot encrypt parameters.", nameof(symmetric));
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
