using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.Tests;

public sealed class VTpmManagerTests : IDisposable
{
    private readonly TestPlatform _platform = new();

    public void Dispose() => _platform.Dispose();

    private static byte[] ReadPcr(ITpmTransport channel, int pcr) =>
        new Tpm2(channel).PcrReadAll(PcrSelectionList.Create(TpmAlgId.Sha256, pcr))[(TpmAlgId.Sha256, pcr)];

    [Fact]
    public void Lifecycle_CreateStartSuspendResumeStopDestroy_ChangesStateAndList()
    {
        using var manager = _platform.Manager();
        var a = manager.Create();
        var b = manager.Create();
        Assert.Equal(VTpmInstanceState.Stopped, a.State);
        Assert.Null(a.EkName);
        Assert.Equal([a.VmId, b.VmId], manager.List().Select(i => i.VmId));

        var started = manager.Start(a.VmId);
        Assert.Equal(VTpmInstanceState.Running, started.State);
        Assert.NotNull(started.EkName);
        Assert.True(File.Exists(started.StatePath));

        Assert.Equal(VTpmInstanceState.Suspended, manager.Suspend(a.VmId).State);
        Assert.Equal(VTpmInstanceState.Running, manager.Resume(a.VmId).State);
        Assert.Equal(VTpmInstanceState.Stopped, manager.Stop(a.VmId).State);
        Assert.Equal(VTpmInstanceState.Running, manager.Start(a.VmId).State);

        manager.Destroy(a.VmId);
        Assert.False(File.Exists(started.StatePath));
        Assert.Equal([b.VmId], manager.List().Select(i => i.VmId));
        Assert.Throws<KeyNotFoundException>(() => manager.Inspect(a.VmId));
    }

    [Fact]
    public void Create_SameVmTwice_Throws()
    {
        using var manager = _platform.Manager();
        var vm = Guid.NewGuid();
        manager.Create(vm);

        Assert.Throws<InvalidOperationException>(() => manager.Create(vm));
    }

