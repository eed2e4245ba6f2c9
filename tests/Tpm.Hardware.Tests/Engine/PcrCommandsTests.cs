using System.Security.Cryptography;
using FsCheck.Xunit;
using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class PcrCommandsTests : IDisposable
{
    private static readonly TpmAlgId[] Banks = [TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384];

    private readonly SoftwareTpm _tpm = new(new SoftwareTpmOptions { Seed = 1, AutoStartup = true });

    private Tpm2 Client => new(_tpm);

    public void Dispose() => _tpm.Dispose();

    private byte[] Value(TpmAlgId bank, int pcr) => Client.PcrRead(PcrSelectionList.Create(bank, pcr)).Digests.Single();

    [Theory]
    [InlineData(TpmAlgId.Sha1)]
    [InlineData(TpmAlgId.Sha256)]
    [InlineData(TpmAlgId.Sha384)]
    public void PcrExtend_OneBank_MatchesTpmHashExtend(TpmAlgId bank)
    {
        var digest = TpmHash.Hash(bank, "measurement"u8);
        Client.PcrExtend(7, bank, digest);
        Assert.Equal(TpmHash.Extend(bank, new byte[TpmHash.DigestSize(bank)], digest), Value(bank, 7));
        Assert.Equal(new byte[TpmHash.DigestSize(bank)], Value(bank, 6));
    }

    [Fact]
    public void PcrExtend_EveryBank_ExtendsEachAndCountsEachChange()
    {
        var before = _tpm.State.PcrUpdateCounter;
        Client.PcrExtend(3, Banks.Select(b => new TpmtHa(b, TpmHash.Hash(b, "x"u8))));
        foreach (var b in Banks)
        {
            Assert.Equal(TpmHash.Extend(b, new byte[TpmHash.DigestSize(b)], TpmHash.Hash(b, "x"u8)), Value(b, 3));
        }

        Assert.Equal(before + 3, _tpm.State.PcrUpdateCounter);
    }

    [Fact]
    public void PcrExtend_UnallocatedBank_IsIgnored()
    {
        var before = _tpm.State.PcrUpdateCounter;
        Client.PcrExtend(5, TpmAlgId.Sha512, new byte[64]);
        Assert.Equal(before, _tpm.State.PcrUpdateCounter);
        Assert.All(Banks, b => Assert.Equal(new byte[TpmHash.DigestSize(b)], Value(b, 5)));
    }

    [Fact]
    public void PcrExtend_NullHandle_ChangesNothing()
    {
        var before = _tpm.State.PcrUpdateCounter;
        Client.PcrExtend(TpmRh.Null, TpmAlgId.Sha256, new byte[32]);
        Assert.Equal(before, _tpm.State.PcrUpdateCounter);
    }

    [Fact]
    public void PcrExtend_UnimplementedHash_ReturnsHashParameter1()
    {
        var p = new TpmWriter();
        p.WriteU32(1);
        p.WriteAlg(TpmAlgId.Sm3256);
        p.WriteBytes(new byte[32]);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Hash, 1), Rc(_tpm.Execute(Command(TpmCc.PcrExtend, [0], 1, w => w.WriteBytes(p.WrittenSpan)))));
    }

    [Fact]
    public void PcrExtend_DigestShorterThanItsHash_ReturnsInsufficientParameter1()
    {
        var p = new TpmWriter();
        p.WriteU32(1);
        p.WriteAlg(TpmAlgId.Sha256);
        p.WriteBytes(new byte[20]);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Insufficient, 1), Rc(_tpm.Execute(Command(TpmCc.PcrExtend, [0], 1, w => w.WriteBytes(p.WrittenSpan)))));
    }

    [Fact]
    public void PcrExtend_DigestLongerThanItsHash_ReturnsSizeAndChangesNothing()
    {
        var p = new TpmWriter();
        p.WriteU32(1);
        p.WriteAlg(TpmAlgId.Sha1);
        p.WriteBytes(new byte[32]);
        var before = _tpm.State.PcrUpdateCounter;
        // The extra octets follow the last parameter: plain TPM_RC_SIZE (reference CommandDispatcher, libtpms).
        Assert.Equal(TpmRc.Size, Rc(_tpm.Execute(Command(TpmCc.PcrExtend, [0], 1, w => w.WriteBytes(p.WrittenSpan)))));
        Assert.Equal(before, _tpm.State.PcrUpdateCounter);
        Assert.Equal(new byte[20], Value(TpmAlgId.Sha1, 0));
    }

    [Fact]
    public void PcrExtend_MoreDigestsThanHashes_ReturnsSizeParameter1()
    {
        var p = new TpmWriter();
        p.WriteU32(5);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), Rc(_tpm.Execute(Command(TpmCc.PcrExtend, [0], 1, w => w.WriteBytes(p.WrittenSpan)))));
    }

    [Fact]
    public void PcrExtend_PcrBeyond23_ReturnsValueHandle1()
    {
        var p = new TpmWriter();
        p.WriteU32(0);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Value, 1), Rc(_tpm.Execute(Command(TpmCc.PcrExtend, [24], 1, w => w.WriteBytes(p.WrittenSpan)))));
    }

    [Theory]
    [InlineData(17)]
    [InlineData(20)]
    [InlineData(22)]
    public void PcrExtend_DrtmPcrAtLocality0_ReturnsLocality(uint pcr)
    {
        Assert.Equal(TpmRc.Locality, ErrorOf(() => Client.PcrExtend(pcr, TpmAlgId.Sha256, new byte[32])));
    }

    [Fact]
    public void PcrExtend_PcClientNoIncrementPcrs_DoNotBumpUpdateCounter()
    {
        // libtpms PCRBelongsTCBGroup: 16 and 21-23 (found by EngineSuiteOnSwtpmTests: PolicyPCR survived a PCR 16 extend there).
        var before = _tpm.State.PcrUpdateCounter;
        Client.PcrExtend(16, TpmAlgId.Sha256, new byte[32]);
        Client.PcrExtend(23, TpmAlgId.Sha256, new byte[32]);
        Assert.Equal(before, _tpm.State.PcrUpdateCounter);
        _tpm.Locality = 2;
        Client.PcrExtend(21, TpmAlgId.Sha256, new byte[32]);
        Assert.Equal(before, _tpm.State.PcrUpdateCounter);
        Client.PcrExtend(20, TpmAlgId.Sha256, new byte[32]);
        Assert.Equal(before + 1, _tpm.State.PcrUpdateCounter);
    }

    [Fact]
    public void PcrEvent_Data_ReturnsEveryBankDigestAndExtends()
    {
        var digests = Client.PcrEvent(10, "event"u8);
        Assert.Equal(Banks, digests.Select(d => d.HashAlg));
        foreach (var d in digests)
        {
            Assert.Equal(TpmHash.Hash(d.HashAlg, "event"u8), d.Digest);
            Assert.Equal(TpmHash.Extend(d.HashAlg, new byte[d.Digest.Length], d.Digest), Value(d.HashAlg, 10));
        }
    }

    [Fact]
    public void PcrEvent_NullHandle_HashesWithoutExtending()
    {
        var before = _tpm.State.PcrUpdateCounter;
        var digests = Client.PcrEvent(TpmRh.Null, "event"u8);
        Assert.Equal(TpmHash.Hash(TpmAlgId.Sha256, "event"u8), digests.Single(d => d.HashAlg == TpmAlgId.Sha256).Digest);
        Assert.Equal(before, _tpm.State.PcrUpdateCounter);
    }

    [Fact]
    public void PcrEvent_MoreThan1024Octets_ReturnsSizeParameter1()
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), ErrorOf(() => Client.PcrEvent(10, new byte[1025])));
    }

    [Fact]
    public void PcrRead_TwelvePcrs_ReturnsFirstEightAndTheirSelection()
    {
        var result = Client.PcrRead(PcrSelectionList.Create(TpmAlgId.Sha256, Enumerable.Range(0, 12)));
        Assert.Equal(8, result.Digests.Count);
        Assert.Equal(Enumerable.Range(0, 8), result.Selection.Selections.Single().Pcrs);
    }

    [Fact]
    public void PcrRead_TwoBanks_PagesAcrossBanksAndClearsTheRest()
    {
        var selection = new PcrSelectionList([PcrSelection.Create(TpmAlgId.Sha1, 0, 1, 2, 3, 4, 5), PcrSelection.Create(TpmAlgId.Sha256, 0, 1, 2, 3, 4, 5)]);
        var result = Client.PcrRead(selection);
        Assert.Equal(8, result.Digests.Count);
        Assert.Equal([0, 1, 2, 3, 4, 5], result.Selection.Selections[0].Pcrs);
        Assert.Equal([0, 1], result.Selection.Selections[1].Pcrs);
        Assert.Equal([20, 20, 20, 20, 20, 20, 32, 32], result.Digests.Select(d => d.Length));
    }

    [Fact]
    public void PcrRead_UnallocatedBank_ReturnsNoDigestAndAnEmptySelection()
    {
        var result = Client.PcrRead(PcrSelectionList.Create(TpmAlgId.Sha512, 0, 1));
        Assert.Empty(result.Digests);
        Assert.Equal(TpmAlgId.Sha512, result.Selection.Selections.Single().Hash);
        Assert.Empty(result.Selection.Selections.Single().Pcrs);
    }

    [Fact]
    public void PcrRead_ReportsPcrUpdateCounter()
    {
        Client.PcrExtend(1, TpmAlgId.Sha256, new byte[32]);
        Assert.Equal(_tpm.State.PcrUpdateCounter, Client.PcrRead(PcrSelectionList.Create(TpmAlgId.Sha256, 1)).UpdateCounter);
    }

    [Fact]
    public void PcrReadAll_EveryPcrOfEveryBank_ReadsAllAfterStartup()
    {
        var selection = new PcrSelectionList(Banks.Select(b => PcrSelection.Create(b, Enumerable.Range(0, 24))).ToArray());
        var values = Client.PcrReadAll(selection);
        Assert.Equal(72, values.Count);
        foreach (var ((bank, pcr), value) in values)
        {
            // PC Client: DRTM PCRs 17–22 start as all ones, the others as zeros.
            var expected = new byte[TpmHash.DigestSize(bank)];
            Array.Fill(expected, pcr is >= 17 and <= 22 ? (byte)0xFF : (byte)0);
            Assert.Equal(expected, value);
        }
    }

    [Fact]
    public void PcrRead_SelectOfFourOctets_ReturnsValueParameter1()
    {
        var selection = new PcrSelectionList([new PcrSelection(TpmAlgId.Sha256, [1, 0, 0, 0])]);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), ErrorOf(() => Client.PcrRead(selection)));
    }

    [Fact]
    public void PcrRead_UnimplementedBank_ReturnsHashParameter1()
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Hash, 1), ErrorOf(() => Client.PcrRead(PcrSelectionList.Create(TpmAlgId.Sm3256, 0))));
    }

    [Fact]
    public void PcrRead_MoreBanksThanHashes_ReturnsSizeParameter1()
    {
        var selection = new PcrSelectionList(Enumerable.Repeat(PcrSelection.Create(TpmAlgId.Sha256, 0), 5).ToArray());
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), ErrorOf(() => Client.PcrRead(selection)));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(23)]
    public void PcrReset_ResettablePcr_ZeroesEveryBank(uint pcr)
    {
        Client.PcrExtend(pcr, Banks.Select(b => new TpmtHa(b, TpmHash.Hash(b, "x"u8))));
        var before = _tpm.State.PcrUpdateCounter;
        Client.PcrReset(pcr);
        Assert.All(Banks, b => Assert.Equal(new byte[TpmHash.DigestSize(b)], Value(b, (int)pcr)));
        Assert.Equal(before, _tpm.State.PcrUpdateCounter); // 16 and 23 are in the PC Client no-increment set
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(22)]
    public void PcrReset_OtherPcrAtLocality0_ReturnsLocalityAndKeepsTheValue(uint pcr)
    {
        var before = Value(TpmAlgId.Sha256, (int)pcr);
        Assert.Equal(TpmRc.Locality, ErrorOf(() => Client.PcrReset(pcr)));
        Assert.Equal(before, Value(TpmAlgId.Sha256, (int)pcr));
    }

    [Fact]
    public void PcrReset_Pcr16AtLocality4_ReturnsLocality()
    {
        _tpm.Locality = 4;
        Assert.Equal(TpmRc.Locality, ErrorOf(() => Client.PcrReset(16)));
    }

    [Fact]
    public void PcrExtend_WrongPcrPassword_ReturnsBadAuth()
    {
        var e = Assert.Throws<TpmException>(() => Client.PcrExtend(1, [new TpmtHa(TpmAlgId.Sha256, new byte[32])], TpmAuthorization.Password("x"u8)));
        Assert.Equal(TpmRc.BadAuth, e.BaseCode);
    }

    [Fact]
    public void ComputeDigest_SelectedPcrs_HashesTheirConcatenation()
    {
        Client.PcrExtend(0, TpmAlgId.Sha256, TpmHash.Hash(TpmAlgId.Sha256, "a"u8));
        var selection = PcrSelectionList.Create(TpmAlgId.Sha256, 0, 1);
        var expected = TpmHash.Hash(TpmAlgId.Sha256, [.. Value(TpmAlgId.Sha256, 0), .. Value(TpmAlgId.Sha256, 1)]);
        Assert.Equal(expected, PcrCommands.ComputeDigest(_tpm.State, selection, TpmAlgId.Sha256));
    }

    /// <summary>Random programs of PCR_Extend, PCR_Event and PCR_Reset leave the same PCRs as a pure model.</summary>
    [Property(MaxTest = 40)]
    public bool PcrExtend_RandomSequences_MatchPureModel(byte[] program)
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 2, AutoStartup = true });
        var client = new Tpm2(tpm);
        var model = Banks.ToDictionary(b => b, b => Enumerable.Range(0, 24).Select(i => Initial(b, i)).ToArray());
        for (var i = 0; i + 1 < program.Length; i += 2)
        {
            // PCRs a locality-0 caller may extend: 0–16 and 23.
            var k = program[i] % 18;
            var pcr = k == 17 ? 23 : k;
            var bank = Banks[program[i + 1] % 3];
            var data = new[] { program[i], program[i + 1], (byte)i };
            switch (program[i + 1] % 7)
            {
                case 6:
                    client.PcrEvent((uint)pcr, data);
                    foreach (var b in Banks)
                    {
                        model[b][pcr] = TpmHash.Extend(b, model[b][pcr], TpmHash.Hash(b, data));
                    }

                    break;
                case 5 when pcr is 16 or 23:
                    client.PcrReset((uint)pcr);
                    foreach (var b in Banks)
                    {
                        model[b][pcr] = new byte[TpmHash.DigestSize(b)];
                    }

                    break;
                default:
                    var digest = TpmHash.Hash(bank, data);
                    client.PcrExtend((uint)pcr, bank, digest);
                    model[bank][pcr] = TpmHash.Extend(bank, model[bank][pcr], digest);
                    break;
            }
        }

        var selection = new PcrSelectionList(Banks.Select(b => PcrSelection.Create(b, Enumerable.Range(0, 24))).ToArray());
        var actual = client.PcrReadAll(selection);
        return actual.Count == 72 && actual.All(kv => model[kv.Key.Bank][kv.Key.Pcr].AsSpan().SequenceEqual(kv.Value));

        static byte[] Initial(TpmAlgId bank, int pcr)
        {
            var value = new byte[TpmHash.DigestSize(bank)];
            Array.Fill(value, pcr is >= 17 and <= 22 ? (byte)0xFF : (byte)0);
            return value;
        }
    }

    [Fact]
    public void ExtendInPlace_AnyDigest_EqualsAllocatingExtend()
    {
        var value = RandomNumberGenerator.GetBytes(48);
        var digest = RandomNumberGenerator.GetBytes(48);
        var expected = TpmHash.Extend(TpmAlgId.Sha384, value, digest);
        PcrCommands.ExtendInPlace(TpmAlgId.Sha384, value, digest);
        Assert.Equal(expected, value);
    }
}
