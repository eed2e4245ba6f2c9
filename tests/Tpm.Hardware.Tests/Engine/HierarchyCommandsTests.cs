using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class HierarchyCommandsTests
{
    private static SoftwareTpm NewTpm(string? stateDirectory = null, TimeProvider? time = null) =>
        EngineTestKit.NewTpm(31, stateDirectory: stateDirectory, timeProvider: time);

    private static NvIndex AddNvIndex(SoftwareTpm tpm, uint handle, TpmaNv attributes)
    {
        var index = new NvIndex(new TpmsNvPublic(handle, TpmAlgId.Sha256, attributes | TpmaNv.AuthRead | TpmaNv.AuthWrite, [], 8), [], new byte[8]);
        tpm.State.NvIndices[handle] = index;
        return index;
    }

    // ---- HierarchyChangeAuth ----

    [Theory]
    [InlineData(TpmRh.Owner)]
    [InlineData(TpmRh.Endorsement)]
    [InlineData(TpmRh.Platform)]
    [InlineData(TpmRh.Lockout)]
    public void HierarchyChangeAuth_EachHierarchy_OnlyTheNewValueAuthorizes(uint hierarchy)
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        client.HierarchyChangeAuth(hierarchy, "new-auth"u8);
        Assert.Equal("new-auth"u8.ToArray(), tpm.State.PermanentEntityFor(hierarchy)!.AuthValue);

        var daProtected = hierarchy == TpmRh.Lockout;
        Assert.Equal(TpmResponseCode.Session(daProtected ? TpmRc.AuthFail : TpmRc.BadAuth, 1), ErrorOf(() => client.HierarchyChangeAuth(hierarchy, [])));
        client.HierarchyChangeAuth(hierarchy, [], TpmAuthorization.Password("new-auth"u8));
        Assert.Empty(tpm.State.PermanentEntityFor(hierarchy)!.AuthValue);
    }

    [Fact]
    public void HierarchyChangeAuth_NewOwnerAuth_RequiredByCreatePrimary()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        client.HierarchyChangeAuth(TpmRh.Owner, "owner"u8);
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256())));
        _ = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256(), hierarchyAuth: TpmAuthorization.Password("owner"u8));
    }

    [Fact]
    public void HierarchyChangeAuth_TrailingZeros_AreNotSignificant()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        client.HierarchyChangeAuth(TpmRh.Owner, [1, 2, 0, 0]);
        Assert.Equal(new byte[] { 1, 2 }, tpm.State.Owner.AuthValue);
        client.HierarchyChangeAuth(TpmRh.Owner, [], TpmAuthorization.Password([1, 2, 0]));
    }

    [Fact]
    public void HierarchyChangeAuth_SixtyFourOctets_IsAccepted()
    {
        using var tpm = NewTpm();
        var auth = Enumerable.Range(1, 64).Select(i => (byte)i).ToArray();
        new Tpm2(tpm).HierarchyChangeAuth(TpmRh.Owner, auth);
        Assert.Equal(auth, tpm.State.Owner.AuthValue);
    }

    [Fact]
    public void HierarchyChangeAuth_SixtyFiveOctets_ReturnsSizeParameter1()
    {
        using var tpm = NewTpm();
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), ErrorOf(() => new Tpm2(tpm).HierarchyChangeAuth(TpmRh.Owner, new byte[65])));
        Assert.Empty(tpm.State.Owner.AuthValue);
    }

    [Theory]
    [InlineData(TpmRh.Null)]
    [InlineData(0x8000_0000u)]
    [InlineData(0x0100_0001u)]
    public void HierarchyChangeAuth_NotAHierarchy_ReturnsValueHandle1(uint handle)
    {
        using var tpm = NewTpm();
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Value, 1), Rc(tpm.Execute(Command(TpmCc.HierarchyChangeAuth, [handle], 1, w => w.WriteU16(0)))));
    }

    [Fact]
    public void HierarchyChangeAuth_WithoutAuthorization_ReturnsAuthMissing()
    {
        using var tpm = NewTpm();
        var w = new TpmWriter();
        w.WriteU16((ushort)TpmSt.NoSessions);
        w.WriteU32(16);
        w.WriteU32((uint)TpmCc.HierarchyChangeAuth);
        w.WriteU32(TpmRh.Owner);
        w.WriteU16(0);
        Assert.Equal(TpmRc.AuthMissing, Rc(tpm.Execute(w.ToArray())));
    }

    [Fact]
    public void HierarchyChangeAuth_UnboundHmacSession_ResponseIsKeyedWithTheNewValue()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        client.HierarchyChangeAuth(TpmRh.Owner, "old"u8);
        using var session = client.StartAuthSession(TpmSe.Hmac);

        // The client checks the response HMAC: it verifies only if the TPM keyed it with "new".
        client.HierarchyChangeAuth(TpmRh.Owner, "new"u8, TpmAuthorization.Session(session, "old"u8));
        client.HierarchyChangeAuth(TpmRh.Owner, "newer"u8, TpmAuthorization.Session(session, "new"u8));
        Assert.Equal("newer"u8.ToArray(), tpm.State.Owner.AuthValue);
    }

    [Fact]
    public void HierarchyChangeAuth_BoundHmacSession_ResponseExcludesTheAuthValue()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        client.HierarchyChangeAuth(TpmRh.Endorsement, "old"u8);
        using var session = client.StartAuthSession(TpmSe.Hmac, bind: TpmRh.Endorsement, bindAuth: "old"u8);
        client.HierarchyChangeAuth(TpmRh.Endorsement, "new"u8, TpmAuthorization.Session(session, "old"u8));
        Assert.Equal("new"u8.ToArray(), tpm.State.Endorsement.AuthValue);
    }

    [Fact]
    public void HierarchyChangeAuth_SessionBoundToTheHierarchy_CountsAsUnboundAfterTheChange()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        client.HierarchyChangeAuth(TpmRh.Endorsement, "old"u8);
        using var bound = client.StartAuthSession(TpmSe.Hmac, bind: TpmRh.Endorsement, bindAuth: "old"u8);
        client.HierarchyChangeAuth(TpmRh.Endorsement, "new"u8, TpmAuthorization.Session(bound));

        // Part 1 §19.6.11: the bind entity is the one with the bind Name AND the bind-time authValue;
        // from now on the HMAC key must include "new".
        Assert.False(tpm.State.Sessions[bound.Handle].IsBoundTo(tpm.State.Endorsement));
        client.HierarchyChangeAuth(TpmRh.Endorsement, "newer"u8, TpmAuthorization.Session(bound, "new"u8));
        Assert.Equal("newer"u8.ToArray(), tpm.State.Endorsement.AuthValue);
    }

    [Fact]
    public void HierarchyChangeAuth_BindEntityChangedByAnotherClient_HmacWithoutTheNewValueIsRefused()
    {
        // The engine's check alone: this client did not see the change and still leaves the
        // authValue out of the key, as for a bound session; the TPM must refuse that.
        using var tpm = NewTpm();
        tpm.State.Endorsement.AuthValue = "old"u8.ToArray();
        var client = new Tpm2(tpm);
        using var bound = client.StartAuthSession(TpmSe.Hmac, bind: TpmRh.Endorsement, bindAuth: "old"u8);
        new Tpm2(tpm).HierarchyChangeAuth(TpmRh.Endorsement, "new"u8, TpmAuthorization.Password("old"u8));

        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => client.HierarchyChangeAuth(TpmRh.Endorsement, "x"u8, TpmAuthorization.Session(bound))));

        // The bind-time value again: bound again.
        tpm.State.Endorsement.AuthValue = "old"u8.ToArray();
        client.HierarchyChangeAuth(TpmRh.Endorsement, "x"u8, TpmAuthorization.Session(bound));
        Assert.Equal("x"u8.ToArray(), tpm.State.Endorsement.AuthValue);
    }

    [Fact]
    public void HierarchyChangeAuth_PolicyAuthValueSession_ResponseIsKeyedWithTheNewValue()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        client.PolicyAuthValue(trial);
        tpm.State.Owner.AuthPolicy = client.PolicyGetDigest(trial);
        tpm.State.Owner.PolicyAlg = TpmAlgId.Sha256;
        client.HierarchyChangeAuth(TpmRh.Owner, "old"u8);

        using var policy = client.StartAuthSession(TpmSe.Policy);
        client.PolicyAuthValue(policy);
        client.HierarchyChangeAuth(TpmRh.Owner, "new"u8, TpmAuthorization.Session(policy, "old"u8));
        Assert.Equal("new"u8.ToArray(), tpm.State.Owner.AuthValue);
    }

    [Fact]
    public void HierarchyChangeAuth_StateDirectory_SurvivesAnEngineRestart()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-hierarchy-");
        try
        {
            using (var tpm = NewTpm(dir.FullName))
            {
                new Tpm2(tpm).HierarchyChangeAuth(TpmRh.Endorsement, "endorse"u8);
            }

            using var again = NewTpm(dir.FullName);
            Assert.Equal("endorse"u8.ToArray(), again.State.Endorsement.AuthValue);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    // ---- Clear ----

    [Fact]
    public void Clear_Lockout_ResetsOwnerEndorsementAndLockoutAuthAndPolicies()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        client.HierarchyChangeAuth(TpmRh.Owner, "o"u8);
        client.HierarchyChangeAuth(TpmRh.Endorsement, "e"u8);
        client.HierarchyChangeAuth(TpmRh.Platform, "p"u8);
        client.HierarchyChangeAuth(TpmRh.Lockout, "l"u8);
        tpm.State.Owner.AuthPolicy = new byte[32];
        tpm.State.Owner.PolicyAlg = TpmAlgId.Sha256;
        tpm.State.Endorsement.Enabled = false;
        var clearCount = tpm.State.ClearCount;

        client.Clear(TpmRh.Lockout, TpmAuthorization.Password("l"u8));

        var s = tpm.State;
        Assert.All(new[] { s.Owner, s.Endorsement, s.Lockout }, h =>
        {
            Assert.Empty(h.AuthValue);
            Assert.Empty(h.AuthPolicy);
            Assert.Equal(TpmAlgId.Null, h.PolicyAlg);
        });
        Assert.Equal("p"u8.ToArray(), s.Platform.AuthValue);
        Assert.True(s.Endorsement.Enabled);
        Assert.Equal(clearCount + 1, s.ClearCount);
        Assert.Equal(0u, s.ResetCount);
        Assert.Equal(0u, s.RestartCount);
    }

    [Fact]
    public void Clear_Platform_IsAllowed()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        client.HierarchyChangeAuth(TpmRh.Owner, "o"u8);
        client.Clear(TpmRh.Platform);
        Assert.Empty(tpm.State.Owner.AuthValue);
    }

    [Fact]
    public void Clear_NewStorageSeed_ChangesTheSrkButNotTheEk()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        var ek = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        client.FlushContext(srk.Handle);
        client.FlushContext(ek.Handle);

        client.Clear();

        var srkAfter = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        var ekAfter = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        Assert.NotEqual(srk.Name, srkAfter.Name);
        Assert.Equal(ek.Name, ekAfter.Name);
    }

    [Fact]
    public void Clear_FlushesOwnerAndEndorsementObjectsButKeepsPlatformAndNullObjects()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 31, AutoStartup = true, MaxTransientObjects = 4 });
        var client = new Tpm2(tpm);
        var owner = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        var endorsement = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        var platform = client.CreatePrimary(TpmRh.Platform, TpmTemplates.SrkEccP256());
        var nullKey = client.CreatePrimary(TpmRh.Null, TpmTemplates.SrkEccP256());
        client.EvictControl(TpmRh.Owner, owner.Handle, 0x8100_0001);
        client.EvictControl(TpmRh.Owner, endorsement.Handle, 0x8101_0001);
        client.EvictControl(TpmRh.Platform, platform.Handle, 0x8180_0001);

        client.Clear();

        Assert.Equal([platform.Handle, nullKey.Handle], tpm.State.TransientObjects.Keys);
        Assert.Equal([0x8180_0001u], tpm.State.PersistentObjects.Keys);
        Assert.Equal(TpmRc.ReferenceH0, ErrorOf(() => client.ReadPublic(owner.Handle)));
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Handle, 1), ErrorOf(() => client.ReadPublic(0x8100_0001)));
        Assert.Equal(platform.Name, client.ReadPublic(0x8180_0001).Name);
    }

    [Fact]
    public void Clear_DeletesOwnerNvIndicesButNotPlatformCreatedOnes()
    {
        using var tpm = NewTpm();
        AddNvIndex(tpm, 0x0150_0001, TpmaNv.OwnerWrite);
        AddNvIndex(tpm, 0x01C0_0002, TpmaNv.PlatformCreate | TpmaNv.PpWrite);
        new Tpm2(tpm).Clear();
        Assert.Equal([0x01C0_0002u], tpm.State.NvIndices.Keys);
    }

    [Fact]
    public void Clear_ResetsTheClockAndMarksItSafe()
    {
        var time = new FixedTimeProvider();
        using var tpm = NewTpm(time: time);
        time.Advance(TimeSpan.FromSeconds(50));
        tpm.State.ClockSafe = false;
        Assert.Equal(50_000ul, tpm.ClockMilliseconds);

        new Tpm2(tpm).Clear();
        Assert.Equal(0ul, tpm.ClockMilliseconds);
        Assert.True(tpm.State.ClockSafe);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2_000ul, tpm.ClockMilliseconds);
    }

    [Fact]
    public void Clear_BumpsThePcrUpdateCounter()
    {
        using var tpm = NewTpm();
        var before = tpm.State.PcrUpdateCounter;
        new Tpm2(tpm).Clear();
        Assert.Equal(before + 1, tpm.State.PcrUpdateCounter);
    }

    [Theory]
    [InlineData(TpmRh.Owner)]
    [InlineData(TpmRh.Endorsement)]
    [InlineData(TpmRh.Null)]
    public void Clear_NotLockoutOrPlatform_ReturnsValueHandle1(uint handle)
    {
        using var tpm = NewTpm();
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Value, 1), Rc(tpm.Execute(Command(TpmCc.Clear, [handle], 1, null))));
    }

    [Fact]
    public void Clear_WrongLockoutPassword_ReturnsAuthFailAndChangesNothing()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        client.HierarchyChangeAuth(TpmRh.Lockout, "l"u8);
        client.HierarchyChangeAuth(TpmRh.Owner, "o"u8);
        Assert.Equal(TpmResponseCode.Session(TpmRc.AuthFail, 1), ErrorOf(() => client.Clear(TpmRh.Lockout, TpmAuthorization.Password("x"u8))));
        Assert.Equal("o"u8.ToArray(), tpm.State.Owner.AuthValue);
    }

    [Fact]
    public void Clear_HmacSessionWithLockoutAuth_ResponseIsKeyedWithTheEmptyNewValue()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        client.HierarchyChangeAuth(TpmRh.Lockout, "lockout"u8);
        using var session = client.StartAuthSession(TpmSe.Hmac);
        client.Clear(TpmRh.Lockout, TpmAuthorization.Session(session, "lockout"u8));
        Assert.Empty(tpm.State.Lockout.AuthValue);
    }

    [Fact]
    public void Clear_StateDirectory_SurvivesAnEngineRestart()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-clear-");
        try
        {
            uint clearCount;
            using (var tpm = NewTpm(dir.FullName))
            {
                var client = new Tpm2(tpm);
                client.HierarchyChangeAuth(TpmRh.Owner, "o"u8);
                client.Clear();
                clearCount = tpm.State.ClearCount;
            }

            using var again = NewTpm(dir.FullName);
            Assert.Empty(again.State.Owner.AuthValue);
            Assert.Equal(clearCount, again.State.ClearCount);
            Assert.Equal(1u, again.State.ResetCount);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
