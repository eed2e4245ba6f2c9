using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Tickets (TPM 2.0 Part 2 §10.7): HMACs under a hierarchy's proof value that let the TPM trust
/// later what it computed earlier (a digest it hashed, a signature it verified, an object it created).
/// </summary>
internal static class Tickets
{
    /// <summary>The hash of ticket HMACs (the engine's context integrity hash).</summary>
    public const TpmAlgId ProofHash = TpmAlgId.Sha256;

    /// <summary>HMAC_ProofHash(proof of <paramref name="hierarchy"/>, UINT16 tag ‖ parts...).</summary>
    public static byte[] Hmac(EngineState state, uint hierarchy, TpmSt tag, params ReadOnlySpan<byte[]> parts)
    {
        var proof = state.ProofOf(hierarchy).Reveal();
        try
        {
            var tagBytes = new byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(tagBytes, (ushort)tag);
            return TpmHash.Hmac(ProofHash, proof, [tagBytes, .. parts]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(proof);
        }
    }

    /// <summary>TPMT_TK_HASHCHECK.digest = HMAC(proof, TPM_ST_HASHCHECK ‖ digest), as TPM2_Hash issues it.</summary>
    public static byte[] HashCheckDigest(EngineState state, uint hierarchy, ReadOnlySpan<byte> digest) =>
        Hmac(state, hierarchy, TpmSt.Hashcheck, digest.ToArray());

    /// <summary>True if <paramref name="ticket"/> is a non-null TPM_ST_HASHCHECK ticket this TPM issued for <paramref name="digest"/>.</summary>
    public static bool IsValidHashCheck(EngineState state, TpmtTicket ticket, ReadOnlySpan<byte> digest)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (ticket.Tag != TpmSt.Hashcheck || ticket.Digest.Length == 0
            || ticket.Hierarchy is not (TpmRh.Owner or TpmRh.Endorsement or TpmRh.Platform))
        {
            return false;
        }

        var expected = HashCheckDigest(state, ticket.Hierarchy, digest);
        return CryptographicOperations.FixedTimeEquals(expected, ticket.Digest);
    }
}
