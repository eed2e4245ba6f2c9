using System.Buffers.Binary;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Computes policy digests offline, exactly as a TPM extends a policy session's policyDigest
/// (TPM 2.0 Part 3 §23): policyDigest_new = H(policyDigest_old ‖ TPM_CC ‖ ...). Chain the calls
/// from <see cref="Initial"/>; the result is what a trial session returns and what an object's
/// authPolicy must hold.
/// </summary>
public static class PolicyDigest
{
    /// <summary>The starting digest: digest-size zero octets.</summary>
    /// <param name="hash">The policy hash algorithm.</param>
    /// <returns>The zero digest.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="hash"/> is not supported.</exception>
    public static byte[] Initial(TpmAlgId hash) => new byte[TpmHash.DigestSize(hash)];

    /// <summary>TPM2_PolicyPCR with PCR values: H(old ‖ TPM_CC_PolicyPCR ‖ TPML_PCR_SELECTION ‖ H(values)).</summary>
    /// <param name="hash">The policy hash algorithm.</param>
    /// <param name="policyDigest">The digest so far.</param>
    /// <param name="pcrs">The selection, marshalled as given (a TPM clears bits of banks it has not allocated).</param>
    /// <param name="pcrValues">The PCR values in TPM order: banks in list order, PCRs ascending (tpm2-tools <c>-F values</c>).</param>
    /// <returns>The new digest.</returns>
    /// <exception cref="ArgumentException">The number of values differs from the number of selected PCRs, or <paramref name="policyDigest"/> has the wrong size.</exception>
    public static byte[] PolicyPcr(TpmAlgId hash, ReadOnlySpan<byte> policyDigest, PcrSelectionList pcrs, IReadOnlyList<byte[]> pcrValues)
    {
        ArgumentNullException.ThrowIfNull(pcrs);
        ArgumentNullException.ThrowIfNull(pcrValues);
        var selected = pcrs.Enumerate().Count();
        if (selected != pcrValues.Count)
        {
            throw new ArgumentException($"{pcrValues.Count} PCR values for {selected} selected PCRs.", nameof(pcrValues));
        }

        return PolicyPcrWithDigest(hash, policyDigest, pcrs, PcrDigest(hash, pcrValues));
    }

    /// <summary>TPM2_PolicyPCR with a precomputed PCR digest (the command's pcrDigest parameter).</summary>
    /// <param name="hash">The policy hash algorithm.</param>
    /// <param name="policyDigest">The digest so far.</param>
    /// <param name="pcrs">The selection.</param>
    /// <param name="pcrDigest">H(PCR values) with <paramref name="hash"/>.</param>
    /// <returns>The new digest.</returns>
    /// <exception cref="ArgumentException"><paramref name="policyDigest"/> or <paramref name="pcrDigest"/> has the wrong size.</exception>
    public static byte[] PolicyPcrWithDigest(TpmAlgId hash, ReadOnlySpan<byte> policyDigest, PcrSelectionList pcrs, ReadOnlySpan<byte> pcrDigest)
    {
        ArgumentNullException.ThrowIfNull(pcrs);
        CheckSize(hash, policyDigest, nameof(policyDigest));
        CheckSize(hash, pcrDigest, nameof(pcrDigest));
        return ExtendPcr(hash, policyDigest, pcrs, pcrDigest);
    }

    /// <summary>The digest of PCR values TPM2_PolicyPCR compares: H(value₁ ‖ value₂ ‖ ...).</summary>
    /// <param name="hash">The policy hash algorithm.</param>
    /// <param name="pcrValues">The values in TPM order.</param>
    /// <returns>The digest.</returns>
    public static byte[] PcrDigest(TpmAlgId hash, IEnumerable<byte[]> pcrValues)
    {
        ArgumentNullException.ThrowIfNull(pcrValues);
        return TpmHash.Hash(hash, [.. pcrValues]);
    }

    /// <summary>TPM2_PolicySecret: H(H(old ‖ TPM_CC_PolicySecret ‖ name) ‖ policyRef).</summary>
    /// <param name="hash">The policy hash algorithm.</param>
    /// <param name="policyDigest">The digest so far.</param>
    /// <param name="authObjectName">The Name of the authorizing entity (a hierarchy's Name is its handle).</param>
    /// <param name="policyRef">The policyRef (usually empty).</param>
    /// <returns>The new digest.</returns>
    /// <exception cref="ArgumentException"><paramref name="policyDigest"/> has the wrong size.</exception>
    public static byte[] PolicySecret(TpmAlgId hash, ReadOnlySpan<byte> policyDigest, ReadOnlySpan<byte> authObjectName, ReadOnlySpan<byte> policyRef)
    {
        CheckSize(hash, policyDigest, nameof(policyDigest));
        return ExtendSecret(hash, policyDigest, authObjectName, policyRef);
    }