    [Fact]
    public void Transitions_FromWrongState_ThrowNamingTheState()
    {
        using var manager = _platform.Manager();
        var vm = manager.Create().VmId;

        Assert.Contains("stopped", Assert.Throws<InvalidOperationException>(() => manager.Suspend(vm)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => manager.Resume(vm));
        Assert.Throws<InvalidOperationException>(() => manager.Stop(vm));
        manager.Start(vm);
        Assert.Throws<InvalidOperationException>(() => manager.Start(vm));
        Assert.Throws<InvalidOperationException>(() => manager.Resume(vm));
    }

    [Fact]
    public void OpenChannel_SuspendResume_RefusesWhileSuspendedAndKeepsPcrs()
    {
        using var manager = _platform.Manager();
        var vm = manager.Create().VmId;
        using var channel = manager.OpenChannel(vm);
        Assert.Throws<InvalidOperationException>(() => new Tpm2(channel).GetRandom(8));

        manager.Start(vm);
        new Tpm2(channel).PcrExtend(10, TpmAlgId.Sha256, new byte[32]);
        var extended = ReadPcr(channel, 10);
        manager.Suspend(vm);
        Assert.Contains("suspended", Assert.Throws<InvalidOperationException>(() => new Tpm2(channel).GetRandom(8)).Message, StringComparison.Ordinal);

        manager.Resume(vm);
        Assert.Equal(extended, ReadPcr(channel, 10));
    }

    [Fact]
    public void Restart_NewManager_KeepsVmsInOrderAndTheirState()
    {
        Guid a, b;
        byte[] ekName;
        using (var manager = _platform.Manager())
        {
            a = manager.Create().VmId;
            b = manager.Create().VmId;
            ekName = manager.Start(a).EkName!;
            using var channel = manager.OpenChannel(a);
            var client = new Tpm2(channel);
            var primary = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
            client.EvictControl(TpmRh.Owner, primary.Handle, 0x81000001);
        }

        using var again = _platform.Manager();
        Assert.Equal([a, b], again.List().Select(i => i.VmId));
        Assert.All(again.List(), i => Assert.Equal(VTpmInstanceState.Stopped, i.State));
        Assert.Equal(ekName, again.Start(a).EkName);
        using var reopened = again.OpenChannel(a);
        Assert.Equal(TpmTemplates.SrkEccP256().Type, new Tpm2(reopened).ReadPublic(0x81000001).Public.Type);
    }

    [Fact]
    public void Start_VirtualizationLayerChanged_ThrowsNamingThePcrAndOpensNothing()
    {
        Guid vm;
        using (var manager = _platform.Manager())
        {
            vm = manager.Create().VmId;
            manager.Start(vm);
        }

        _platform.ChangeLayer(4);
        using var changed = _platform.Manager();
        var e = Assert.Throws<VirtualizationLayerChangedException>(() => changed.Start(vm));

        Assert.Equal([(TpmAlgId.Sha256, 4)], e.ChangedPcrs);
        Assert.Contains("virtualization layer changed", e.Message, StringComparison.Ordinal);
        Assert.Contains("sha256:4", e.Message, StringComparison.Ordinal);
        Assert.Equal(TpmRc.PolicyFail, Assert.IsType<TpmException>(e.InnerException).BaseCode);
        Assert.Equal(VTpmInstanceState.Stopped, changed.Inspect(vm).State);
        Assert.Throws<VirtualizationLayerChangedException>(() => changed.Create());
        Assert.Single(changed.List());
    }

    [Fact]
    public void Start_LayerPcrOutsideTheSelection_StillOpens()
    {
        Guid vm;
        using (var manager = _platform.Manager())
        {
            vm = manager.Create().VmId;
        }

        _platform.ChangeLayer(16);
        using var again = _platform.Manager();
        Assert.Equal(VTpmInstanceState.Running, again.Start(vm).State);
    }

    [Fact]
    public void Start_TamperedStateFile_ThrowsNamingTheFile()
    {
        Guid vm;
        string path;
        using (var manager = _platform.Manager())
        {
            vm = manager.Create().VmId;
            path = manager.Start(vm).StatePath!;
        }

        var bytes = File.ReadAllBytes(path);
        bytes[^40] ^= 0x01;
        File.WriteAllBytes(path, bytes);
        using var again = _platform.Manager();
        var e = Assert.Throws<VTpmStateException>(() => again.Start(vm));

        Assert.Equal(path, e.Path);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("authentication failed", e.Message, StringComparison.Ordinal);
        Assert.Equal(VTpmInstanceState.Stopped, again.Inspect(vm).State);
    }

    [Fact]
    public void Start_StateFileOfAnotherVm_ThrowsBelongsToOtherVm()
    {
        Guid a, b;
        string pathA, pathB;
        using (var manager = _platform.Manager())
        {
            a = manager.Create().VmId;
            b = manager.Create().VmId;
            pathA = manager.Start(a).StatePath!;
            pathB = manager.Start(b).StatePath!;
        }

        File.Copy(pathA, pathB, overwrite: true);
        using var again = _platform.Manager();
        var e = Assert.Throws<VTpmStateException>(() => again.Start(b));

        Assert.Equal(pathB, e.Path);
        Assert.Contains($"belongs to VM {a}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_TamperedSealedKey_ThrowsNamingTheKeyFile()
    {
        Guid vm;
        using (var manager = _platform.Manager())
        {
            vm = manager.Create().VmId;
        }

        var keyFile = Path.Combine(_platform.Directory, "vtpm-state-key.sealed");
        var bytes = File.ReadAllBytes(keyFile);
        bytes[^10] ^= 0x01;
        File.WriteAllBytes(keyFile, bytes);
        using var again = _platform.Manager();

        var e = Assert.ThrowsAny<Exception>(() => again.Start(vm));
        Assert.True(e is VTpmStateException { Path: var p } && p == keyFile, e.ToString());
    }

    [Fact]
    public void Instances_AreIsolated_DifferentEkAndSeparatePcrs()
    {
        using var manager = _platform.Manager();
        var a = manager.Create().VmId;
        var b = manager.Create().VmId;
        var ekA = manager.Start(a).EkName!;
        var ekB = manager.Start(b).EkName!;
        using var channelA = manager.OpenChannel(a);
        using var channelB = manager.OpenChannel(b);

        new Tpm2(channelA).PcrExtend(16, TpmAlgId.Sha256, SHA256.HashData("guest a"u8));

        Assert.NotEqual(ekA, ekB);
        Assert.NotEqual(ReadPcr(channelA, 16), ReadPcr(channelB, 16));
        Assert.Equal(new byte[32], ReadPcr(channelB, 16));
    }

    [Fact]
    public void Start_CallsObserversBeforeServingWithTheLaunch()
    {
        ITpmTransport? channel = null;
        var observer = new RecordingObserver(_ =>
        {
            try
            {
                new Tpm2(channel!).GetRandom(8);
                return "served";
            }
            catch (InvalidOperationException e)
            {
                return e.Message;
            }
        });
        using var manager = _platform.Manager([observer]);
        var vm = manager.Create().VmId;
        channel = manager.OpenChannel(vm);

        var started = manager.Start(vm);

        var launch = Assert.Single(observer.Launches);
        Assert.Equal(vm, launch.VmId);
        Assert.Equal(VTpmManager.CodeDigest.ToArray(), launch.CodeDigest);
        Assert.Equal(started.EkName, launch.EkName);
        Assert.Equal(started.EkPublicDigest, launch.EkPublicDigest);
        Assert.Contains("serves no commands", Assert.Single(observer.Probes), StringComparison.Ordinal);
        // The vEK in the launch is the key the guest derives with the standard EK template.
        var guestEk = new Tpm2(channel).CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        Assert.Equal(launch.EkName, guestEk.Name);
        Assert.Equal(SHA256.HashData(guestEk.Public.ToBytes()), launch.EkPublicDigest);
    }

    [Fact]
    public void Start_ObserverThrows_LaunchRejectedAndInstanceStopped()
    {
        using var manager = _platform.Manager([new RecordingObserver(), new VetoObserver()]);
        var vm = manager.Create().VmId;
        using var channel = manager.OpenChannel(vm);

        var e = Assert.Throws<VTpmLaunchRejectedException>(() => manager.Start(vm));

        Assert.Equal(vm, e.VmId);
        Assert.Contains(nameof(VetoObserver), e.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(e.InnerException);
        Assert.Equal(VTpmInstanceState.Stopped, manager.Inspect(vm).State);
        Assert.Throws<InvalidOperationException>(() => new Tpm2(channel).GetRandom(8));
        Assert.Throws<InvalidOperationException>(() => manager.Serve(vm));
    }

    [Fact]
    public void Start_VetoedThenAllowed_KeepsTheSameVek()
    {
        var vm = Guid.NewGuid();
        using (var vetoing = _platform.Manager([new VetoObserver()]))
        {
            vetoing.Create(vm);
            Assert.Throws<VTpmLaunchRejectedException>(() => vetoing.Start(vm));
        }

        var observer = new RecordingObserver();
        using var manager = _platform.Manager([observer]);
        manager.Start(vm);
        using var channel = manager.OpenChannel(vm);
        Assert.Equal(new Tpm2(channel).CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256()).Name, observer.Launches[0].EkName);
    }

    [Fact]
    public void Start_EngineSecretsGoThroughTheSecretStore()
    {
        var store = new CountingSecretStore();
        using var manager = _platform.Manager(store: store);
        var vm = manager.Create().VmId;

        manager.Start(vm);

        Assert.Contains("EPS", store.Purposes);
        Assert.Contains("SPS", store.Purposes);
    }

    [Fact]
    public void InMemoryManager_NeedsNoHardwareTpmAndSurvivesStopStart()
    {
        using var manager = new VTpmManager(new VTpmCoreOptions());
        var vm = manager.Create().VmId;
        var ek = manager.Start(vm).EkName;
        manager.Stop(vm);

        var again = manager.Start(vm);
        Assert.Equal(ek, again.EkName);
        Assert.Null(again.StatePath);
    }

    [Fact]
    public void Constructor_StateFolderWithoutHardwareTpm_Throws()
    {
        Assert.Throws<ArgumentException>(() => new VTpmManager(_platform.Options()));
    }

    [Fact]
    public void Deterministic_SameSeedSameVm_SameVek()
    {
        var vm = Guid.Parse("6a2f41a2-1b2c-4d5e-8f90-123456789abc");
        byte[] Ek()
        {
            using var manager = new VTpmManager(new VTpmCoreOptions { Seed = 42 });
            manager.Create(vm);
            return manager.Start(vm).EkName!;
        }

        Assert.Equal(Ek(), Ek());
    }

    [Fact]
    public async Task Serve_SuspendResume_ClosesAndReopensThePort()
    {
        await using var manager = _platform.Manager();
        var vm = manager.Create().VmId;
        manager.Start(vm);
        var port = manager.Serve(vm).Port!.Value;
        using (var transport = new SwtpmSocketTransport("127.0.0.1", port))
        {
            Assert.Equal(8, new Tpm2(transport).GetRandom(8).Length);
        }

        Assert.Equal(port, manager.Suspend(vm).Port);
        Assert.Throws<TpmTransportException>(() => new SwtpmSocketTransport("127.0.0.1", port).Execute([]));
        Assert.Equal(port, manager.Resume(vm).Port);
        using var resumed = new SwtpmSocketTransport("127.0.0.1", port);
        Assert.Equal(8, new Tpm2(resumed).GetRandom(8).Length);
    }

    [Fact]
    public void LockForMigration_ServesNothingSurvivesRestartAndUnlocks()
    {
        Guid vm;
        using (var manager = _platform.Manager())
        {
            vm = manager.Create().VmId;
            manager.Start(vm);
            using var channel = manager.OpenChannel(vm);
            var (image, live) = manager.LockForMigration(vm);
            Assert.True(live);
            Assert.NotEmpty(image);
            Assert.Equal(VTpmInstanceState.Migrating, manager.Inspect(vm).State);
            Assert.Throws<InvalidOperationException>(() => new Tpm2(channel).GetRandom(8));
            Assert.Contains("migrating", Assert.Throws<InvalidOperationException>(() => manager.Stop(vm)).Message, StringComparison.Ordinal);
        }

        using var again = _platform.Manager();
        Assert.Equal(VTpmInstanceState.Migrating, again.Inspect(vm).State);
        Assert.Throws<InvalidOperationException>(() => again.Start(vm));
        again.UnlockMigration(vm);
        Assert.Equal(VTpmInstanceState.Running, again.Start(vm).State);
    }

    [Fact]
    public void StoreIncoming_IsInactiveUntilActivated_ThenListedAndRunning()
    {
        byte[] image;
        Guid vm;
        using (var source = new VTpmManager(new VTpmCoreOptions()))
        {
            vm = source.Create().VmId;
            source.Start(vm);
            (image, _) = source.LockForMigration(vm);
        }

        using (var manager = _platform.Manager())
        {
            manager.StoreIncoming(vm, image, live: true);
            Assert.Equal(VTpmInstanceState.Incoming, manager.Inspect(vm).State);
            Assert.DoesNotContain(manager.List(), i => i.VmId == vm);
            Assert.Throws<InvalidOperationException>(() => manager.Start(vm));
        }

        using var again = _platform.Manager();
        Assert.Equal(VTpmInstanceState.Incoming, again.Inspect(vm).State);
        Assert.Equal(VTpmInstanceState.Running, again.ActivateIncoming(vm).State);
        Assert.Contains(again.List(), i => i.VmId == vm);
    }
}
