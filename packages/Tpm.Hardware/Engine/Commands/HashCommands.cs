using System.Buffers.Binary;
using System.Security.Cryptography;

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

    /// <summary>Hash of tickets and saved contexts (CONTEXT_INTEGRITY_HASH_ALG).</summary>
    public const TpmAlgId ProofHash = TpmAlgId.Sha256;

    public void Register(CommandTable table) =>
        table.Add(TpmCc.Hash, [], 0, Hash, CommandFlags.DecryptFirst | CommandFlags.EncryptFirst);

    /// <summary>TPMI_ALG_HASH without +: an implemented hash, never TPM_ALG_NULL.</summary>
    public static bool IsImplementedHash(TpmAlgId alg) => TpmHash.IsSupported(alg);

    /// <summary>
    /// TPMT_TK_HASHCHECK.digest = HMAC_SHA-256(proof(hierarchy), TPM_ST_HASHCHECK ‖ digest)
    /// (Part 2 §10.7.3). TPM2_Sign and TPM2_SequenceComplete callers validate with <see cref="IsValidHashCheckTicket"/>.
    /// </summary>
    internal static byte[] HashCheckTicketDigest(EngineState s, uint hierarchy, byte[] digest)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(digest);
        var proof = s.ProofOf(hierarchy).Reveal();
        try
        {
            var tag = new byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(tag, (ushort)TpmSt.Hashcheck);
            return TpmHash.Hmac(ProofHash, proof, tag, digest);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(proof);
        }
    }

    /// <summary>True if <paramref name="ticket"/> is a non-null TPM_ST_HASHCHECK ticket this TPM issued for <paramref name="digest"/>.</summary>
    internal static bool IsValidHashCheckTicket(EngineState s, TpmtTicket ticket, byte[] digest)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (ticket.Tag != TpmSt.Hashcheck || ticket.Hierarchy == TpmRh.Null || ticket.Digest.Length == 0
            || ticket.Hierarchy is not (TpmRh.Owner or TpmRh.Endorsement or TpmRh.Platform))
        {
            return false;
        }

        var expected = HashCheckTicketDigest(s, ticket.Hierarchy, digest);
        return CryptographicOperations.FixedTimeEquals(expected, ticket.Digest);
    }

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
            c.Output.WriteTpm2b(HashCheckTicketDigest(c.State, hierarchy, digest));
        }
    }
}
