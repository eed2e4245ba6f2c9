namespace TrustStack.Tpm.Hardware.Tests.Engine;

/// <summary><see cref="SoftwareTpm.PersistentStateChanged"/>: the hook a host that keeps the engine's state itself (the vTPM manager) writes through.</summary>
public sealed class PersistentStateChangedTests : IDisposable
{
    private const uint Counter = 0x0150_0031;
    private readonly SoftwareTpm _engine = new(new SoftwareTpmOptions { AutoStartup = true, Seed = 5 });
    private readonly Tpm2 _client;

    public PersistentStateChangedTests()
    {
        _client = new Tpm2(_engine);
        _client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(Counter, TpmAlgId.Sha256, TpmaNv.OwnerWrite | TpmaNv.OwnerRead | TpmaNv.NoDA | TpmaNv.TypeCounter, [], 8), []);
        _client.NvIncrement(TpmRh.Owner, Counter);
    }

    public void Dispose() => _engine.Dispose();

    [Fact]
    public void PersistentStateChanged_NvIncrement_RaisedWithTheNewValueExportable()
    {
        byte[]? exported = null;
        _engine.PersistentStateChanged += (sender, _) => exported = ((SoftwareTpm)sender!).ExportState();

        _client.NvIncrement(TpmRh.Owner, Counter);

        // The handler ran before the response and saw the incremented counter in the image.
        Assert.NotNull(exported);
        using var restored = SoftwareTpm.FromState(exported, new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(_client.NvRead(TpmRh.Owner, Counter, 8), new Tpm2(restored).NvRead(TpmRh.Owner, Counter, 8));
    }

    [Fact]
    public void PersistentStateChanged_PcrExtendAndReads_NotRaised()
    {
        var raised = 0;
        _engine.PersistentStateChanged += (_, _) => raised++;

        _client.PcrExtend(16, TpmAlgId.Sha256, new byte[32]);
        _client.NvRead(TpmRh.Owner, Counter, 8);
        _client.GetRandom(8);

        Assert.Equal(0, raised);
    }

    [Fact]
    public void PersistentStateChanged_HandlerThrows_CommandAnswersFailure()
    {
        _engine.PersistentStateChanged += (_, _) => throw new IOException("disk full");

        var e = Assert.Throws<TpmException>(() => _client.NvIncrement(TpmRh.Owner, Counter));

        Assert.Equal(TpmRc.Failure, e.ResponseCode);
    }

    [Fact]
    public void PersistentStateChanged_Save_Raised()
    {
        var raised = 0;
        _engine.PersistentStateChanged += (_, _) => raised++;

        _engine.Save();

        Assert.Equal(1, raised);
    }
}
