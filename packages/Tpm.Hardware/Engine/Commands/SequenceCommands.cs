using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// The running state of a hash sequence (one hash) or an event sequence (one hash per PCR bank)
/// started by TPM2_HashSequenceStart (TPM 2.0 Part 3 §17). tpm2_hash, tpm2_sign and tpm2_pcrevent
/// use sequences for data larger than one TPM2B_MAX_BUFFER.
/// </summary>
internal sealed class HashSequence : IDisposable
{
    private readonly (TpmAlgId Alg, IncrementalHash Hash)[] _hashes;
    private readonly byte[] _firstOctets = new byte[4];
    private int _firstCount;

    public HashSequence(TpmAlgId hashAlg, IReadOnlyList<TpmAlgId> banks)
    {
        HashAlg = hashAlg;
        var algs = hashAlg == TpmAlgId.Null ? banks : [hashAlg];
        _hashes = [.. algs.Select(a => (a, IncrementalHash.CreateHash(TpmHash.Name(a))))];
    }

    /// <summary>The sequence's hash, or TPM_ALG_NULL for an event sequence.</summary>
    public TpmAlgId HashAlg { get; }

    public bool IsEvent => HashAlg == TpmAlgId.Null;

    /// <summary>False once the data is known to start with TPM_GENERATED_VALUE: no ticket then (Part 3 §17.5).</summary>
    public bool TicketAllowed => _firstCount < 4 || BinaryPrimitives.ReadUInt32BigEndian(_firstOctets) != HashCommands.TpmGeneratedValue;

    public void Update(ReadOnlySpan<byte> data)
    {
        while (_firstCount < 4 && !data.IsEmpty)
        {
            _firstOctets[_firstCount++] = data[0];
            foreach (var (_, hash) in _hashes)
            {
                hash.AppendData(data[..1]);
            }

            data = data[1..];
        }

        foreach (var (_, hash) in _hashes)
        {
            hash.AppendData(data);
        }
    }

    public IEnumerable<(TpmAlgId Alg, byte[] Digest)> Complete() => _hashes.Select(h => (h.Alg, h.Hash.GetHashAndReset()));

    public void Dispose()
    {
        foreach (var (_, hash) in _hashes)
        {
            hash.Dispose();
        }
    }
}

