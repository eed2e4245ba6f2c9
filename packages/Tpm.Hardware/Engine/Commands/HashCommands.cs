using System.Buffers.Binary;

namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_Hash (Part 3 §15.4) and the TPMT_TK_HASHCHECK tickets it issues.</summary>
internal sealed class HashCommands : ICommandGroup
{
    /// <summary>Largest TPM2B_MAX_BUFFER (MAX_DIGEST_BUFFER, TPM_PT_INPUT_BUFFER).</summary>
    public const int MaxBuffer = 1024;

    /// <summary>TPM_GENERATED_VALUE: data that starts with it gets no ticket, so a TPM-made structure cannot be forged through TPM2_Hash.</summary>
    public const uint TpmGeneratedValue = 0xFF544347;

    /// <summary>The hash algorithms this engine implements (TPMI_ALG_HASH), ascending by TPM_ALG_ID: HASH_COUNT of the reference implementation.</summary>
    public static IReadOnlyList<TpmAlgId> ImplementedHashes { get; } = [TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384, TpmAlgId.Sha512];

    public void Register(CommandTable table) =>
        table.Add(TpmCc.Hash, [], 0, Hash, CommandFlags.DecryptFirst | CommandFlags.EncryptFirst);

    /// <summary>TPMI_ALG_HASH without +: an implemented hash, never TPM_ALG_NULL.</summary>
    public static bool IsImplementedHash(TpmAlgId alg) => TpmHash.IsSupported(alg);

    private static void Hash(CommandContext c)
    {
        var r = c.ReadParameters();
        var data = r.ReadTpm2b(MaxBuffer);
        r.Parameter = 2;
        var hashAlg = r.ReadAlg();
        if (!IsImplementedHash(hashAlg))
        {
            throw r.Fail(TpmRc.Hash, $"hashAlg {hashAlg} is not an implemented hash");
        }

        r.Parameter = 3;
        var hierarchy = r.ReadU32();
        if (hierarchy is not (TpmRh.Owner or TpmRh.Endorsement or TpmRh.Platform or TpmRh.Null))
        {
            throw r.Fail(TpmRc.Value, $"hierarchy 0x{hierarchy:x8} is not TPMI_RH_HIERARCHY+");
        }

        r.EnsureConsumed();

        var digest = TpmHash.Hash(hashAlg, data);
        c.Output.WriteTpm2b(digest);
        c.Output.WriteU16((ushort)TpmSt.Hashcheck);
        var unsafeData = data.Length >= 4 && BinaryPrimitives.ReadUInt32BigEndian(data) == TpmGeneratedValue;
        if (hierarchy == TpmRh.Null || unsafeData)
        {
            c.Output.WriteU32(TpmRh.Null);
            c.Output.WriteTpm2b([]);
        }
        else
        {
            c.Output.WriteU32(hierarchy);
            c.Output.WriteTpm2b(Tickets.HashCheckDigest(c.State, hierarchy, digest));
        }
    }
}