    /// <summary>TPM2_PolicySecret naming a permanent entity (for example TPM_RH_ENDORSEMENT), whose Name is its handle.</summary>
    /// <param name="hash">The policy hash algorithm.</param>
    /// <param name="policyDigest">The digest so far.</param>
    /// <param name="authHandle">The permanent handle.</param>
    /// <param name="policyRef">The policyRef (usually empty).</param>
    /// <returns>The new digest.</returns>
    /// <exception cref="ArgumentException"><paramref name="policyDigest"/> has the wrong size.</exception>
    public static byte[] PolicySecret(TpmAlgId hash, ReadOnlySpan<byte> policyDigest, uint authHandle, ReadOnlySpan<byte> policyRef)
    {
        Span<byte> name = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(name, authHandle);
        return PolicySecret(hash, policyDigest, name, policyRef);
    }

    /// <summary>TPM2_PolicyCommandCode: H(old ‖ TPM_CC_PolicyCommandCode ‖ code).</summary>
    /// <param name="hash">The policy hash algorithm.</param>
    /// <param name="policyDigest">The digest so far.</param>
    /// <param name="code">The command the policy authorizes.</param>
    /// <returns>The new digest.</returns>
    /// <exception cref="ArgumentException"><paramref name="policyDigest"/> has the wrong size.</exception>
    public static byte[] PolicyCommandCode(TpmAlgId hash, ReadOnlySpan<byte> policyDigest, TpmCc code)
    {
        CheckSize(hash, policyDigest, nameof(policyDigest));
        return Extend(hash, policyDigest, TpmCc.PolicyCommandCode, (uint)code);
    }

    /// <summary>TPM2_PolicyAuthValue: H(old ‖ TPM_CC_PolicyAuthValue).</summary>
    /// <param name="hash">The policy hash algorithm.</param>
    /// <param name="policyDigest">The digest so far.</param>
    /// <returns>The new digest.</returns>
    /// <exception cref="ArgumentException"><paramref name="policyDigest"/> has the wrong size.</exception>
    public static byte[] PolicyAuthValue(TpmAlgId hash, ReadOnlySpan<byte> policyDigest)
    {
        CheckSize(hash, policyDigest, nameof(policyDigest));
        return Extend(hash, policyDigest, TpmCc.PolicyAuthValue, null);
    }

    /// <summary>TPM2_PolicyPassword: the same digest as <see cref="PolicyAuthValue"/> (Part 3 §23.18 extends TPM_CC_PolicyAuthValue).</summary>
    /// <param name="hash">The policy hash algorithm.</param>
    /// <param name="policyDigest">The digest so far.</param>
    /// <returns>The new digest.</returns>
    /// <exception cref="ArgumentException"><paramref name="policyDigest"/> has the wrong size.</exception>
    public static byte[] PolicyPassword(TpmAlgId hash, ReadOnlySpan<byte> policyDigest) => PolicyAuthValue(hash, policyDigest);

    // The computations themselves, without the size checks of the public methods: the engine's
    // policy commands extend with them too (a trial session's TPM2_PolicyPCR takes a pcrDigest of
    // any size, as the reference implementation does).

    /// <summary>H(old ‖ TPM_CC_PolicyPCR ‖ TPML_PCR_SELECTION ‖ pcrDigest).</summary>
    internal static byte[] ExtendPcr(TpmAlgId hash, ReadOnlySpan<byte> policyDigest, PcrSelectionList pcrs, ReadOnlySpan<byte> pcrDigest)
    {
        var w = new TpmWriter();
        w.WriteBytes(policyDigest);
        w.WriteU32((uint)TpmCc.PolicyPCR);
        pcrs.Marshal(w);
        w.WriteBytes(pcrDigest);
        return TpmHash.Hash(hash, w.WrittenSpan);
    }

    /// <summary>H(H(old ‖ TPM_CC_PolicySecret ‖ name) ‖ policyRef).</summary>
    internal static byte[] ExtendSecret(TpmAlgId hash, ReadOnlySpan<byte> policyDigest, ReadOnlySpan<byte> authObjectName, ReadOnlySpan<byte> policyRef)
    {
        var w = new TpmWriter();
        w.WriteBytes(policyDigest);
        w.WriteU32((uint)TpmCc.PolicySecret);
        w.WriteBytes(authObjectName);
        var first = TpmHash.Hash(hash, w.WrittenSpan);
        w.Clear();
        w.WriteBytes(first);
        w.WriteBytes(policyRef);
        return TpmHash.Hash(hash, w.WrittenSpan);
    }

    /// <summary>H(old ‖ command [‖ argument]).</summary>
    internal static byte[] Extend(TpmAlgId hash, ReadOnlySpan<byte> policyDigest, TpmCc command, uint? argument)
    {
        var w = new TpmWriter();
        w.WriteBytes(policyDigest);
        w.WriteU32((uint)command);
        if (argument is { } value)
        {
            w.WriteU32(value);
        }

        return TpmHash.Hash(hash, w.WrittenSpan);
    }

    private static void CheckSize(TpmAlgId hash, ReadOnlySpan<byte> digest, string name)
    {
        if (digest.Length != TpmHash.DigestSize(hash))
        {
            throw new ArgumentException($"A {hash} digest has {TpmHash.DigestSize(hash)} octets, not {digest.Length}.", name);
        }
    }
}
