using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_Quote and TPM2_Certify (TPM 2.0 Part 3 §18), with the PCR selection helpers object creation shares.</summary>
internal sealed class AttestationCommands : ICommandGroup
{
    /// <summary>PCR_SELECT_MIN: a selection bitmap covers at least the 24 platform PCRs.</summary>
    public const int MinSelectSize = 3;

    public void Register(CommandTable table)
    {
        const CommandFlags encrypted = CommandFlags.DecryptFirst | CommandFlags.EncryptFirst;
        table.Add(TpmCc.Quote, [new(HandleKinds.Object, AuthRole.User)], 0, Quote, encrypted);
        table.Add(TpmCc.Certify, [new(HandleKinds.Object, AuthRole.Admin), new(HandleKinds.Object, AuthRole.User)], 0, Certify, encrypted);
    }

    /// <summary>Reads a TPML_PCR_SELECTION command parameter (TPMI_ALG_HASH banks, 3–4 octet bitmaps).</summary>
    internal static PcrSelectionList ReadPcrSelection(ref TpmReader r)
    {
        var list = PcrSelectionList.Unmarshal(ref r);
        foreach (var selection in list.Selections)
        {
            if (!TpmHash.IsSupported(selection.Hash))
            {
                throw r.Fail(TpmRc.Hash, $"PCR bank {selection.Hash} is not a hash algorithm");
            }

            if (selection.Select.Length < MinSelectSize)
            {
                throw r.Fail(TpmRc.Value, $"sizeofSelect {selection.Select.Length} is below {MinSelectSize}");
            }
        }

        return list;
    }

    /// <summary>FilterPcr: clears the bits of banks that are not allocated and of PCRs that do not exist.</summary>
    internal static PcrSelectionList FilterPcrSelection(EngineState state, PcrSelectionList list)
    {
        var filtered = new PcrSelection[list.Selections.Count];
        for (var i = 0; i < filtered.Length; i++)
        {
            var selection = list.Selections[i];
            var select = (byte[])selection.Select.Clone();
            var allocated = state.Pcrs.ContainsKey(selection.Hash);
            for (var octet = 0; octet < select.Length; octet++)
            {
                if (!allocated)
                {
                    select[octet] = 0;
                }
                else
                {
                    for (var bit = 0; bit < 8; bit++)
                    {
                        if ((octet * 8) + bit >= EngineState.PcrCount)
                        {
                            select[octet] &= unchecked((byte)~(1 << bit));
                        }
                    }
                }
            }

            filtered[i] = new PcrSelection(selection.Hash, select);
        }

        return new PcrSelectionList(filtered);
    }

    /// <summary>H_hash(selected PCR values, banks in list order, PCRs ascending) of a filtered selection.</summary>
    internal static byte[] PcrDigest(EngineState state, TpmAlgId hash, PcrSelectionList filtered)
    {
        using var h = IncrementalHash.CreateHash(TpmHash.Name(hash));
        foreach (var (bank, pcr) in filtered.Enumerate())
        {
            h.AppendData(state.Pcrs[bank][pcr]);
        }

        return h.GetHashAndReset();
    }

    /// <summary>
    /// FillInAttestInfo and SignAttestInfo: builds the TPMS_ATTEST around <paramref name="attested"/>,
    /// signs H_scheme(its marshalled form) and writes TPM2B_ATTEST and TPMT_SIGNATURE.
    /// </summary>
    internal static void SignAttestation(CommandContext c, TpmObject signer, TpmtScheme scheme, byte[] qualifyingData, AttestInfo attested)
    {
        var s = c.State;
        var qualifiedSigner = signer.QualifiedName;
        var resetCount = s.ResetCount;
        var restartCount = s.RestartCount;
        var firmware = c.Tpm.Options.FirmwareVersion;

        // Part 3 §18.1 / ms-tpm-20-ref FillInAttestInfo: for keys outside the endorsement and
        // platform hierarchies, resetCount, restartCount and firmwareVersion are obfuscated with
        // KDFa(SHA-256, shProof, "OBFUSCATE", qualifiedSigner, "", 128) so the values cannot
        // correlate keys of different privacy domains. The 16 octets are read big-endian here.
        if (signer.Hierarchy is not (TpmRh.Endorsement or TpmRh.Platform))
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
        var digest = TpmHash.Hash(scheme.HashAlg, w.WrittenSpan);
        var signature = SigningCommands.SignDigest(c, signer, scheme, digest);
        c.Output.WriteTpm2b(w.WrittenSpan);
        signature.Marshal(c.Output);
    }

    private static TpmtScheme CheckSigner(TpmObject signer, TpmtScheme requested, int handle)
    {
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

    private static void Quote(CommandContext c)
    {
        var signer = c.Object(0);
        var r = c.ReadParameters();
        var qualifyingData = r.ReadTpm2b(ObjectCommands.MaxDataSize);
        r.Parameter = 2;
        var requested = SigningCommands.ReadSignatureScheme(ref r);
        r.Parameter = 3;
        var selection = ReadPcrSelection(ref r);
        r.EnsureConsumed();

        var scheme = CheckSigner(signer, requested, 1);
        var filtered = FilterPcrSelection(c.State, selection);
        var pcrDigest = PcrDigest(c.State, scheme.HashAlg, filtered);
        SignAttestation(c, signer, scheme, qualifyingData, new QuoteInfo(filtered, pcrDigest));
    }

    private static void Certify(CommandContext c)
    {
        var certified = c.Object(0);
        var signer = c.Object(1);
        var r = c.ReadParameters();
        var qualifyingData = r.ReadTpm2b(ObjectCommands.MaxDataSize);
        r.Parameter = 2;
        var requested = SigningCommands.ReadSignatureScheme(ref r);
        r.EnsureConsumed();

        var scheme = CheckSigner(signer, requested, 2);
        SignAttestation(c, signer, scheme, qualifyingData, new CertifyInfo(certified.Name, certified.QualifiedName));
    }
}
