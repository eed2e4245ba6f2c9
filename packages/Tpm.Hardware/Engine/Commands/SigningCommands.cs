using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_Sign and TPM2_VerifySignature (TPM 2.0 Part 3 §20), plus the scheme selection and tickets the attestation commands share.</summary>
internal sealed class SigningCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
        table.Add(TpmCc.Sign, [new(HandleKinds.Object, AuthRole.User)], 0, Sign, CommandFlags.DecryptFirst);
        table.Add(TpmCc.VerifySignature, [new(HandleKinds.Object)], 0, VerifySignature, CommandFlags.DecryptFirst);
    }

    /// <summary>IsSigningObject: sign SET and not a symmetric cipher.</summary>
    internal static bool IsSigningObject(TpmObject o) => (o.Attributes & TpmaObject.Sign) != 0 && o.Public.Type != TpmAlgId.Symcipher;

    /// <summary>
    /// Reads a TPMT_SIG_SCHEME (+NULL) as the reference unmarshals it: the selector first
    /// (TPM_RC_SCHEME before any detail is read), then its hash (TPM_RC_HASH) and, for ECDAA, the
    /// count. The caller has set the parameter number.
    /// </summary>
    internal static TpmtScheme ReadSignatureScheme(ref TpmReader r)
    {
        var scheme = r.ReadAlg();
        if (scheme is not (TpmAlgId.Null or TpmAlgId.Rsassa or TpmAlgId.Rsapss or TpmAlgId.Ecdsa or TpmAlgId.Ecdaa or TpmAlgId.Sm2 or TpmAlgId.Ecschnorr or TpmAlgId.Hmac))
        {
            throw r.Fail(TpmRc.Scheme, $"{scheme} is not a signature scheme");
        }

        if (scheme == TpmAlgId.Null)
        {
            return TpmtScheme.Null;
        }

        var hash = r.ReadAlg();
        if (!TpmHash.IsSupported(hash))
        {
            throw r.Fail(TpmRc.Hash, $"scheme hash {hash} is not implemented");
        }

        return scheme == TpmAlgId.Ecdaa ? new TpmtScheme(scheme, hash, r.ReadU16()) : new TpmtScheme(scheme, hash);
    }

    /// <summary>
    /// CryptSelectSignScheme: the key's scheme unless it is TPM_ALG_NULL (then the caller's); when
    /// both are given they must agree. Null when no usable scheme results.
    /// </summary>
    internal static TpmtScheme? SelectScheme(TpmObject key, TpmtScheme requested)
    {
        var keyScheme = key.Public.Parameters switch
        {
            RsaParms rsa => rsa.Scheme,
            EccParms ecc => ecc.Scheme,
            KeyedHashParms keyed => keyed.Scheme,
            _ => null,
        };
        if (keyScheme is null)
        {
            return null;
        }

        if (keyScheme.Scheme == TpmAlgId.Null)
        {
            return requested.Scheme == TpmAlgId.Null ? null : requested;
        }

        if (requested.Scheme == TpmAlgId.Null)
        {
            // A split scheme (ECDAA) needs the caller's commit counter.
            return keyScheme.Scheme == TpmAlgId.Ecdaa ? null : keyScheme;
        }

        return keyScheme.Scheme == requested.Scheme && keyScheme.HashAlg == requested.HashAlg ? requested : null;
    }

    /// <summary>True when the engine can sign with <paramref name="scheme"/> using a key of this type.</summary>
    internal static bool CanSign(TpmObject key, TpmtScheme scheme) => (key.Public.Type, scheme.Scheme) switch
    {
        (TpmAlgId.Rsa, TpmAlgId.Rsassa or TpmAlgId.Rsapss) => true,
        (TpmAlgId.Ecc, TpmAlgId.Ecdsa or TpmAlgId.Ecdaa) => true,
        (TpmAlgId.Keyedhash, TpmAlgId.Hmac) => true,
        _ => false,
    } && TpmHash.IsSupported(scheme.HashAlg);

    /// <summary>Signs <paramref name="digest"/> with a loaded key (RFC 6979 ECDSA in deterministic mode).</summary>
    internal static TpmtSignature SignDigest(CommandContext c, TpmObject key, TpmtScheme scheme, ReadOnlySpan<byte> digest)
    {
        if (key.Public.Type == TpmAlgId.Keyedhash)
        {
            using var sensitive = key.ReadSensitive();
            return new TpmtSignature(TpmAlgId.Hmac, scheme.HashAlg, TpmHash.Hmac(scheme.HashAlg, sensitive.Sensitive, digest.ToArray()), [], []);
        }

        if (scheme.Scheme == TpmAlgId.Ecdaa)
        {
            return EcdaaCommands.Sign(c, key, scheme, digest);
        }

        var privateKey = key.GetPrivateKey(c.Tpm.Secrets.AllowsDerivedKeyCaching, out var callerDisposes);
        try
        {
            return privateKey.Sign(scheme, digest, c.Tpm.IsDeterministic, c.Tpm.Random);
        }
        finally
        {
            if (callerDisposes)
            {
                privateKey.Dispose();
            }
        }
    }

    private static void Sign(CommandContext c)
    {
        var key = c.Object(0);
        var r = c.ReadParameters();
        var digest = r.ReadTpm2b(64);
        r.Parameter = 2;
        var requested = ReadSignatureScheme(ref r);
        r.Parameter = 3;
        var tag = (TpmSt)r.ReadU16();
        if (tag != TpmSt.Hashcheck)
        {
            throw r.Fail(TpmRc.Tag, $"validation tag 0x{(ushort)tag:x4} is not TPM_ST_HASHCHECK");
        }

        var hierarchy = r.ReadU32();
        if (hierarchy is not (TpmRh.Owner or TpmRh.Endorsement or TpmRh.Platform or TpmRh.Null))
        {
            throw r.Fail(TpmRc.Value, $"validation hierarchy 0x{hierarchy:x8}");
        }

        var ticketDigest = r.ReadTpm2b(64);
        r.EnsureConsumed();

        if (!IsSigningObject(key))
        {
            throw CommandContext.HandleError(TpmRc.Key, 1, "not a signing key");
        }

        if ((key.Attributes & TpmaObject.X509Sign) != 0)
        {
            throw CommandContext.HandleError(TpmRc.Attributes, 1, "an x509sign key cannot sign with TPM2_Sign");
        }

        var scheme = SelectScheme(key, requested);
        if (scheme is null || !CanSign(key, scheme))
        {
            throw CommandContext.ParameterError(TpmRc.Scheme, 2, $"scheme {requested.Scheme} cannot be used with this key");
        }

        // A restricted key signs only digests the TPM computed itself (with a ticket proving that
        // the data did not start with TPM_GENERATED_VALUE), Part 1 §25.2.
        if (ticketDigest.Length != 0 || (key.Attributes & TpmaObject.Restricted) != 0)
        {
            var expected = Tickets.HashCheckDigest(c.State, hierarchy, digest);
            if (ticketDigest.Length != expected.Length || !CryptographicOperations.FixedTimeEquals(ticketDigest, expected))
            {
                throw CommandContext.ParameterError(TpmRc.Ticket, 3, "the hash-check ticket does not validate the digest");
            }
        }

        if (digest.Length != TpmHash.DigestSize(scheme.HashAlg))
        {
            throw CommandContext.ParameterError(TpmRc.Size, 1, $"a {scheme.HashAlg} digest has {TpmHash.DigestSize(scheme.HashAlg)} octets, not {digest.Length}");
        }

        ObjectCommands.RequirePrivate(key);
        SignDigest(c, key, scheme, digest).Marshal(c.Output);
    }

    private static void VerifySignature(CommandContext c)
    {
        var key = c.Object(0);
        var r = c.ReadParameters();
        var digest = r.ReadTpm2b(64);
        r.Parameter = 2;
        var signature = TpmtSignature.Unmarshal(ref r);
        if (signature.SigAlg == TpmAlgId.Null)
        {
            throw r.Fail(TpmRc.Scheme, "the signature is TPM_ALG_NULL");
        }

        if (!TpmHash.IsSupported(signature.Hash))
        {
            throw r.Fail(TpmRc.Hash, $"signature hash {signature.Hash}");
        }

        r.EnsureConsumed();

        if ((key.Attributes & TpmaObject.Sign) == 0)
        {
            throw CommandContext.HandleError(TpmRc.Attributes, 1, "not a signing key");
        }

        Verify(key, digest, signature);

        var hierarchy = key.Hierarchy;
        var ticket = hierarchy == TpmRh.Null
            ? new TpmtTicket(TpmSt.Verified, TpmRh.Null, [])
            : new TpmtTicket(TpmSt.Verified, hierarchy, Tickets.Hmac(c.State, hierarchy, TpmSt.Verified, digest, key.Name));
        ticket.Marshal(c.Output);
    }

    /// <summary>CryptValidateSignature: TPM_RC_SCHEME + P2 for a scheme the key cannot use, TPM_RC_SIGNATURE + P2 when it does not verify.</summary>
    private static void Verify(TpmObject key, byte[] digest, TpmtSignature signature)
    {
        var p = key.Public;
        bool valid;
        switch (p.Type, signature.SigAlg)
        {
            case (TpmAlgId.Rsa, TpmAlgId.Rsassa or TpmAlgId.Rsapss):
                valid = VerifyRsa(p, digest, signature);
                break;
            case (TpmAlgId.Ecc, TpmAlgId.Ecdsa):
                valid = VerifyEcdsa(p, digest, signature);
                break;
            case (TpmAlgId.Keyedhash, TpmAlgId.Hmac):
                if (key.IsPublicOnly)
                {
                    throw CommandContext.ParameterError(TpmRc.Handle, 2, "an HMAC signature needs the key's sensitive area");
                }

                var keyScheme = ((KeyedHashParms)p.Parameters).Scheme;
                if (keyScheme.Scheme != TpmAlgId.Null && keyScheme.HashAlg != signature.Hash)
                {
                    throw CommandContext.ParameterError(TpmRc.Scheme, 2, "the HMAC hash differs from the key's");
                }

                using (var sensitive = key.ReadSensitive())
                {
                    var expected = TpmHash.Hmac(signature.Hash, sensitive.Sensitive, digest);
                    valid = CryptographicOperations.FixedTimeEquals(expected, signature.RsaSignature);
                }

                break;
            default:
                throw CommandContext.ParameterError(TpmRc.Scheme, 2, $"a {p.Type} key cannot verify a {signature.SigAlg} signature");
        }

        if (!valid)
        {
            throw CommandContext.ParameterError(TpmRc.Signature, 2, "the signature does not verify");
        }
    }

    /// <summary>RSASSA / RSAPSS through the TPM-free verifier (PSS with the digest-size or the maximum salt).</summary>
    private static bool VerifyRsa(TpmtPublic p, byte[] digest, TpmtSignature signature) =>
        TpmSignatureVerifier.Check(p, digest, signature).IsValid;

    /// <summary>ECDSA: NIST curves through the TPM-free verifier, the others (BN P-256) with BouncyCastle.</summary>
    private static bool VerifyEcdsa(TpmtPublic p, byte[] digest, TpmtSignature signature)
    {
        var curve = EccCurves.Get(((EccParms)p.Parameters).Curve);
        if (curve.DotNetCurve is not null)
        {
            return TpmSignatureVerifier.Check(p, digest, signature).IsValid;
        }

        var size = curve.OrderSize;
        if (signature.SignatureR.Length > size || signature.SignatureS.Length > size)
        {
            return false;
        }

        var verifier = new ECDsaSigner();
        verifier.Init(false, new ECPublicKeyParameters(curve.DecodePoint((EccPoint)p.Unique), curve.Domain));
        return verifier.VerifySignature(digest, new BcBigInteger(1, signature.SignatureR), new BcBigInteger(1, signature.SignatureS));
    }
}
