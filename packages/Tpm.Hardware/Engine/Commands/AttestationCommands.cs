using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_Quote and TPM2_Certify (TPM 2.0 Part 3 §18), with the PCR selection helpers object creation shares.</summary>
internal sealed class AttestationCommands : ICommandGroup
{
    /// <summary>PCR_SELECT_MIN: a selection bitmap covers at least the 24 platform PCRs.</summary>
    public void Register(CommandTable table)
    {
        const CommandFlags encrypted = CommandFlags.DecryptFirst | CommandFlags.EncryptFirst;
        // signHandle is TPMI_DH_OBJECT+: TPM_RH_NULL asks for an unsigned attestation (Part 3 §18.1).
        var signHandle = new HandleSpec(HandleKinds.Object, AuthRole.User, AllowNull: true);
        table.Add(TpmCc.Quote, [signHandle], 0, Quote, encrypted);
        table.Add(TpmCc.Certify, [new(HandleKinds.Object, AuthRole.Admin), signHandle], 0, Certify, encrypted);
        table.Add(TpmCc.GetTime, [new(HandleKinds.Endorsement, AuthRole.User), signHandle], 0, GetTime, encrypted);
        table.Add(TpmCc.NvCertify, [signHandle, new(HandleKinds.NvAuth, AuthRole.User), new(HandleKinds.NvIndex)], 0, NvCertify, encrypted);
    }

    /// <summary>
    /// FillInAttestInfo and SignAttestInfo: builds the TPMS_ATTEST around <paramref name="attested"/>,
    /// signs H_scheme(its marshalled form) and writes TPM2B_ATTEST and TPMT_SIGNATURE.
    /// </summary>
    internal static void SignAttestation(CommandContext c, TpmObject? signer, TpmtScheme scheme, byte[] qualifyingData, AttestInfo attested)
    {
        var s = c.State;

        // Reference FillInAttestInfo: without a signing key the qualified signer is TPM_RH_NULL.
        var qualifiedSigner = signer?.QualifiedName ?? PermanentEntity.BigEndian(TpmRh.Null);
        var resetCount = s.ResetCount;
        var restartCount = s.RestartCount;
        var firmware = c.Tpm.Options.FirmwareVersion;

        // Part 3 §18.1 / ms-tpm-20-ref FillInAttestInfo: for keys outside the endorsement and
        // platform hierarchies, resetCount, restartCount and firmwareVersion are obfuscated with
        // KDFa(SHA-256, shProof, "OBFUSCATE", qualifiedSigner, "", 128) so the values cannot
        // correlate keys of different privacy domains. The 16 octets are read big-endian here.
        if (signer?.Hierarchy is not (TpmRh.Endorsement or TpmRh.Platform))
        {
            var proof = s.ShProof!.Reveal();
            Span<byte> obfuscation = stackalloc byte[16];
            TpmKdf.KdfA(TpmAlgId.Sha256, proof, "OBFUSCATE", qualifiedSigner, default, 128, obfuscation);
            CryptographicOperations.ZeroMemory(proof);
            var high = BinaryPrimitives.ReadUInt64BigEndian(obfuscation);
            var low = BinaryPrimitives.ReadUInt64BigEndian(obfuscation[8..]);
            unchecked
            {
                firmware += high;
                resetCount += (uint)(low >> 32);
                restartCount += (uint)low;
            }
        }

        var attest = new TpmsAttest(
            TpmsAttest.GeneratedValue,
            qualifiedSigner,
            qualifyingData,
            new TpmsClockInfo(c.Tpm.ClockMilliseconds, resetCount, restartCount, s.ClockSafe),
            firmware,
            attested);
        var w = new TpmWriter(256);
        attest.Marshal(w);
        if (signer is null)
        {
            // Reference SignAttestInfo: TPM_RH_NULL signs nothing; the signature is TPM_ALG_NULL.
            c.Output.WriteTpm2b(w.WrittenSpan);
            TpmtSignature.Null.Marshal(c.Output);
            return;
        }

        var digest = TpmHash.Hash(scheme.HashAlg, w.WrittenSpan);
        var signature = SigningCommands.SignDigest(c, signer, scheme, digest);
        c.Output.WriteTpm2b(w.WrittenSpan);
        signature.Marshal(c.Output);
    }

    /// <summary>The signer's scheme (reference IsSigningObject, CryptSelectSignScheme); TPM_ALG_NULL without a signer.</summary>
    private static TpmtScheme CheckSigner(TpmObject? signer, TpmtScheme requested, int handle)
    {
        if (signer is null)
        {
            return TpmtScheme.Null;
        }

        if (!SigningCommands.IsSigningObject(signer))
        {
            throw CommandContext.HandleError(TpmRc.Key, handle, "not a signing key");
        }

        var scheme = SigningCommands.SelectScheme(signer, requested);
        if (scheme is null || !SigningCommands.CanSign(signer, scheme))
        {
            throw CommandContext.ParameterError(TpmRc.Scheme, 2, $"scheme {requested.Scheme} cannot be used with this key");
        }

        ObjectCommands.RequirePrivate(signer);
        return scheme;
    }

