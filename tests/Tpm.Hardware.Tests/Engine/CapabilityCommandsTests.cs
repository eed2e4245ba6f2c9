using System.Buffers.Binary;
using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class CapabilityCommandsTests : IDisposable
{
    private readonly SoftwareTpm _tpm = new(new SoftwareTpmOptions { Seed = 1, AutoStartup = true, MaxTransientObjects = 5, Manufacturer = "ABCD", FirmwareVersion = 0x0002_0003_0004_0005 });
    private readonly Tpm2 _client;

    public CapabilityCommandsTests() => _client = new Tpm2(_tpm);

    public void Dispose() => _tpm.Dispose();

    [Fact]
    public void GetAlgorithms_All_AscendingWithAttributes()
    {
        var algs = _client.GetAlgorithms();
        Assert.Equal(algs.OrderBy(a => (ushort)a.Alg).Select(a => a.Alg), algs.Select(a => a.Alg));
        Assert.Contains(new TpmsAlgProperty(TpmAlgId.Sha256, TpmaAlgorithm.Hash), algs);
        Assert.Contains(new TpmsAlgProperty(TpmAlgId.Rsa, TpmaAlgorithm.Asymmetric | TpmaAlgorithm.Object), algs);
        Assert.Contains(new TpmsAlgProperty(TpmAlgId.Ecdsa, TpmaAlgorithm.Asymmetric | TpmaAlgorithm.Signing), algs);
        Assert.Contains(new TpmsAlgProperty(TpmAlgId.Cfb, TpmaAlgorithm.Symmetric | TpmaAlgorithm.Encrypting), algs);
        Assert.Contains(algs, a => a.Alg == TpmAlgId.Ecdaa);

        // XOR parameter encryption is implemented, so tpm2_getcap algorithms lists it (as libtpms: symmetric | hash).
        Assert.Contains(new TpmsAlgProperty(TpmAlgId.Xor, TpmaAlgorithm.Symmetric | TpmaAlgorithm.Hash), algs);
        Assert.DoesNotContain(algs, a => a.Alg == TpmAlgId.Tdes);
    }

    [Fact]
    public void GetTpmProperties_HrPersistentAvail_CountsDownToTheEvictControlLimit()
    {
        var srk = _client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        _client.EvictControl(TpmRh.Owner, srk.Handle, 0x8100_0001);

        var p = _client.GetTpmProperties();

        Assert.Equal(1u, p[TpmPt.HrPersistent]);
        Assert.Equal((uint)ContextCommands.MaxPersistentObjects - 1, p[TpmPt.HrPersistentAvail]);
    }

    [Fact]
    public void GetCapability_AlgsInPagesOfThree_ConcatenateToTheFullList()
    {
        var pages = new List<TpmsAlgProperty>();
        var property = 0u;
        CapabilityData page;
        do
        {
            page = _client.GetCapability(TpmCap.Algs, property, 3);
            Assert.InRange(page.Algorithms.Count, 1, 3);
            pages.AddRange(page.Algorithms);
            property = (uint)page.Algorithms[^1].Alg + 1;
        }
        while (page.MoreData);

        Assert.Equal(_client.GetAlgorithms(), pages);
    }

    [Fact]
    public void GetCapability_AlgsFromSha256_StartsThere()
    {
        var page = _client.GetCapability(TpmCap.Algs, (uint)TpmAlgId.Sha256, 2);
        Assert.Equal([TpmAlgId.Sha256, TpmAlgId.Sha384], page.Algorithms.Select(a => a.Alg));
        Assert.True(page.MoreData);
    }

    [Fact]
    public void GetCommands_EveryImplementedCommand_WithTpmaCc()
    {
        var commands = _client.GetCommands();
        Assert.Equal(_tpm.ImplementedCommands, commands.Select(c => (TpmCc)(uint)(c & TpmaCc.CommandIndexMask)));
        TpmaCc Of(TpmCc code) => commands.Single(c => (TpmCc)(uint)(c & TpmaCc.CommandIndexMask) == code);
        Assert.Equal((TpmaCc)0x0182 | TpmaCc.Nv | (TpmaCc)(1u << 25), Of(TpmCc.PcrExtend));
        Assert.Equal((TpmaCc)0x0122 | TpmaCc.Nv | (TpmaCc)(2u << 25), Of(TpmCc.NvUndefineSpace));
        Assert.Equal((TpmaCc)0x017A, Of(TpmCc.GetCapability));
        Assert.Equal((TpmaCc)0x014E | (TpmaCc)(2u << 25), Of(TpmCc.NvRead));
    }

    [Fact]
    public void CommandAttributes_ResponseHandleAndSpecialCommands_SetTheirBits()
    {
        static CommandDescriptor D(TpmCc code, int handles, int responseHandles) =>
            new(code, Enumerable.Repeat(new HandleSpec(HandleKinds.Object), handles).ToArray(), responseHandles, _ => { });
        Assert.Equal(0x0131u | (1u << 25) | (1u << 28), CapabilityCommands.CommandAttributes(D(TpmCc.CreatePrimary, 1, 1)));
        Assert.Equal(0x0126u | (1u << 22) | (1u << 23) | (1u << 25), CapabilityCommands.CommandAttributes(D(TpmCc.Clear, 1, 0)));
        Assert.Equal(0x013Eu | (1u << 24) | (1u << 25), CapabilityCommands.CommandAttributes(D(TpmCc.SequenceComplete, 1, 0)));
    }

    [Fact]
    public void GetCapability_CommandsPaged_ReportsMoreData()
    {
        var page = _client.GetCapability(TpmCap.Commands, (uint)TpmCc.NvDefineSpace, 2);
        Assert.Equal(2, page.Commands.Count);
        Assert.Equal((uint)TpmCc.NvDefineSpace, (uint)(page.Commands[0] & TpmaCc.CommandIndexMask));
        Assert.True(page.MoreData);
    }

    [Fact]
    public void GetTpmProperties_Fixed_DescribeThisTpm()
    {
        var p = _client.GetTpmProperties();
        Assert.Equal(0x322E3000u, p[TpmPt.FamilyIndicator]);
        Assert.Equal(0u, p[TpmPt.Level]);
        Assert.Equal(159u, p[TpmPt.Revision]);
        Assert.Equal(2019u, p[TpmPt.Year]);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian("ABCD"u8), p[TpmPt.Manufacturer]);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian("Trus"u8), p[TpmPt.VendorString1]);
        Assert.Equal(0x0002_0003u, p[TpmPt.FirmwareVersion1]);
        Assert.Equal(0x0004_0005u, p[TpmPt.FirmwareVersion2]);
        Assert.Equal(1024u, p[TpmPt.InputBuffer]);
        Assert.Equal(5u, p[TpmPt.HrTransientMin]);
        Assert.Equal(3u, p[TpmPt.HrLoadedMin]);
        Assert.Equal(64u, p[TpmPt.ActiveSessionsMax]);
        Assert.Equal(24u, p[TpmPt.PcrCount]);
        Assert.Equal(3u, p[TpmPt.PcrSelectMin]);
        Assert.Equal(2048u, p[TpmPt.NvIndexMax]);
        Assert.Equal(4096u, p[TpmPt.MaxCommandSize]);
        Assert.Equal(4096u, p[TpmPt.MaxResponseSize]);
        Assert.Equal(64u, p[TpmPt.MaxDigest]);
        Assert.Equal(1024u, p[TpmPt.NvBufferMax]);
        Assert.Equal(1024u, p[TpmPt.MaxCapBuffer]);
        Assert.Equal((uint)_tpm.ImplementedCommands.Count, p[TpmPt.TotalCommands]);
        Assert.Equal((uint)_tpm.ImplementedCommands.Count, p[TpmPt.LibraryCommands]);
    }

    [Fact]
    public void GetTpmProperties_Variable_FollowState()
    {
        var p = _client.GetTpmProperties();
        Assert.Equal(1u << 10, p[TpmPt.Permanent]); // tpmGeneratedEPS, no auth set
        Assert.Equal(0xFu, p[TpmPt.StartupClear]); // ph/sh/eh/phNV enabled, not orderly (first startup)
        Assert.Equal(0u, p[TpmPt.HrNvIndex]);
        Assert.Equal(5u, p[TpmPt.HrTransientAvail]);
        Assert.Equal(3u, p[TpmPt.HrLoadedAvail]);
        Assert.Equal(0u, p[TpmPt.LockoutCounter]);
        Assert.Equal(3u, p[TpmPt.MaxAuthFail]);
        Assert.Equal(1000u, p[TpmPt.LockoutInterval]);
        Assert.Equal(1000u, p[TpmPt.LockoutRecovery]);

        _client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(0x01000001, TpmAlgId.Sha256, TpmaNv.OwnerRead | TpmaNv.OwnerWrite, [], 8), []);
        _tpm.State.Owner.AuthValue = [1];
        _client.Shutdown();
        _tpm.PowerOff();
        _tpm.PowerOn();
        p = _client.GetTpmProperties();
        Assert.Equal(1u, p[TpmPt.HrNvIndex]);
        Assert.Equal((1u << 10) | 1u, p[TpmPt.Permanent]);
        Assert.Equal(0x8000000Fu, p[TpmPt.StartupClear]);
    }

    [Fact]
    public void GetCapability_PropertiesPaged_StayInTheirGroup()
    {
        var first = _client.GetCapability(TpmCap.TpmProperties, (uint)TpmPt.Fixed, 5);
        Assert.Equal(5, first.TpmProperties.Count);
        Assert.True(first.MoreData);
        Assert.Equal(TpmPt.FamilyIndicator, first.TpmProperties[0].Property);

        var lastFixed = _client.GetCapability(TpmCap.TpmProperties, (uint)TpmPt.MaxCapBuffer, 100);
        Assert.Equal([TpmPt.MaxCapBuffer], lastFixed.TpmProperties.Select(p => p.Property));
        Assert.False(lastFixed.MoreData);

        var fromZero = _client.GetCapability(TpmCap.TpmProperties, 0, 1);
        Assert.Equal(TpmPt.FamilyIndicator, fromZero.TpmProperties.Single().Property);

        Assert.Empty(_client.GetCapability(TpmCap.TpmProperties, 0x300, 10).TpmProperties);
    }

    [Fact]
    public void GetHandles_Pcr_ListsAll24()
    {
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (uint)i), _client.GetHandles(TpmHt.Pcr));
        var page = _client.GetCapability(TpmCap.Handles, 20, 2);
        Assert.Equal([20u, 21u], page.Handles);
        Assert.True(page.MoreData);
    }

    [Fact]
    public void GetHandles_NvIndex_ListsDefinedIndicesFromProperty()
    {
        foreach (var index in new uint[] { 0x01000003, 0x01000001, 0x01C00002 })
        {
            _client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(index, TpmAlgId.Sha256, TpmaNv.OwnerRead | TpmaNv.OwnerWrite, [], 8), []);
        }

        Assert.Equal([0x01000001u, 0x01000003u, 0x01C00002u], _client.GetHandles(TpmHt.NvIndex));
        Assert.Equal([0x01000003u, 0x01C00002u], _client.GetCapability(TpmCap.Handles, 0x01000002, 10).Handles);
    }

    [Fact]
    public void GetHandles_Permanent_ListsHierarchies()
    {
        var handles = _client.GetHandles(TpmHt.Permanent);
        Assert.Equal([TpmRh.Owner, TpmRh.Null, TpmRh.Password, TpmRh.Lockout, TpmRh.Endorsement, TpmRh.Platform, TpmRh.PlatformNv], handles);
    }

    [Fact]
    public void GetHandles_EmptyRanges_ReturnNothing()
    {
        Assert.Empty(_client.GetHandles(TpmHt.Transient));
        Assert.Empty(_client.GetHandles(TpmHt.Persistent));
        Assert.Empty(_client.GetHandles(TpmHt.HmacSession));
        Assert.Empty(_client.GetHandles(TpmHt.PolicySession));
    }

    [Fact]
    public void GetCapability_NotATpmCapAndTruncated_ReturnsValueParameter1BeforeReadingOn()
    {
        // TPM_CAP is checked as it is unmarshalled (reference, libtpms): the short count is never read.
        var e = Assert.Throws<TpmException>(() => _client.Execute(TpmCc.GetCapability, [], [], w =>
        {
            w.WriteU32(0x180);
            w.WriteU32(0);
            w.WriteU16(0);
        }));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), e.ResponseCode);
    }

    [Fact]
    public void GetHandles_SavedPolicySession_ListedAsHmacRangeLikeTheReference()
    {
        // tpm2_getcap handles-saved-session on libtpms lists a saved trial/policy session 0x03000000 as 0x02000000.
        var hmac = _client.StartAuthSession(TpmSe.Hmac);
        var policy = _client.StartAuthSession(TpmSe.Trial);
        _tpm.State.Sessions[policy.Handle].IsSaved = true;

        Assert.Equal([0x0200_0001u], _client.GetHandles(TpmHt.PolicySession));
        Assert.Equal([hmac.Handle], _client.GetHandles(TpmHt.HmacSession));
    }

    [Fact]
    public void GetCapability_HandlesOfUnknownType_ReturnsHandleParameter2()
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Handle, 2), ErrorOf(() => _client.GetCapability(TpmCap.Handles, 0x41000000, 10)));
    }

    [Fact]
    public void GetPcrAllocation_DefaultBanks_AllPcrsOfSha1Sha256Sha384()
    {
        var allocation = _client.GetPcrAllocation();
        Assert.Equal([TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384, TpmAlgId.Sha512], allocation.Selections.Select(s => s.Hash));
        Assert.All(allocation.Selections.Take(3), s => Assert.Equal(Enumerable.Range(0, 24), s.Pcrs));
        Assert.Empty(allocation.Selections[3].Pcrs);
    }

    [Fact]
    public void GetCapability_PcrsWithNonZeroProperty_ReturnsValueParameter2()
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), ErrorOf(() => _client.GetCapability(TpmCap.Pcrs, 1, 1)));
    }

    [Fact]
    public void GetCapability_PcrProperties_FollowThePcClientProfile()
    {
        var properties = _client.GetCapability(TpmCap.PcrProperties, 0, 100).PcrProperties.ToDictionary(p => p.Tag, p => new PcrSelection(TpmAlgId.Null, p.Select).Pcrs.ToArray());
        Assert.Equal(Enumerable.Range(0, 16), properties[0x00]); // TPM_PT_PCR_SAVE
        Assert.Equal([16, 23], properties[0x02]); // TPM_PT_PCR_RESET_L0
        Assert.Equal([.. Enumerable.Range(0, 17), 23], properties[0x01]); // TPM_PT_PCR_EXTEND_L0
        Assert.Equal([16, 21, 22, 23], properties[0x11]); // TPM_PT_PCR_NO_INCREMENT, as libtpms
        Assert.Equal(Enumerable.Range(17, 6), properties[0x12]); // TPM_PT_PCR_DRTM_RESET
        Assert.DoesNotContain(0x0Bu, properties.Keys);
    }

    [Fact]
    public void GetEccCurves_All_P256P384BnP256()
    {
        Assert.Equal([TpmEccCurve.NistP256, TpmEccCurve.NistP384, TpmEccCurve.BnP256], _client.GetEccCurves());
        Assert.Equal([TpmEccCurve.NistP384, TpmEccCurve.BnP256], _client.GetCapability(TpmCap.EccCurves, (uint)TpmEccCurve.NistP384, 10).EccCurves);
    }

    [Fact]
    public void GetCapability_AuditCommands_EmptyList()
    {
        var data = _client.GetCapability(TpmCap.AuditCommands, 0, 10);
        Assert.Empty(data.CommandCodes);
        Assert.False(data.MoreData);
    }

    [Theory]
    [InlineData(0x55u)]
    [InlineData((uint)TpmCap.VendorProperty)]
    public void GetCapability_UnknownCapability_ReturnsValueParameter1(uint capability)
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), ErrorOf(() => _client.GetCapability((TpmCap)capability, 0, 1)));
    }

    [Fact]
    public void GetCapability_ZeroCount_ReturnsNothingAndMoreData()
    {
        var data = _client.GetCapability(TpmCap.Algs, 0, 0);
        Assert.Empty(data.Algorithms);
        Assert.True(data.MoreData);
    }

    [Fact]
    public void GetCapability_TruncatedParameters_ReturnsInsufficientParameter3()
    {
        var e = Assert.Throws<TpmException>(() => _client.Execute(TpmCc.GetCapability, [], [], w =>
        {
            w.WriteU32((uint)TpmCap.Algs);
            w.WriteU32(0);
            w.WriteU16(1);
        }));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Insufficient, 3), e.ResponseCode);
    }

    [Theory]
    [InlineData("0001" + "0010" + "0010" + "0800" + "00000000")] // RSA-2048 (tpm2_testparms rsa2048)
    [InlineData("0023" + "0010" + "0010" + "0003" + "0010")] // ECC P-256 (tpm2_testparms ecc256)
    [InlineData("0025" + "0006" + "0080" + "0043")] // SYMCIPHER AES-128-CFB (tpm2_testparms aes128cfb)
    [InlineData("0008" + "0005" + "000B")] // KEYEDHASH HMAC-SHA256
    public void TestParms_ImplementedParameters_Succeed(string parms)
    {
        var bytes = Convert.FromHexString(parms);
        _client.Execute(TpmCc.TestParms, [], [], w => w.WriteBytes(bytes));
    }

    [Theory]
    [InlineData("0001" + "0010" + "0010" + "1000" + "00000000", TpmRc.Value)] // RSA-4096
    [InlineData("0023" + "0010" + "0010" + "0099" + "0010", TpmRc.Curve)] // unknown curve
    [InlineData("0025" + "0003" + "0080" + "0043", TpmRc.Symmetric)] // TDES
    [InlineData("0099", TpmRc.Type)] // not an object type
    public void TestParms_UnimplementedParameters_ReturnParameter1Error(string parms, TpmRc expected)
    {
        var bytes = Convert.FromHexString(parms);
        Assert.Equal(TpmResponseCode.Parameter(expected, 1), EngineTestKit.ErrorOf(() => _client.Execute(TpmCc.TestParms, [], [], w => w.WriteBytes(bytes))));
    }
}
