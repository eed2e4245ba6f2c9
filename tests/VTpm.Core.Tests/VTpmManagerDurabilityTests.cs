using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.Tests;

/// <summary>Issue 19, findings 9 (lost writes), 10 (one owner per state folder) and 11 (owner-only files) for the manager.</summary>
public sealed class VTpmManagerDurabilityTests : IDisposable
{
    private const uint Counter = 0x0150_0051;
    private const uint Data = 0x0150_0052;
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerAll = OwnerReadWrite | UnixFileMode.UserExecute;
    private readonly TestPlatform _platform = new();
    private readonly string _copy = Directory.CreateTempSubdirectory("truststack-vtpm-crash-").FullName;

    public void Dispose()
    {
        _platform.Dispose();
        Directory.Delete(_copy, recursive: true);
    }

    [Fact]
    public void NvIncrementAndNvWrite_ProcessDiesWithoutStop_EveryAcknowledgedWriteIsInTheStateFile()
    {
        using var manager = _platform.Manager();
        var vm = manager.Create().VmId;
        manager.Start(vm);
        using var channel = manager.OpenChannel(vm);
        var tpm = new Tpm2(channel);
        DefineIndices(tpm);
        for (var i = 0; i < 5; i++)
        {
            tpm.NvIncrement(TpmRh.Owner, Counter);
        }

        tpm.NvWrite(TpmRh.Owner, Data, SHA256.HashData("acknowledged"u8));
        var counter = tpm.NvRead(TpmRh.Owner, Counter, 8);

        // A crash here (kill -9): what is on disk now is all a restart gets. The folder is copied
        // while the manager still runs, never stopped or disposed.
        CopyFolder(_platform.Directory, _copy);
        using var restarted = new VTpmManager(new VTpmCoreOptions { StateDirectory = _copy }, _platform.Client);
        restarted.Start(vm);
        using var after = restarted.OpenChannel(vm);
        var reopened = new Tpm2(after);
        Assert.Equal(counter, reopened.NvRead(TpmRh.Owner, Counter, 8));
        Assert.Equal(SHA256.HashData("acknowledged"u8), reopened.NvRead(TpmRh.Owner, Data, 32));
    }