    /// <summary>Parameters 1 and 2 of every attestation command: qualifyingData and inScheme.</summary>
    private static (byte[] QualifyingData, TpmtScheme Scheme) ReadQualifyingDataAndScheme(ref TpmReader r)
    {
        var qualifyingData = r.ReadTpm2b(ObjectCommands.MaxDataSize);
        r.Parameter = 2;
        return (qualifyingData, SigningCommands.ReadSignatureScheme(ref r));
    }

    private static void Quote(CommandContext c)
    {
        var signer = c.Entities[0] as TpmObject;
        var r = c.ReadParameters();
        var (qualifyingData, requested) = ReadQualifyingDataAndScheme(ref r);
        r.Parameter = 3;
        var selection = PcrCommands.ReadSelection(ref r);
        r.EnsureConsumed();

        var scheme = CheckSigner(signer, requested, 1);
        if (scheme.HashAlg == TpmAlgId.Null)
        {
            // Reference TPM2_Quote: no hash for the PCR digest (TPM_RH_NULL signs with the NULL scheme).
            throw CommandContext.ParameterError(TpmRc.Scheme, 2, "a quote needs a scheme hash for its PCR digest");
        }

        var filtered = PcrCommands.Filter(c.State, selection);
        var pcrDigest = PcrCommands.ComputeDigest(c.State, filtered, scheme.HashAlg);
        SignAttestation(c, signer, scheme, qualifyingData, new QuoteInfo(filtered, pcrDigest));
    }

    private static void Certify(CommandContext c)
    {
        var certified = c.Object(0);
        var signer = c.Entities[1] as TpmObject;
        var r = c.ReadParameters();
        var (qualifyingData, requested) = ReadQualifyingDataAndScheme(ref r);
        r.EnsureConsumed();

        var scheme = CheckSigner(signer, requested, 2);
        SignAttestation(c, signer, scheme, qualifyingData, new CertifyInfo(certified.Name, certified.QualifiedName));
    }

    /// <summary>
    /// TPM2_NV_Certify (Part 3 §31.16): signs TPMS_NV_CERTIFY_INFO (index Name, offset, the data)
    /// after the same read checks as TPM2_NV_Read (authHandle is handle 2 here).
    /// </summary>
    private static void NvCertify(CommandContext c)
    {
        var signer = c.Entities[0] as TpmObject;
        var nv = c.Nv(2);
        var r = c.ReadParameters();
        var (qualifyingData, requested) = ReadQualifyingDataAndScheme(ref r);
        r.Parameter = 3;
        var size = r.ReadU16();
        r.Parameter = 4;
        var offset = r.ReadU16();
        r.EnsureConsumed();

        NvCommands.CheckReadAccess(c, nv, authIndex: 1);
        var scheme = CheckSigner(signer, requested, 1);
        if (size > NvCommands.MaxBufferSize)
        {
            throw CommandContext.ParameterError(TpmRc.Value, 3, $"size {size} exceeds {NvCommands.MaxBufferSize}");
        }

        if (offset > nv.Public.DataSize || size > nv.Public.DataSize - offset)
        {
            throw new TpmException(TpmRc.NvRange, $"{size} octets at offset {offset} exceed dataSize {nv.Public.DataSize}");
        }

        SignAttestation(c, signer, scheme, qualifyingData, new NvCertifyInfo(nv.Name, offset, nv.Data.AsSpan(offset, size).ToArray()));
    }

    /// <summary>
    /// TPM2_GetTime (Part 3 §18.7): signs TPMS_TIME_ATTEST_INFO, the current time, clock and firmware
    /// version, authorized by the privacy administrator (the endorsement hierarchy) — tpm2_gettime.
    /// </summary>
    private static void GetTime(CommandContext c)
    {
        var signer = c.Entities[1] as TpmObject;
        var r = c.ReadParameters();
        var (qualifyingData, requested) = ReadQualifyingDataAndScheme(ref r);
        r.EnsureConsumed();

        var scheme = CheckSigner(signer, requested, 2);
        var s = c.State;
        var time = new TimeAttestInfo(c.Tpm.TimeMilliseconds, new TpmsClockInfo(c.Tpm.ClockMilliseconds, s.ResetCount, s.RestartCount, s.ClockSafe), c.Tpm.Options.FirmwareVersion);
        SignAttestation(c, signer, scheme, qualifyingData, time);
    }
}
