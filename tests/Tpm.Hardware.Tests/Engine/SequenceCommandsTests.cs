using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

/// <summary>Hash and event sequences (TPM 2.0 Part 3 §17): what tpm2_hash, tpm2_sign and tpm2_pcrevent use for data over 1024 octets.</summary>
public sealed class SequenceCommandsTests : IDisposable
{
    private static readonly byte[] SequenceAuth = "sequence-auth"u8.ToArray();
    private readonly SoftwareTpm _tpm = new(new SoftwareTpmOptions { Seed = 17, AutoStartup = true });
    private readonly Tpm2 _client;

    public SequenceCommandsTests() => _client = new Tpm2(_tpm);

    public void Dispose() => _tpm.Dispose();

    private static TpmRc Rc(Action action) => Assert.Throws<TpmException>(action).ResponseCode;

    private static byte[] Data(int length) => [.. Enumerable.Range(0, length).Select(i => unchecked((byte)(i * 7)))];

    private uint Start(TpmAlgId hashAlg, byte[]? auth = null) =>
        _client.Execute(TpmCc.HashSequenceStart, [], [], w =>
        {
            w.WriteTpm2b(auth ?? SequenceAuth);
            w.WriteAlg(hashAlg);
        }, responseHandleCount: 1).Handles[0];

    private void Update(uint sequence, ReadOnlySpan<byte> data, byte[]? auth = null)
    {
        var copy = data.ToArray();
        _client.Execute(TpmCc.SequenceUpdate, [sequence], [TpmAuthorization.Password(auth ?? SequenceAuth)], w => w.WriteTpm2b(copy));
    }

    private (byte[] Digest, TpmtTicket Ticket) Complete(uint sequence, ReadOnlySpan<byte> last, uint hierarchy = TpmRh.Owner)
    {
        var copy = last.ToArray();
        var r = _client.Execute(TpmCc.SequenceComplete, [sequence], [TpmAuthorization.Password(SequenceAuth)], w =>
        {
            w.WriteTpm2b(copy);
            w.WriteU32(hierarchy);
        }).Reader();
        var digest = r.ReadTpm2b();
        return (digest, TpmtTicket.Unmarshal(ref r));
    }

    private void Feed(uint sequence, byte[] data)
    {
        for (var offset = 0; offset < data.Length; offset += 1024)
        {
            Update(sequence, data.AsSpan(offset, Math.Min(1024, data.Length - offset)));
        }
    }

    [Theory]
    [InlineData(TpmAlgId.Sha1)]
    [InlineData(TpmAlgId.Sha256)]
    [InlineData(TpmAlgId.Sha384)]
    public void HashSequence_3000OctetsInChunks_DigestAndTicketAsTpm2Hash(TpmAlgId hash)
    {
        var data = Data(3000);
        var sequence = Start(hash);
        Assert.Equal(TpmRh.TransientFirst, sequence);
        Feed(sequence, data[..2048]);

        var (digest, ticket) = Complete(sequence, data[2048..]);

        Assert.Equal(TpmHash.Hash(hash, data), digest);
        Assert.Equal(TpmSt.Hashcheck, ticket.Tag);
        Assert.Equal(TpmRh.Owner, ticket.Hierarchy);
        Assert.Equal(Tickets.HashCheckDigest(_tpm.State, TpmRh.Owner, digest), ticket.Digest);
        Assert.Empty(_tpm.State.TransientObjects);
    }

    [Fact]
    public void SequenceComplete_DataStartingWithTpmGeneratedValue_GivesNullTicket()
    {
        var sequence = Start(TpmAlgId.Sha256);
        Update(sequence, [0xFF, 0x54]);
        var (digest, ticket) = Complete(sequence, [0x43, 0x47, 1, 2, 3]);
        Assert.Equal(SHA256.HashData([0xFF, 0x54, 0x43, 0x47, 1, 2, 3]), digest);
        Assert.Equal(TpmRh.Null, ticket.Hierarchy);
        Assert.Empty(ticket.Digest);
    }

    [Fact]
    public void HashSequenceStart_SequencesTakeTransientSlots_FourthObjectFindsNoRoom()
    {
        var sequences = Enumerable.Range(0, 3).Select(_ => Start(TpmAlgId.Sha256)).ToList();
        Assert.Equal([0x8000_0000u, 0x8000_0001u, 0x8000_0002u], sequences);
        Assert.Equal(TpmRc.ObjectMemory, Rc(() => Start(TpmAlgId.Sha256)));
        Assert.Equal(sequences, _client.GetHandles(TpmHt.Transient));

        _client.FlushContext(sequences[1]);
        Assert.Equal(0x8000_0001u, Start(TpmAlgId.Sha1));
    }

