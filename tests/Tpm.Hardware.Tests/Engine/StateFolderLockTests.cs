using System.Diagnostics;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class StateFolderLockTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("truststack-lock-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void SoftwareTpm_SecondEngineOnTheSameFolder_IsRefusedNamingTheHolder()
    {
        using var first = new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = _dir.FullName, Seed = 1 });
        var e = Assert.Throws<StateFolderLockedException>(() => new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = _dir.FullName, Seed = 1 }));
        Assert.Equal(Environment.ProcessId, e.HolderProcessId);
        Assert.Contains($"pid {Environment.ProcessId}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SoftwareTpm_AfterTheFirstIsDisposed_OpensTheFolder()
    {
        new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = _dir.FullName, Seed = 1 }).Dispose();
        using var second = new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = _dir.FullName, Seed = 1 });
        Assert.NotNull(second);
    }

    [Fact]
    public void Acquire_IsAnOsLockThatAnotherProcessSees()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // flock(1) from util-linux takes the same kind of lock: with ours held it must fail at once.
        using (StateFolderLock.Acquire(_dir.FullName, "test"))
        {
            Assert.Equal(1, RunFlock());
        }

        Assert.Equal(0, RunFlock());
    }

    [Fact]
    public void Acquire_CreatesTheFolderOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var path = Path.Combine(_dir.FullName, "new", "state");
        using var held = StateFolderLock.Acquire(path, "test");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(path, StateFolderLock.LockFileName)));
    }

    private int RunFlock()
    {
        using var p = Process.Start(new ProcessStartInfo("flock", ["--nonblock", "--conflict-exit-code", "1", Path.Combine(_dir.FullName, StateFolderLock.LockFileName), "true"])
        {
            RedirectStandardError = true,
        })!;
        p.WaitForExit();
        return p.ExitCode;
    }
}
