using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Vmm.ShadowPaging.Tests;

public sealed class ModuleIntegrityMonitorTests : IDisposable
{
    private const int Pcr = 14;
    private static readonly byte[] s_image = [.. Enumerable.Range(0, 10_000).Select(i => unchecked((byte)(i * 31)))];

    private readonly SoftwareTpm _engine = new(new SoftwareTpmOptions { Seed = 11, AutoStartup = true });
    private readonly Tpm2 _tpm;
    private readonly Hypervisor _hv = new(new MachineMemory(64), timeProvider: new FixedClock());
    private readonly ModuleIntegrityMonitor _monitor;

    public ModuleIntegrityMonitorTests()
    {
        _tpm = new Tpm2(_engine);
        _monitor = new ModuleIntegrityMonitor(_hv, _tpm, DeterministicRandomSource.FromSeed(5), Pcr, new FixedClock());
        _monitor.Load("mmu-vtpm.ko", s_image);
    }

    public void Dispose() => _engine.Dispose();

    [Fact]
    public void Load_Image_ExtendsPcrAndLogReplaysToIt()
    {
        var pcr = _tpm.PcrReadAll(PcrSelectionList.Create(TpmAlgId.Sha256, Pcr))[(TpmAlgId.Sha256, Pcr)];
        var replayed = TcgEventLog.Parse(_monitor.EventLog()).Replay();

        Assert.Equal(TpmHash.Extend(TpmAlgId.Sha256, new byte[32], SHA256.HashData(s_image)), pcr);
        Assert.True(replayed.TryGetValue(TpmAlgId.Sha256, Pcr, out var fromLog));
        Assert.Equal(pcr, fromLog);
        Assert.Equal(3, _monitor.CodeFrames.Count);
        Assert.Equal([IntegrityEventKind.StaticMeasurement, IntegrityEventKind.BackupSealed], _monitor.Events.Select(e => e.Kind));
    }

    [Fact]
    public void Load_Twice_Throws() =>
        Assert.Throws<InvalidOperationException>(() => _monitor.Load("again", s_image));

    [Fact]
    public void Check_Unmodified_Intact()
    {
        var result = _monitor.Check();

        Assert.True(result.Intact);
        Assert.False(result.Restored);
        Assert.Equal(_monitor.ReferenceDigest.ToArray(), result.MeasuredDigest.ToArray());
        Assert.Equal(IntegrityEventKind.Verified, _monitor.Events[^1].Kind);
    }

    [Fact]
    public void Check_ModifiedModule_DetectedAndRepaired()
    {
        // Attack: code injected into the module's second code page in machine memory.
        _hv.Memory.Frame(_monitor.CodeFrames[1])[100] ^= 0xFF;

        var result = _monitor.Check();

        Assert.False(result.Intact);
        Assert.True(result.Restored);
        Assert.Equal([1], result.ModifiedPages);
        Assert.NotEqual(_monitor.ReferenceDigest.ToArray(), result.MeasuredDigest.ToArray());
        Assert.Equal([IntegrityEventKind.Alert, IntegrityEventKind.Restored], _monitor.Events.Skip(2).Select(e => e.Kind));
        Assert.Equal(s_image.AsSpan(4096, 4096).ToArray(), _hv.Memory.Frame(_monitor.CodeFrames[1]).ToArray());
        Assert.True(_monitor.Check().Intact);
    }

    [Fact]
    public void Check_ModifiedModuleAfterPcrChanged_RestoreFailsAndIsRecorded()
    {
        // The platform's PCR moved on (another measurement): the sealed backup key stays sealed.
        _tpm.PcrExtend(Pcr, TpmAlgId.Sha256, new byte[32]);
        _hv.Memory.Frame(_monitor.CodeFrames[0])[0] ^= 1;

        var result = _monitor.Check();

        Assert.False(result.IsGood);
        Assert.Equal(IntegrityEventKind.RestoreFailed, _monitor.Events[^1].Kind);
    }

    [Fact]
    public void Check_NotLoaded_Throws() =>
        Assert.Throws<InvalidOperationException>(() => new ModuleIntegrityMonitor(_hv, _tpm, SystemRandomSource.Instance).Check());
}