    [Fact]
    public void HashSequenceStart_UnimplementedHash_ReturnsHashParameter2()
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Hash, 2), Rc(() => Start((TpmAlgId)0x0012)));
    }

    [Fact]
    public void SequenceUpdate_WrongAuth_ReturnsBadAuthSession1()
    {
        var sequence = Start(TpmAlgId.Sha256);

        // Sequence objects are not DA-protected: BAD_AUTH, not AUTH_FAIL.
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), Rc(() => Update(sequence, [1], "wrong"u8.ToArray())));
    }

    [Fact]
    public void SequenceUpdate_OnAKey_ReturnsModeHandle1()
    {
        var key = _client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256()).Handle;
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Mode, 1), Rc(() => _client.Execute(TpmCc.SequenceUpdate, [key], [TpmAuthorization.EmptyPassword], w => w.WriteTpm2b([1]))));
    }

    [Fact]
    public void EventSequence_ExtendsThePcrInEveryBank()
    {
        var data = Data(2500);
        var sequence = Start(TpmAlgId.Null);
        Feed(sequence, data[..2048]);

        var r = _client.Execute(TpmCc.EventSequenceComplete, [16u, sequence], [TpmAuthorization.EmptyPassword, TpmAuthorization.Password(SequenceAuth)], w => w.WriteTpm2b(data[2048..])).Reader();

        Assert.Equal((uint)_tpm.State.Banks.Count, r.ReadU32());
        foreach (var bank in _tpm.State.Banks)
        {
            Assert.Equal(bank, r.ReadAlg());
            var digest = r.ReadBytes(TpmHash.DigestSize(bank)).ToArray();
            Assert.Equal(TpmHash.Hash(bank, data), digest);
            Assert.Equal(TpmHash.Extend(bank, new byte[TpmHash.DigestSize(bank)], digest), _tpm.State.Pcrs[bank][16]);
        }

        Assert.Empty(_tpm.State.TransientObjects);
    }

    [Fact]
    public void SequenceComplete_OnAKeyWithABadHierarchy_ReturnsTheParameterErrorFirst()
    {
        // Parameters are unmarshalled before the action code checks the handle (reference; found against libtpms).
        var key = _client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle;
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), Rc(() => _client.Execute(TpmCc.SequenceComplete, [key], [TpmAuthorization.EmptyPassword], w => { w.WriteTpm2b([]); w.WriteU32(0x18); })));
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Mode, 1), Rc(() => _client.Execute(TpmCc.SequenceComplete, [key], [TpmAuthorization.EmptyPassword], w => { w.WriteTpm2b([]); w.WriteU32(TpmRh.Null); })));
    }

    [Fact]
    public void SequenceComplete_OnEventSequence_ReturnsModeHandle1()
    {
        var sequence = Start(TpmAlgId.Null);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Mode, 1), Rc(() => Complete(sequence, [])));
        Assert.Single(_tpm.State.TransientObjects);
    }

    [Fact]
    public void ReadPublic_OnSequence_ReturnsSequenceHandle1()
    {
        var sequence = Start(TpmAlgId.Sha256);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Sequence, 1), Rc(() => _client.ReadPublic(sequence)));
    }

    [Fact]
    public void ContextSave_OnSequence_IsRefusedNotCorrupted()
    {
        // Limitation: the running hash is not serialized, so saving a sequence is refused (TPM_RC_TYPE + handle 1).
        var sequence = Start(TpmAlgId.Sha256);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Type, 1), Rc(() => _client.ContextSave(sequence)));
        Update(sequence, [1, 2, 3]);
        Assert.Equal(SHA256.HashData([1, 2, 3, 4]), Complete(sequence, [4]).Digest);
    }

    [Fact]
    public void ReadClock_RawResponse_IsTimeThenClockInfo()
    {
        var response = _tpm.Execute(Convert.FromHexString("8001" + "0000000A" + "00000181"));
        Assert.Equal("8001" + "00000023" + "00000000", Convert.ToHexString(response.AsSpan(0, 10)));
        var r = new TpmReader(response.AsSpan(10));
        Assert.Equal(_tpm.TimeMilliseconds, r.ReadU64());
        Assert.Equal(_tpm.ClockMilliseconds, r.ReadU64());
        Assert.Equal(_tpm.State.ResetCount, r.ReadU32());
        Assert.Equal(_tpm.State.RestartCount, r.ReadU32());
        Assert.Equal(1, r.ReadU8());
        Assert.Equal(0, r.Remaining);
    }

    [Fact]
    public void ReadClock_AfterTimePasses_AdvancesTimeAndClock()
    {
        var time = new FixedTimeProvider();
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 3, AutoStartup = true }, timeProvider: time);
        static (ulong Time, ulong Clock) Read(SoftwareTpm t)
        {
            var response = t.Execute(Convert.FromHexString("8001" + "0000000A" + "00000181"));
            return (BinaryPrimitives.ReadUInt64BigEndian(response.AsSpan(10)), BinaryPrimitives.ReadUInt64BigEndian(response.AsSpan(18)));
        }

        var before = Read(tpm);
        time.Advance(TimeSpan.FromSeconds(5));
        var after = Read(tpm);
        Assert.Equal(before.Time + 5000, after.Time);
        Assert.Equal(before.Clock + 5000, after.Clock);
    }
}
