using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class ContextCommandsTests
{
    private const uint OwnerPersistent = 0x8101_0001;
    private const uint PlatformPersistent = 0x8180_0001;

    private static SoftwareTpm NewTpm(int maxObjects = 3, int maxSessions = 3, string? stateDirectory = null) =>
        EngineTestKit.NewTpm(21, maxObjects, stateDirectory, o => o.MaxLoadedSessions = maxSessions);

    private static CreatePrimaryResult Srk(Tpm2 client, uint hierarchy = TpmRh.Owner, TpmaObject extra = TpmaObject.None)
    {
        var template = TpmTemplates.SrkEccP256();
        return client.CreatePrimary(hierarchy, template with { ObjectAttributes = template.ObjectAttributes | extra });
    }

    private static TpmsContext WithBlob(TpmsContext context, Action<byte[]> change)
    {
        var blob = (byte[])context.ContextBlob.Clone();
        change(blob);
        return context with { ContextBlob = blob };
    }

    // ---- FlushContext ----

    [Fact]
    public void FlushContext_LoadedObject_FreesItsSlot()
    {
        using var tpm = NewTpm(maxObjects: 1);
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        Assert.Equal(TpmRc.ObjectMemory, ErrorOf(() => Srk(client)));
        client.FlushContext(srk.Handle);
        Assert.Empty(tpm.State.TransientObjects);
        Assert.Equal(srk.Handle, Srk(client).Handle);
    }

    [Fact]
    public void FlushContext_UnknownObject_ReturnsHandleParameter1()
    {
        using var tpm = NewTpm();
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Handle, 1), ErrorOf(() => new Tpm2(tpm).FlushContext(0x8000_0002)));
    }

    [Theory]
    [InlineData(0x8100_0001u)]
    [InlineData(0x0100_0001u)]
    [InlineData(TpmRh.Owner)]
    [InlineData(0x0000_0001u)]
    public void FlushContext_NotObjectOrSession_ReturnsValueParameter1(uint handle)
    {
        using var tpm = NewTpm();
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), ErrorOf(() => new Tpm2(tpm).FlushContext(handle)));
    }

    [Theory]
    [InlineData(0x80FF_0001u)]
    [InlineData(0x8000_0003u)]
    [InlineData(0x0200_0040u)]
    public void FlushContext_HandleBeyondTheSlots_ReturnsValueParameter1(uint handle)
    {
        // TPMI_DH_CONTEXT accepts transient and session handles only up to the slot counts (libtpms).
        using var tpm = NewTpm();
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), ErrorOf(() => new Tpm2(tpm).FlushContext(handle)));
    }

    [Fact]
    public void FlushContext_PolicyHandleOfAnHmacSessionSlot_FlushesThatSession()
    {
        // The reference finds sessions by slot: 0x03000000 names the slot of the HMAC session 0x02000000.
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var session = client.StartAuthSession(TpmSe.Hmac);
        client.FlushContext(session.Handle + 0x0100_0000);
        Assert.Empty(tpm.State.Sessions);
    }

    [Fact]
    public void FlushContext_Session_RemovesItAndClosesTheClientSession()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var session = client.StartAuthSession(TpmSe.Hmac);
        client.FlushContext(session);
        Assert.True(session.IsClosed);
        Assert.Empty(tpm.State.Sessions);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Handle, 1), ErrorOf(() => client.FlushContext(session.Handle)));
    }

    [Fact]
    public void FlushContext_SavedSession_RemovesIt()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var session = client.StartAuthSession(TpmSe.Policy);
        var saved = client.ContextSave(session.Handle);
        client.FlushContext(session.Handle);
        Assert.Empty(tpm.State.Sessions);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Handle, 1), ErrorOf(() => client.ContextLoad(saved)));
    }

    [Fact]
    public void FlushContext_WithAuthorizationArea_ReturnsAuthContext()
    {
        using var tpm = NewTpm();
        var body = new TpmWriter();
        body.WriteU32(9); // authorizationSize: one password session
        body.WriteU32(TpmRh.Password);
        body.WriteTpm2b([]);
        body.WriteU8(1);
        body.WriteTpm2b([]);
        body.WriteU32(0x8000_0000);
        Assert.Equal(TpmRc.AuthContext, Rc(tpm.Execute(RawCommand(TpmSt.Sessions, TpmCc.FlushContext, body.ToArray()))));
    }

    // ---- ContextSave / ContextLoad of objects ----

    [Fact]
    public void ContextSave_Object_StaysLoadedAndDescribesIt()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var first = client.ContextSave(srk.Handle);
        var second = client.ContextSave(srk.Handle);
        Assert.Equal(ContextCommands.SavedObject, first.SavedHandle);
        Assert.Equal(TpmRh.Owner, first.Hierarchy);
        Assert.Equal(first.Sequence + 1, second.Sequence);
        Assert.NotEqual(first.ContextBlob, second.ContextBlob);
        Assert.True(tpm.State.TransientObjects.ContainsKey(srk.Handle));
    }

    [Fact]
    public void ContextSave_StClearObject_SavedHandleIs0x80000002()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client, extra: TpmaObject.StClear);
        Assert.Equal(ContextCommands.SavedStClearObject, client.ContextSave(srk.Handle).SavedHandle);
    }

    [Fact]
    public void ContextSave_BlobDoesNotContainThePrivateKeyInTheClear()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var context = client.ContextSave(srk.Handle);
        using var sensitive = tpm.State.TransientObjects[srk.Handle].ReadSensitive();
        Assert.Equal(32, sensitive.Sensitive.Length);
        Assert.False(context.ContextBlob.AsSpan().IndexOf(sensitive.Sensitive) >= 0);
    }

    [Fact]
    public void ContextLoad_FlushedObject_ComesBackWithTheSameKey()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var engineObject = tpm.State.TransientObjects[srk.Handle];
        var qualifiedName = engineObject.QualifiedName;
        using var before = engineObject.ReadSensitive();
        var context = client.ContextSave(srk.Handle);
        client.FlushContext(srk.Handle);

        var handle = client.ContextLoad(context);
        var loaded = tpm.State.TransientObjects[handle];
        using var after = loaded.ReadSensitive();
        Assert.Equal(srk.Name, client.ReadPublic(handle).Name);
        Assert.Equal(qualifiedName, loaded.QualifiedName);
        Assert.Equal(TpmRh.Owner, loaded.Hierarchy);
        Assert.True(loaded.IsPrimary);
        Assert.Equal(before.Sensitive, after.Sensitive);
    }

    [Fact]
    public void ContextLoad_ObjectStillLoaded_LoadsASecondCopy()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var handle = client.ContextLoad(client.ContextSave(srk.Handle));
        Assert.NotEqual(srk.Handle, handle);
        Assert.Equal(srk.Name, client.ReadPublic(handle).Name);
    }

    [Fact]
    public void ContextLoad_LoadedChild_IsUsableAsParent()
    {
        using var tpm = NewTpm(maxObjects: 2);
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var context = client.ContextSave(srk.Handle);
        client.FlushContext(srk.Handle);
        var parent = client.ContextLoad(context);
        var child = client.Create(parent, TpmTemplates.SigningEccP256());
        Assert.Equal(child.Name, client.Load(parent, child.Private, child.Public).Name);
    }

    [Fact]
    public void ContextLoad_PublicOnlyExternalObject_RoundTrips()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var external = client.LoadExternal(srk.Public, hierarchy: TpmRh.Owner);
        var context = client.ContextSave(external.Handle);
        client.FlushContext(external.Handle);
        var handle = client.ContextLoad(context);
        Assert.True(tpm.State.TransientObjects[handle].IsPublicOnly);
        Assert.True(tpm.State.TransientObjects[handle].IsExternal);
        Assert.Equal(external.Name, client.ReadPublic(handle).Name);
    }

    [Fact]
    public void ContextLoad_NoFreeObjectSlot_ReturnsObjectMemory()
    {
        using var tpm = NewTpm(maxObjects: 1);
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        Assert.Equal(TpmRc.ObjectMemory, ErrorOf(() => client.ContextLoad(client.ContextSave(srk.Handle))));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(40)]
    [InlineData(-1)]
    public void ContextLoad_TamperedBlob_ReturnsIntegrityParameter1(int index)
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var context = client.ContextSave(Srk(client).Handle);
        var tampered = WithBlob(context, b => b[index < 0 ? b.Length - 1 : index] ^= 1);
        Assert.Equal(TpmResponseCode.Parameter(index == 0 ? TpmRc.Size : TpmRc.Integrity, 1), ErrorOf(() => client.ContextLoad(tampered)));
    }

    [Fact]
    public void ContextLoad_ChangedSequenceOrHierarchy_ReturnsIntegrityParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var context = client.ContextSave(Srk(client).Handle);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Integrity, 1), ErrorOf(() => client.ContextLoad(context with { Sequence = context.Sequence + 1 })));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Integrity, 1), ErrorOf(() => client.ContextLoad(context with { Hierarchy = TpmRh.Endorsement })));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Integrity, 1), ErrorOf(() => client.ContextLoad(context with { SavedHandle = ContextCommands.SavedStClearObject })));
    }

    [Fact]
    public void ContextLoad_ObjectContextRelabelledAsSession_ReturnsIntegrityParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var session = client.StartAuthSession(TpmSe.Hmac);
        var context = client.ContextSave(Srk(client, TpmRh.Null).Handle);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Integrity, 1), ErrorOf(() => client.ContextLoad(context with { SavedHandle = session.Handle })));
    }

    [Theory]
    [InlineData(0x8000_0003u, TpmRh.Owner)]
    [InlineData(0x8100_0000u, TpmRh.Owner)]
    [InlineData(0x0100_0000u, TpmRh.Owner)]
    [InlineData(ContextCommands.SavedObject, TpmRh.Lockout)]
    [InlineData(ContextCommands.SavedObject, 0x4000_0000u)]
    public void ContextLoad_NotASavedHandleOrHierarchy_ReturnsValueParameter1(uint savedHandle, uint hierarchy)
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var context = new TpmsContext(1, savedHandle, hierarchy, new byte[64]);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), ErrorOf(() => client.ContextLoad(context)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(34)]
    [InlineData(42)]
    public void ContextLoad_ShortBlob_ReturnsSizeParameter1(int length)
    {
        using var tpm = NewTpm();
        var blob = new byte[length];
        if (length >= 2)
        {
            blob[1] = 32;
        }

        var context = new TpmsContext(1, ContextCommands.SavedObject, TpmRh.Owner, blob);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), ErrorOf(() => new Tpm2(tpm).ContextLoad(context)));
    }

    [Fact]
    public void ContextLoad_AfterTpmReset_ReturnsIntegrityParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var context = client.ContextSave(Srk(client).Handle);
        tpm.PowerOff();
        tpm.PowerOn();
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Integrity, 1), ErrorOf(() => client.ContextLoad(context)));
    }

    [Fact]
    public void ContextLoad_AfterTpmRestart_LoadsOrdinaryButNotStClearObjects()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 21 });
        var client = new Tpm2(tpm);
        client.Startup();
        var ordinary = client.ContextSave(Srk(client).Handle);
        var stClear = client.ContextSave(Srk(client, extra: TpmaObject.StClear).Handle);

        client.Shutdown(TpmSu.State);
        tpm.PowerOff();
        tpm.PowerOn();
        client.Startup(TpmSu.Clear); // TPM Restart: same context key, new restart count

        Assert.Equal(ContextCommands.SavedObject, ordinary.SavedHandle);
        _ = client.ContextLoad(ordinary);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Integrity, 1), ErrorOf(() => client.ContextLoad(stClear)));
    }

    [Fact]
    public void ContextLoad_AfterTpmResume_LoadsStClearObjectsToo()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 21 });
        var client = new Tpm2(tpm);
        client.Startup();
        var stClear = client.ContextSave(Srk(client, extra: TpmaObject.StClear).Handle);

        client.Shutdown(TpmSu.State);
        tpm.PowerOff();
        tpm.PowerOn();
        client.Startup(TpmSu.State); // TPM Resume: RestartCount moves, stClear objects stay loadable

        Assert.Equal(ContextCommands.SavedStClearObject, stClear.SavedHandle);
        Assert.Equal(1u, tpm.State.RestartCount);
        Assert.Equal(TpmRh.TransientFirst, client.ContextLoad(stClear));
    }

    [Fact]
    public void ContextLoad_SavedSessionAfterTpmRestart_LoadsAndStillAuthorizes()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 21 });
        var client = new Tpm2(tpm);
        client.Startup();
        using var session = client.StartAuthSession(TpmSe.Hmac, bind: TpmRh.Endorsement);
        var context = client.ContextSave(session.Handle);

        client.Shutdown(TpmSu.State);
        tpm.PowerOff();
        tpm.PowerOn();
        client.Startup(TpmSu.Clear); // TPM Restart: saved sessions survive, loaded ones do not

        Assert.Equal(session.Handle, client.ContextLoad(context));
        using var trial = client.StartAuthSession(TpmSe.Trial);
        client.PolicySecret(trial, TpmRh.Endorsement, TpmAuthorization.Session(session));
    }

    [Fact]
    public void ContextLoad_AfterShutdownStateAndRestartFromStateFolder_LoadsObjectAndSession()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-context-");
        try
        {
            TpmsContext objectContext;
            TpmsContext sessionContext;
            uint sessionHandle;
            using (var tpm = NewTpm(stateDirectory: dir.FullName))
            {
                var client = new Tpm2(tpm);
                objectContext = client.ContextSave(Srk(client, extra: TpmaObject.StClear).Handle);
                var session = client.StartAuthSession(TpmSe.Policy);
                sessionHandle = session.Handle;
                sessionContext = client.ContextSave(session.Handle);
                client.Shutdown(TpmSu.State);
            }

            using var again = new SoftwareTpm(new SoftwareTpmOptions { Seed = 21, StateDirectory = dir.FullName });
            var fresh = new Tpm2(again);
            fresh.Startup(TpmSu.State);
            Assert.Equal(TpmRh.TransientFirst, fresh.ContextLoad(objectContext));
            Assert.Equal(sessionHandle, fresh.ContextLoad(sessionContext));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void ContextLoad_AfterClear_OwnerAndEndorsementContextsFailPlatformContextsLoad()
    {
        using var tpm = NewTpm(maxObjects: 3);
        var client = new Tpm2(tpm);
        var owner = client.ContextSave(Srk(client).Handle);
        var endorsement = client.ContextSave(Srk(client, TpmRh.Endorsement).Handle);
        var platform = client.ContextSave(Srk(client, TpmRh.Platform).Handle);
        client.Clear();
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Integrity, 1), ErrorOf(() => client.ContextLoad(owner)));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Integrity, 1), ErrorOf(() => client.ContextLoad(endorsement)));
        _ = client.ContextLoad(platform);
    }

    [Fact]
    public void ContextLoad_HierarchyDisabled_ReturnsHierarchyParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var context = client.ContextSave(Srk(client, TpmRh.Endorsement).Handle);
        tpm.State.Endorsement.Enabled = false;
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Hierarchy, 1), ErrorOf(() => client.ContextLoad(context)));
    }

    // ---- ContextSave / ContextLoad of sessions ----

    [Fact]
    public void ContextSave_Session_KeepsHandleAndMakesItUnusable()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var session = client.StartAuthSession(TpmSe.Hmac, bind: TpmRh.Owner);
        var context = client.ContextSave(session.Handle);
        Assert.Equal(session.Handle, context.SavedHandle);
        Assert.Equal(TpmRh.Null, context.Hierarchy);
        var engine = tpm.State.Sessions[session.Handle];
        Assert.True(engine.IsSaved);
        Assert.Equal(32, engine.SessionKey.Length);
        Assert.All(engine.SessionKey, b => Assert.Equal(0, b));

        Assert.Equal(TpmRc.ReferenceS0, ErrorOf(() => client.HierarchyChangeAuth(TpmRh.Owner, [], TpmAuthorization.Session(session))));
        Assert.Equal(TpmRc.ReferenceH0, ErrorOf(() => client.ContextSave(session.Handle)));
    }

    [Fact]
    public void ContextSave_PolicySession_PolicyCommandsNoLongerReachIt()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var session = client.StartAuthSession(TpmSe.Policy);
        _ = client.ContextSave(session.Handle);
        Assert.Equal(TpmRc.ReferenceH0, ErrorOf(() => client.PolicyAuthValue(session)));
    }

    [Fact]
    public void ContextLoad_BoundHmacSession_WorksAgainAtTheSameHandle()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        client.HierarchyChangeAuth(TpmRh.Owner, "owner"u8);
        using var session = client.StartAuthSession(TpmSe.Hmac, bind: TpmRh.Owner, bindAuth: "owner"u8);
        client.HierarchyChangeAuth(TpmRh.Owner, "owner"u8, TpmAuthorization.Session(session, "owner"u8));
        var context = client.ContextSave(session.Handle);

        Assert.Equal(session.Handle, client.ContextLoad(context));
        Assert.False(tpm.State.Sessions[session.Handle].IsSaved);
        client.HierarchyChangeAuth(TpmRh.Owner, "owner2"u8, TpmAuthorization.Session(session, "owner"u8));
        Assert.Equal("owner2"u8.ToArray(), tpm.State.Owner.AuthValue);
    }

    [Fact]
    public void ContextLoad_PolicySession_KeepsItsPolicyDigest()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var session = client.StartAuthSession(TpmSe.Policy);
        client.PolicyCommandCode(session, TpmCc.ActivateCredential);
        var digest = client.PolicyGetDigest(session);
        var context = client.ContextSave(session.Handle);
        client.ContextLoad(context);
        Assert.Equal(digest, client.PolicyGetDigest(session));
        Assert.Equal(TpmCc.ActivateCredential, tpm.State.Sessions[session.Handle].CommandCode);
    }

    [Fact]
    public void ContextLoad_SessionTwice_ReturnsHandleParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var session = client.StartAuthSession(TpmSe.Hmac);
        var context = client.ContextSave(session.Handle);
        client.ContextLoad(context);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Handle, 1), ErrorOf(() => client.ContextLoad(context)));
    }

    [Fact]
    public void ContextLoad_OlderSaveOfASession_ReturnsHandleParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var session = client.StartAuthSession(TpmSe.Policy);
        var old = client.ContextSave(session.Handle);
        client.ContextLoad(old);
        client.PolicyAuthValue(session);
        var latest = client.ContextSave(session.Handle);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Handle, 1), ErrorOf(() => client.ContextLoad(old)));
        client.ContextLoad(latest);
        Assert.True(tpm.State.Sessions[session.Handle].IsAuthValueNeeded);
    }

    [Fact]
    public void ContextLoad_SessionSlotsFull_ReturnsSessionMemory()
    {
        using var tpm = NewTpm(maxSessions: 1);
        var client = new Tpm2(tpm);
        using var first = client.StartAuthSession(TpmSe.Hmac);
        var context = client.ContextSave(first.Handle);
        using var second = client.StartAuthSession(TpmSe.Hmac);
        Assert.NotEqual(first.Handle, second.Handle);
        Assert.Equal(TpmRc.SessionMemory, ErrorOf(() => client.ContextLoad(context)));
        client.FlushContext(second);
        Assert.Equal(first.Handle, client.ContextLoad(context));
    }

    [Fact]
    public void ContextLoad_SessionAfterTpmReset_ReturnsIntegrityParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var session = client.StartAuthSession(TpmSe.Hmac);
        var context = client.ContextSave(session.Handle);
        tpm.PowerOff();
        tpm.PowerOn();
        using var again = client.StartAuthSession(TpmSe.Hmac);
        Assert.Equal(session.Handle, again.Handle);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Integrity, 1), ErrorOf(() => client.ContextLoad(context)));
    }

    // ---- EvictControl ----

    [Fact]
    public void EvictControl_TransientOwnerObject_PersistsACopy()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        client.EvictControl(TpmRh.Owner, srk.Handle, OwnerPersistent);
        Assert.True(tpm.State.TransientObjects.ContainsKey(srk.Handle));
        var persistent = tpm.State.PersistentObjects[OwnerPersistent];
        Assert.Equal(OwnerPersistent, persistent.Handle);
        Assert.Equal(srk.Name, client.ReadPublic(OwnerPersistent).Name);

        // The persistent copy works as a parent after the transient one is gone.
        client.FlushContext(srk.Handle);
        var child = client.Create(OwnerPersistent, TpmTemplates.SigningEccP256());
        Assert.Equal(child.Name, client.Load(OwnerPersistent, child.Private, child.Public).Name);
    }

    [Fact]
    public void EvictControl_PersistentObjectAtItsHandle_EvictsIt()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        client.EvictControl(TpmRh.Owner, Srk(client).Handle, OwnerPersistent);
        client.EvictControl(TpmRh.Owner, OwnerPersistent, OwnerPersistent);
        Assert.Empty(tpm.State.PersistentObjects);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Handle, 1), ErrorOf(() => client.ReadPublic(OwnerPersistent)));
    }

    [Fact]
    public void EvictControl_HandleInUse_ReturnsNvDefined()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        client.EvictControl(TpmRh.Owner, srk.Handle, OwnerPersistent);
        Assert.Equal(TpmRc.NvDefined, ErrorOf(() => client.EvictControl(TpmRh.Owner, srk.Handle, OwnerPersistent)));
    }

    [Fact]
    public void EvictControl_OwnerIntoPlatformRange_ReturnsRangeParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Range, 1), ErrorOf(() => client.EvictControl(TpmRh.Owner, Srk(client).Handle, PlatformPersistent)));
    }

    [Fact]
    public void EvictControl_PlatformObjectIntoOwnerRange_ReturnsRangeParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var platformKey = Srk(client, TpmRh.Platform);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Range, 1), ErrorOf(() => client.EvictControl(TpmRh.Platform, platformKey.Handle, OwnerPersistent)));
        client.EvictControl(TpmRh.Platform, platformKey.Handle, PlatformPersistent);
        Assert.Equal(TpmRh.Platform, tpm.State.PersistentObjects[PlatformPersistent].Hierarchy);
    }

    [Fact]
    public void EvictControl_WrongHierarchyAuthority_ReturnsHierarchyHandle2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ownerKey = Srk(client);
        var platformKey = Srk(client, TpmRh.Platform);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Hierarchy, 2), ErrorOf(() => client.EvictControl(TpmRh.Platform, ownerKey.Handle, PlatformPersistent)));
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Hierarchy, 2), ErrorOf(() => client.EvictControl(TpmRh.Owner, platformKey.Handle, OwnerPersistent)));

        // platformAuth may evict any persistent object, ownerAuth none of the platform's.
        client.EvictControl(TpmRh.Platform, platformKey.Handle, PlatformPersistent);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Hierarchy, 2), ErrorOf(() => client.EvictControl(TpmRh.Owner, PlatformPersistent, PlatformPersistent)));
        client.EvictControl(TpmRh.Owner, ownerKey.Handle, OwnerPersistent);
        client.EvictControl(TpmRh.Platform, OwnerPersistent, OwnerPersistent);
        Assert.False(tpm.State.PersistentObjects.ContainsKey(OwnerPersistent));
    }

    [Fact]
    public void EvictControl_TemporaryOrStClearObject_ReturnsAttributesHandle2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var nullKey = Srk(client, TpmRh.Null);
        var stClear = Srk(client, extra: TpmaObject.StClear);
        var external = client.LoadExternal(client.ReadPublic(stClear.Handle).Public, hierarchy: TpmRh.Owner);
        foreach (var handle in new[] { nullKey.Handle, stClear.Handle, external.Handle })
        {
            Assert.Equal(TpmResponseCode.Handle(TpmRc.Attributes, 2), ErrorOf(() => client.EvictControl(TpmRh.Owner, handle, OwnerPersistent)));
        }
    }

    [Fact]
    public void EvictControl_PersistentObjectAtAnotherHandle_ReturnsHandleHandle2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        client.EvictControl(TpmRh.Owner, Srk(client).Handle, OwnerPersistent);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Handle, 2), ErrorOf(() => client.EvictControl(TpmRh.Owner, OwnerPersistent, OwnerPersistent + 1)));
    }

    [Theory]
    [InlineData(0x8000_0000u)]
    [InlineData(0x0100_0000u)]
    [InlineData(TpmRh.Owner)]
    public void EvictControl_NotAPersistentHandle_ReturnsValueParameter1(uint persistentHandle)
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), ErrorOf(() => client.EvictControl(TpmRh.Owner, Srk(client).Handle, persistentHandle)));
    }

    [Fact]
    public void EvictControl_EndorsementAuthHandle_ReturnsValueHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Value, 1), ErrorOf(() => client.EvictControl(TpmRh.Endorsement, Srk(client).Handle, OwnerPersistent)));
    }

    [Fact]
    public void EvictControl_WrongOwnerPassword_ReturnsBadAuthSession1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        client.HierarchyChangeAuth(TpmRh.Owner, "owner"u8);
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => client.EvictControl(TpmRh.Owner, srk.Handle, OwnerPersistent)));
        client.EvictControl(TpmRh.Owner, srk.Handle, OwnerPersistent, TpmAuthorization.Password("owner"u8));
    }

    [Fact]
    public void EvictControl_NoSlotLeft_ReturnsNvSpace()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        for (uint i = 0; i < ContextCommands.MaxPersistentObjects; i++)
        {
            client.EvictControl(TpmRh.Owner, srk.Handle, OwnerPersistent + i);
        }

        Assert.Equal(TpmRc.NvSpace, ErrorOf(() => client.EvictControl(TpmRh.Owner, srk.Handle, 0x8100_0000)));
    }

    [Fact]
    public void EvictControl_EndorsementKey_SurvivesAnEngineRestart()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-context-");
        try
        {
            CreatePrimaryResult ek;
            using (var tpm = NewTpm(stateDirectory: dir.FullName))
            {
                var client = new Tpm2(tpm);
                ek = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
                client.EvictControl(TpmRh.Owner, ek.Handle, 0x8101_0001);
            }

            using (var again = NewTpm(stateDirectory: dir.FullName))
            {
                var client = new Tpm2(again);
                var read = client.ReadPublic(0x8101_0001);
                Assert.Equal(ek.Public.ToBytes(), read.Public.ToBytes());
                Assert.Equal(ek.Name, read.Name);
                Assert.Equal(TpmRh.Endorsement, again.State.PersistentObjects[0x8101_0001].Hierarchy);
                client.EvictControl(TpmRh.Owner, 0x8101_0001, 0x8101_0001);
            }

            using (var third = NewTpm(stateDirectory: dir.FullName))
            {
                Assert.Empty(third.State.PersistentObjects);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