    [Fact]
    public void PcrExtend_DoesNotRewriteTheStateFile()
    {
        using var manager = _platform.Manager();
        var vm = manager.Create().VmId;
        var path = manager.Start(vm).StatePath!;
        using var channel = manager.OpenChannel(vm);
        var tpm = new Tpm2(channel);
        var before = File.ReadAllBytes(path);

        for (var i = 0; i < 10; i++)
        {
            tpm.PcrExtend(16, TpmAlgId.Sha256, new byte[32]);
        }

        tpm.GetRandom(8);

        // PCRs are reset data (saved only at TPM2_Shutdown(STATE)); no state write, so no cost.
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void Constructor_SecondManagerOnTheSameFolder_RefusedNamingTheHolder()
    {
        using var first = _platform.Manager();

        var e = Assert.Throws<StateFolderLockedException>(() => _platform.Manager());

        Assert.Equal(Environment.ProcessId, e.HolderProcessId);
        Assert.Contains($"pid {Environment.ProcessId}", e.Message, StringComparison.Ordinal);
        Assert.Contains("vTPM manager", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_AfterTheFirstIsDisposed_OpensTheFolder()
    {
        _platform.Manager().Dispose();

        using var second = _platform.Manager();

        Assert.Equal(0, second.Count);
    }

    [Fact]
    public void StateFiles_AreOwnerOnly_FoldersAre0700()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using (var manager = _platform.Manager())
        {
            var vm = manager.Create().VmId;
            manager.Start(vm);
            using var channel = manager.OpenChannel(vm);
            DefineIndices(new Tpm2(channel));
            manager.Stop(vm);
        }

        var dir = _platform.Directory;
        Assert.Equal(OwnerAll, File.GetUnixFileMode(dir));
        Assert.Equal(OwnerAll, File.GetUnixFileMode(Path.Combine(dir, "vtpms")));
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToList();
        Assert.Contains(files, f => f.EndsWith(".vtpm", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("vtpm-state-key.sealed", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("index", StringComparison.Ordinal));
        foreach (var file in files)
        {
            Assert.True(File.GetUnixFileMode(file) == OwnerReadWrite, $"{file} is {File.GetUnixFileMode(file)}");
        }
    }

    [Fact]
    public void Constructor_FilesOfAnOlderVersionWith0644_NarrowedTo0600()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        Guid vm;
        using (var manager = _platform.Manager())
        {
            vm = manager.Create().VmId;
            manager.Start(vm);
        }

        var state = Path.Combine(_platform.Directory, "vtpms", vm + ".vtpm");
        var key = Path.Combine(_platform.Directory, "vtpm-state-key.sealed");
        File.SetUnixFileMode(state, OwnerReadWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(key, OwnerReadWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(_platform.Directory, OwnerAll | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        using (_platform.Manager())
        {
            Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(state));
            Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(key));
            Assert.Equal(OwnerAll, File.GetUnixFileMode(_platform.Directory));
        }
    }

    [Fact]
    public void Constructor_LeftoverTemporaryFiles_RemovedAndStateIntact()
    {
        Guid vm;
        using (var manager = _platform.Manager())
        {
            vm = manager.Create().VmId;
            manager.Start(vm);
        }

        var temp = Path.Combine(_platform.Directory, "vtpms", vm + ".vtpm.tmp");
        File.WriteAllBytes(temp, [1, 2, 3]); // a write interrupted by kill -9

        using var reopened = _platform.Manager();

        Assert.False(File.Exists(temp));
        Assert.Equal(VTpmInstanceState.Running, reopened.Start(vm).State);
    }

    [Fact]
    public void Constructor_IndexWithATornLastAppend_KeepsEveryVm()
    {
        Guid a;
        Guid b;
        using (var manager = _platform.Manager())
        {
            a = manager.Create().VmId;
            b = manager.Create().VmId;
            manager.Start(b);
        }

        // A crash in the middle of appending a third line.
        File.AppendAllText(Path.Combine(_platform.Directory, "vtpms", "index"), "5f0e1c2a-");

        using (var reopened = _platform.Manager())
        {
            Assert.Equal([a, b], reopened.List().Select(i => i.VmId));
            var c = reopened.Create().VmId;
            Assert.Equal([a, b, c], reopened.List().Select(i => i.VmId));
        }

        using var again = _platform.Manager();
        Assert.Equal(3, again.Count);
    }

    [Fact]
    public void Constructor_IndexWithADamagedLine_ErrorNamesTheFile()
    {
        using (var manager = _platform.Manager())
        {
            manager.Create();
        }

        var index = Path.Combine(_platform.Directory, "vtpms", "index");
        File.WriteAllText(index, "not-a-uuid\n" + File.ReadAllText(index));

        var e = Assert.Throws<VTpmStateException>(() => _platform.Manager());

        Assert.Equal(index, e.Path);
        Assert.Contains("line 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_WhileAChannelHammersNvIncrement_NoAcknowledgedIncrementIsLost()
    {
        using var manager = _platform.Manager();
        var vm = manager.Create().VmId;
        manager.Start(vm);
        using var channel = manager.OpenChannel(vm);
        DefineIndices(new Tpm2(channel));
        var acknowledged = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(new Tpm2(channel).NvRead(TpmRh.Owner, Counter, 8));
        var initial = acknowledged;
        var writer = Task.Run(() =>
        {
            var tpm = new Tpm2(channel);
            try
            {
                while (true)
                {
                    tpm.NvIncrement(TpmRh.Owner, Counter);
                    acknowledged++;
                }
            }
            catch (InvalidOperationException)
            {
                // Stopped: the channel refuses from here on.
            }
        });
        await Task.Delay(100);

        manager.Stop(vm);
        await writer;

        manager.Start(vm);
        var value = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(new Tpm2(channel).NvRead(TpmRh.Owner, Counter, 8));
        Assert.True(acknowledged > initial);
        Assert.Equal(acknowledged, value);
    }

    private static void DefineIndices(Tpm2 tpm)
    {
        var attributes = TpmaNv.OwnerWrite | TpmaNv.OwnerRead | TpmaNv.NoDA;
        tpm.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(Counter, TpmAlgId.Sha256, attributes | TpmaNv.TypeCounter, [], 8), []);
        tpm.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(Data, TpmAlgId.Sha256, attributes, [], 32), []);
        tpm.NvIncrement(TpmRh.Owner, Counter);
    }

    private static void CopyFolder(string from, string to)
    {
        // The lock file is held by the running manager (a dead process holds nothing).
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != StateFolderLock.LockFileName))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
