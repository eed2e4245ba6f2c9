using System.Buffers.Binary;
using TrustStack.Tpm.Hardware.Tests.Interop;
using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class SoftwareTpmTests
{
    [Fact]
    public void Startup_Twice_ReturnsInitialize()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 1 });
        var client = new Tpm2(tpm);
        client.Startup();
        var e = Assert.Throws<TpmException>(() => client.Startup());
        Assert.Equal(TpmRc.Initialize, e.ResponseCode);
    }

    [Fact]
    public void Startup_WhenStartedWithMalformedParameters_ReturnsInitializeFirst()
    {
        // Reference ExecuteCommand checks TPM2_Startup-after-startup before parsing (found against libtpms).
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(TpmRc.Initialize, Rc(tpm.Execute(RawCommand(TpmSt.NoSessions, TpmCc.Startup, 0, 0, 1, 2, 3))));
    }

    [Theory]
    [InlineData(TpmCc.SelfTest, new byte[] { 0x80, 0x00, 0x00, 0x01 })]
    [InlineData(TpmCc.Shutdown, new byte[] { 0x00, 0x07, 0x00 })]
    public void Execute_BadValueFollowedByOctets_ReturnsValueBeforeSize(TpmCc code, byte[] parameters)
    {
        // TPMI_YES_NO and TPM_SU are checked as they are unmarshalled (reference, libtpms).
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), Rc(tpm.Execute(RawCommand(TpmSt.NoSessions, code, parameters))));
    }

    [Fact]
    public void Execute_BeforeStartup_ReturnsInitialize()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 1 });
        Assert.Equal(TpmRc.Initialize, Rc(tpm.Execute(RawCommand(TpmSt.NoSessions, TpmCc.GetRandom, 0, 8))));
    }

    [Fact]
    public void Execute_AutoStartup_AcceptsCommandsAtOnce()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 1, AutoStartup = true });
        Assert.Equal(8, new Tpm2(tpm).GetRandom(8).Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    public void Execute_ShorterThanHeader_ReturnsCommandSize(int length)
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(TpmRc.CommandSize, Rc(tpm.Execute(new byte[length])));
    }

    [Fact]
    public void Execute_SizeFieldDisagrees_ReturnsCommandSize()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        var command = RawCommand(TpmSt.NoSessions, TpmCc.GetRandom, 0, 8);
        BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(2), 20);
        Assert.Equal(TpmRc.CommandSize, Rc(tpm.Execute(command)));
    }

    [Fact]
    public void Execute_WrongTag_ReturnsBadTag()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(TpmRc.BadTag, Rc(tpm.Execute(RawCommand((TpmSt)0x1234, TpmCc.GetRandom, 0, 8))));
    }

    [Fact]
    public void Execute_UnknownCommand_ReturnsCommandCode()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(TpmRc.CommandCode, Rc(tpm.Execute(RawCommand(TpmSt.NoSessions, (TpmCc)0x2000_0001))));
    }

    [Fact]
    public void Execute_TruncatedParameter_ReturnsInsufficientForParameter1()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Insufficient, 1), Rc(tpm.Execute(RawCommand(TpmSt.NoSessions, TpmCc.GetRandom, 0))));
    }

    [Fact]
    public void Execute_TrailingOctets_ReturnsSizeWithoutParameterNumber()
    {
        // Reference CommandDispatcher and libtpms: octets after the last parameter are plain TPM_RC_SIZE.
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(TpmRc.Size, Rc(tpm.Execute(RawCommand(TpmSt.NoSessions, TpmCc.GetRandom, 0, 8, 9))));
    }

    [Fact]
    public void GetRandom_Deterministic_SameSeedSameBytes()
    {
        using var a = new SoftwareTpm(new SoftwareTpmOptions { Seed = 7, AutoStartup = true });
        using var b = new SoftwareTpm(new SoftwareTpmOptions { Seed = 7, AutoStartup = true });
        Assert.Equal(new Tpm2(a).GetRandom(32), new Tpm2(b).GetRandom(32));
    }

    [Fact]
    public void GetRandom_MoreThan64_ReturnsAtMost64()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(64, new Tpm2(tpm).GetRandom(500).Length);
    }

    [Fact]
    public void Startup_StateWithoutShutdownState_ReturnsValueParameter1()
    {
        using var tpm = new SoftwareTpm();
        var e = Assert.Throws<TpmException>(() => new Tpm2(tpm).Startup(TpmSu.State));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), e.ResponseCode);
    }

    [Fact]
    public void Constructor_CorruptStateFile_ThrowsNamingTheFile()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-state-");
        try
        {
            using (var tpm = new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = dir.FullName, Seed = 3 }))
            {
            }

            var file = Path.Combine(dir.FullName, "tpm-state.bin");
            var bytes = File.ReadAllBytes(file);
            bytes[20] ^= 0xFF;
            File.WriteAllBytes(file, bytes);
            var e = Assert.Throws<TpmStateException>(() => new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = dir.FullName }));
            Assert.Equal(file, e.Path);
            Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Constructor_ExistingState_KeepsResetCount()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-state-");
        try
        {
            using (var tpm = new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = dir.FullName, AutoStartup = true }))
            {
                Assert.Equal(1u, tpm.State.ResetCount);
            }

            using var again = new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = dir.FullName, AutoStartup = true });
            Assert.Equal(2u, again.State.ResetCount);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    // ---- Session area, handle area and authorization order as the reference implementation
    // (ExecCommand.c, SessionProcess.c, Entity.c); each was found by DifferentialTests against libtpms.

    private static readonly byte[] ZeroSha256 = new byte[32];

    private static SoftwareTpm Started() => new(new SoftwareTpmOptions { AutoStartup = true });

    private static byte[] Extend(RawSession[]? sessions, TpmSt? tag = null) =>
        RawCommands.Build(TpmCc.PcrExtend, [16], sessions, w => { w.WriteU32(1); w.WriteAlg(TpmAlgId.Sha256); w.WriteBytes(ZeroSha256); }, tag);

    private static byte[] WithAuthSize(uint authSize)
    {
        var command = RawCommands.BuildWithLayout(TpmCc.PcrExtend, [16], [RawSession.Password()], w => { w.WriteU32(1); w.WriteAlg(TpmAlgId.Sha256); w.WriteBytes(ZeroSha256); });
        var bytes = command.Bytes;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(command.AuthOffset), authSize);
        return bytes;
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(8u)]
    [InlineData(0x1000u)]
    public void Execute_AuthorizationSizeOutOfRange_ReturnsSize(uint authSize)
    {
        using var tpm = Started();
        Assert.Equal(TpmRc.Size, Rc(tpm.Execute(WithAuthSize(authSize))));
    }

    [Fact]
    public void Execute_SessionsTagWithoutAuthorizationSize_ReturnsInsufficient()
    {
        using var tpm = Started();
        Assert.Equal(TpmRc.Insufficient, Rc(tpm.Execute(RawCommands.Build(TpmCc.GetRandom, [], null, w => w.WriteU16(8), TpmSt.Sessions))));
    }

    [Fact]
    public void Execute_FourSessions_ReturnsSizeForSession4()
    {
        using var tpm = Started();
        RawSession[] four = [RawSession.Password(), RawSession.Password(), RawSession.Password(), RawSession.Password()];
        Assert.Equal(TpmResponseCode.Session(TpmRc.Size, 4), Rc(tpm.Execute(Extend(four))));
    }

    [Theory]
    [InlineData(0x8000_0000u)]
    [InlineData(0x0200_0040u)]
    public void Execute_SessionAreaHandleNotASessionHandle_ReturnsValueForTheSession(uint handle)
    {
        using var tpm = Started();
        Assert.Equal(TpmResponseCode.Session(TpmRc.Value, 1), Rc(tpm.Execute(Extend([new RawSession(handle, new byte[16], TpmaSession.ContinueSession, [])]))));
    }

    [Fact]
    public void Execute_ReservedSessionAttributeBit_ReturnsReservedBits()
    {
        using var tpm = Started();
        Assert.Equal(TpmResponseCode.Session(TpmRc.ReservedBits, 1), Rc(tpm.Execute(Extend([new RawSession(TpmRh.Password, [], (TpmaSession)0x09, [])]))));
    }

    [Fact]
    public void Execute_PasswordLongerThanADigest_ReturnsSizeForTheSession()
    {
        using var tpm = Started();
        Assert.Equal(TpmResponseCode.Session(TpmRc.Size, 1), Rc(tpm.Execute(Extend([RawSession.Password(new byte[65])]))));
    }

    [Fact]
    public void Execute_PasswordWithoutAHandleToAuthorize_ReturnsHandleForTheSession()
    {
        using var tpm = Started();
        Assert.Equal(TpmResponseCode.Session(TpmRc.Handle, 2), Rc(tpm.Execute(Extend([RawSession.Password(), RawSession.Password()]))));
        Assert.Equal(TpmResponseCode.Session(TpmRc.Handle, 1), Rc(tpm.Execute(RawCommands.Build(TpmCc.GetRandom, [], [RawSession.Password()], w => w.WriteU16(8)))));
    }

    [Fact]
    public void Execute_SessionListedTwice_ReturnsHandleBeforeCheckingAnyHmac()
    {
        using var tpm = Started();
        var s = new Tpm2(tpm).StartAuthSession(TpmSe.Hmac);
        var entry = new RawSession(s.Handle, new byte[32], TpmaSession.ContinueSession, new byte[32]);
        Assert.Equal(TpmResponseCode.Session(TpmRc.Handle, 2), Rc(tpm.Execute(Extend([entry, entry]))));
    }

    [Fact]
    public void Execute_PolicyHandleNamingAnHmacSessionSlot_ReturnsHandle()
    {
        using var tpm = Started();
        var s = new Tpm2(tpm).StartAuthSession(TpmSe.Hmac);
        var policyHandle = s.Handle + 0x0100_0000;
        Assert.Equal(TpmResponseCode.Session(TpmRc.Handle, 1), Rc(tpm.Execute(Extend([new RawSession(policyHandle, new byte[32], TpmaSession.ContinueSession, [])]))));
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Handle, 1), Rc(tpm.Execute(RawCommands.Build(TpmCc.PolicyGetDigest, [policyHandle], null, null))));
    }

    [Fact]
    public void Execute_SessionThatAuthorizesNothing_NeedsAuditEncryptOrDecryptAndAValidHmac()
    {
        using var tpm = Started();
        var s = new Tpm2(tpm).StartAuthSession(TpmSe.Hmac);
        byte[] GetRandom(TpmaSession attributes) => RawCommands.Build(TpmCc.GetRandom, [], [new RawSession(s.Handle, new byte[32], attributes, new byte[32])], w => w.WriteU16(8));
        Assert.Equal(TpmResponseCode.Session(TpmRc.Attributes, 1), Rc(tpm.Execute(GetRandom(TpmaSession.ContinueSession))));
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), Rc(tpm.Execute(GetRandom(TpmaSession.ContinueSession | TpmaSession.Audit))));
    }

    [Fact]
    public void Execute_DecryptSessionChecks_FollowTheReference()
    {
        using var tpm = Started();
        var client = new Tpm2(tpm);
        client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(0x0150_0001, TpmAlgId.Sha256, TpmaNv.OwnerWrite | TpmaNv.OwnerRead, [], 8), []);
        var s = client.StartAuthSession(TpmSe.Hmac);
        var decrypt = new RawSession(s.Handle, new byte[32], TpmaSession.ContinueSession | TpmaSession.Decrypt, new byte[32]);
        // PCR_Extend has no TPM2B first parameter; NV_Write has, but the session has no symmetric algorithm.
        Assert.Equal(TpmResponseCode.Session(TpmRc.Attributes, 1), Rc(tpm.Execute(Extend([decrypt]))));
        Assert.Equal(TpmResponseCode.Session(TpmRc.Symmetric, 1), Rc(tpm.Execute(RawCommands.Build(TpmCc.NvWrite, [TpmRh.Owner, 0x0150_0001], [decrypt], w => { w.WriteTpm2b([1]); w.WriteU16(0); }))));
    }

    [Fact]
    public void Execute_PolicySessionForAnEntityWithoutPolicy_ReturnsAuthUnavailable()
    {
        using var tpm = Started();
        var s = new Tpm2(tpm).StartAuthSession(TpmSe.Policy);
        Assert.Equal(TpmRc.AuthUnavailable, Rc(tpm.Execute(Extend([new RawSession(s.Handle, new byte[32], TpmaSession.ContinueSession, [])]))));
    }

    [Fact]
    public void Execute_HandleAreaTruncated_ReturnsInsufficientForTheHandle()
    {
        using var tpm = Started();
        var command = RawCommands.FixSize(RawCommands.Build(TpmCc.ReadPublic, [0x8000_0000], null, null)[..12]);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Insufficient, 1), Rc(tpm.Execute(command)));
    }

    [Theory]
    [InlineData(0x8000_0003u, 0x184u)]
    [InlineData(0x8000_0002u, 0x910u)]
    [InlineData(0x0300_0040u, 0x184u)]
    [InlineData(0x0300_0001u, 0x910u)]
    public void Execute_TransientOrSessionHandle_BeyondTheSlotsIsValueElseReference(uint handle, uint expected)
    {
        using var tpm = Started();
        var code = KindIsSession(handle) ? TpmCc.PolicyGetDigest : TpmCc.ReadPublic;
        Assert.Equal((TpmRc)expected, Rc(tpm.Execute(RawCommands.Build(code, [handle], null, null))));
    }

    private static bool KindIsSession(uint handle) => handle >> 24 is 2 or 3;

    [Fact]
    public void Execute_EveryHandleTypeCheckedBeforeAnyIsLoaded()
    {
        using var tpm = Started();
        // Handle 1 (0x80000001) is not loaded, handle 2 is a PCR where an object belongs: handle 2's type error wins.
        var command = RawCommands.Build(TpmCc.Certify, [0x8000_0001, 7], [RawSession.Password(), RawSession.Password()], w => { w.WriteTpm2b([]); w.WriteAlg(TpmAlgId.Null); });
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Value, 2), Rc(tpm.Execute(command)));
    }

    [Fact]
    public void Execute_PersistentObjectWithEveryObjectSlotTaken_ReturnsObjectMemory()
    {
        using var tpm = Started();
        var client = new Tpm2(tpm);
        var primary = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle;
        client.EvictControl(TpmRh.Owner, primary, 0x8100_0001);
        Assert.Equal(TpmRc.Success, Rc(tpm.Execute(RawCommands.Build(TpmCc.ReadPublic, [0x8100_0001], null, null))));
        client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());

        // The reference copies a persistent object into a free transient slot for each command.
        Assert.Equal(TpmRc.ObjectMemory, Rc(tpm.Execute(RawCommands.Build(TpmCc.ReadPublic, [0x8100_0001], null, null))));
    }

    [Fact]
    public void Execute_AdminRoleWithPasswordOnAdminWithPolicyObject_ReturnsAuthType()
    {
        using var tpm = Started();
        var client = new Tpm2(tpm);
        var ek = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256()).Handle;
        var command = RawCommands.Build(TpmCc.ActivateCredential, [ek, ek], [RawSession.Password(), RawSession.Password()], w => { w.WriteTpm2b([1]); w.WriteTpm2b([1]); });
        Assert.Equal(TpmRc.AuthType, Rc(tpm.Execute(command)));
    }

    [Fact]
    public void FromState_ExportedImage_KeepsSeedsPersistentObjectsAndClockCounters()
    {
        byte[] image;
        byte[] ekName;
        using (var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true }))
        {
            var client = new Tpm2(tpm);
            var ek = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
            ekName = ek.Name;
            client.EvictControl(TpmRh.Owner, ek.Handle, 0x81010001);
            image = tpm.ExportState();
        }

        using var restored = SoftwareTpm.FromState(image, new SoftwareTpmOptions { AutoStartup = true });
        var again = new Tpm2(restored);
        Assert.Equal(ekName, again.ReadPublic(0x81010001).Name);
        Assert.Equal(ekName, again.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256()).Name);
        Assert.Equal(2u, restored.State.ResetCount);
    }

    [Fact]
    public void FromState_TamperedImage_ThrowsTpmStateException()
    {
        byte[] image;
        using (var tpm = new SoftwareTpm())
        {
            image = tpm.ExportState();
        }

        image[20] ^= 0xFF;
        var e = Assert.Throws<TpmStateException>(() => SoftwareTpm.FromState(image));
        Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromState_WithStateDirectory_ThrowsArgumentException()
    {
        byte[] image;
        using (var tpm = new SoftwareTpm())
        {
            image = tpm.ExportState();
        }

        Assert.Throws<ArgumentException>(() => SoftwareTpm.FromState(image, new SoftwareTpmOptions { StateDirectory = "/tmp/x" }));
    }

    [Fact]
    public void ExportState_SameAsStateFile()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-state-");
        try
        {
            using var tpm = new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = dir.FullName, Seed = 5 });
            tpm.Save();
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir.FullName, "tpm-state.bin")), tpm.ExportState());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void ExportLiveState_StartupState_ResumesWithSamePcrsAndKeys()
    {
        byte[] image, pcr, ekName;
        using (var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = 11 }))
        {
            var client = new Tpm2(tpm);
            client.PcrExtend(10, TpmAlgId.Sha256, new byte[32]);
            pcr = client.PcrReadAll(PcrSelectionList.Create(TpmAlgId.Sha256, 10))[(TpmAlgId.Sha256, 10)];
            ekName = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256()).Name;
            image = tpm.ExportLiveState();
            client.PcrExtend(10, TpmAlgId.Sha256, new byte[32]); // the source engine is unchanged by the export
        }

        using var restored = SoftwareTpm.FromState(image, new SoftwareTpmOptions { AutoStartup = false });
        var again = new Tpm2(restored);
        again.Startup(TpmSu.State);
        Assert.Equal(pcr, again.PcrReadAll(PcrSelectionList.Create(TpmAlgId.Sha256, 10))[(TpmAlgId.Sha256, 10)]);
        Assert.Equal(ekName, again.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256()).Name);
    }

    [Fact]
    public void ExportLiveState_NotStarted_Throws()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = false });
        Assert.Throws<InvalidOperationException>(() => tpm.ExportLiveState());
    }
}