/// <summary>TPM2_HashSequenceStart, TPM2_SequenceUpdate, TPM2_SequenceComplete, TPM2_EventSequenceComplete (TPM 2.0 Part 3 §17).</summary>
internal sealed class SequenceCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
        var sequence = new HandleSpec(HandleKinds.Transient, AuthRole.User);
        table.Add(TpmCc.HashSequenceStart, [], 1, HashSequenceStart, CommandFlags.DecryptFirst);
        table.Add(TpmCc.SequenceUpdate, [sequence], 0, SequenceUpdate, CommandFlags.DecryptFirst);
        table.Add(TpmCc.SequenceComplete, [sequence], 0, SequenceComplete, CommandFlags.DecryptFirst | CommandFlags.EncryptFirst);
        table.Add(TpmCc.EventSequenceComplete, [new HandleSpec(HandleKinds.Pcr | HandleKinds.Null, AuthRole.User, AllowNull: true), sequence], 0, EventSequenceComplete, CommandFlags.DecryptFirst);
    }

    /// <summary>A sequence object: an empty Name (nameAlg NULL, as the reference), no DA, authorized by its authValue.</summary>
    private static readonly TpmtPublic SequencePublic = new(TpmAlgId.Keyedhash, TpmAlgId.Null, TpmaObject.UserWithAuth | TpmaObject.NoDA, [], new KeyedHashParms(TpmtScheme.Null), new DigestPublicId([]));

    private static void HashSequenceStart(CommandContext c)
    {
        var r = c.ReadParameters();
        var auth = r.ReadTpm2b(64);
        r.Parameter = 2;
        var hashAlg = r.ReadAlg();
        if (hashAlg != TpmAlgId.Null && !HashCommands.IsImplementedHash(hashAlg))
        {
            throw r.Fail(TpmRc.Hash, $"hashAlg {hashAlg} is not an implemented hash");
        }

        r.EnsureConsumed();
        var handle = ObjectCommands.FreeTransientHandle(c);
        var secret = c.Tpm.Secrets.Store([], $"sequence 0x{handle:x8}");
        c.State.TransientObjects[handle] = new TpmObject(SequencePublic, secret, auth, TpmRh.Null, [], isPrimary: false, name: [])
        {
            Handle = handle,
            Sequence = new HashSequence(hashAlg, c.State.Banks),
        };
        c.ResponseHandles.Add(handle);
    }

    private static HashSequence SequenceOf(CommandContext c, int index) =>
        c.Object(index).Sequence ?? throw CommandContext.HandleError(TpmRc.Mode, index + 1, "not a sequence object");

    // As the reference, parameters are unmarshalled before the action code checks the handle's
    // object is a sequence (TPM_RC_MODE): a bad parameter wins (found against libtpms).
    private static void SequenceUpdate(CommandContext c)
    {
        var r = c.ReadParameters();
        var buffer = r.ReadTpm2b(HashCommands.MaxBuffer);
        r.EnsureConsumed();
        var sequence = SequenceOf(c, 0);
        sequence.Update(buffer);
    }

    private static void SequenceComplete(CommandContext c)
    {
        var r = c.ReadParameters();
        var buffer = r.ReadTpm2b(HashCommands.MaxBuffer);
        r.Parameter = 2;
        var hierarchy = r.ReadU32();
        if (hierarchy is not (TpmRh.Owner or TpmRh.Endorsement or TpmRh.Platform or TpmRh.Null))
        {
            throw r.Fail(TpmRc.Value, $"hierarchy 0x{hierarchy:x8} is not TPMI_RH_HIERARCHY+");
        }

        r.EnsureConsumed();
        var sequence = SequenceOf(c, 0);
        if (sequence.IsEvent)
        {
            throw CommandContext.HandleError(TpmRc.Mode, 1, "an event sequence completes with TPM2_EventSequenceComplete");
        }

        sequence.Update(buffer);
        var digest = sequence.Complete().Single().Digest;
        c.Output.WriteTpm2b(digest);
        c.Output.WriteU16((ushort)TpmSt.Hashcheck);
        if (hierarchy == TpmRh.Null || !sequence.TicketAllowed)
        {
            c.Output.WriteU32(TpmRh.Null);
            c.Output.WriteTpm2b([]);
        }
        else
        {
            c.Output.WriteU32(hierarchy);
            c.Output.WriteTpm2b(Tickets.HashCheckDigest(c.State, hierarchy, digest));
        }

        Flush(c, 0);
    }

    private static void EventSequenceComplete(CommandContext c)
    {
        var r = c.ReadParameters();
        var buffer = r.ReadTpm2b(HashCommands.MaxBuffer);
        r.EnsureConsumed();
        var sequence = SequenceOf(c, 1);
        var pcrHandle = c.Handles[0];
        if (pcrHandle != TpmRh.Null && !PcrCommands.IsExtendAllowed((int)pcrHandle, c.Locality))
        {
            throw new TpmException(TpmRc.Locality, $"locality {c.Locality} may not extend PCR {pcrHandle}");
        }

        sequence.Update(buffer);
        var digests = sequence.Complete().ToList();
        var s = c.State;
        c.Output.WriteU32((uint)digests.Count);
        foreach (var (alg, digest) in digests)
        {
            c.Output.WriteAlg(alg);
            c.Output.WriteBytes(digest);
            if (pcrHandle != TpmRh.Null)
            {
                PcrCommands.ExtendInPlace(alg, s.Pcrs[alg][(int)pcrHandle], digest);
                PcrCommands.Changed(s, (int)pcrHandle);
            }
        }

        Flush(c, 1);
    }

    private static void Flush(CommandContext c, int index)
    {
        if (c.State.TransientObjects.Remove(c.Handles[index], out var o))
        {
            o.Dispose();
        }
    }
}
