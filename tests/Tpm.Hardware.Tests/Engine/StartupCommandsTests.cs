using System.Security.Cryptography;
using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

/// <summary>TPM2_Startup / TPM2_Shutdown: TPM Reset, Restart and Resume (Part 1 §12.2.3), in process and through the state folder.</summary>
public sealed class StartupCommandsTests
{
    private static readonly PcrSelectionList AllSha256 = PcrSelectionList.Create(TpmAlgId.Sha256, [.. Enumerable.Range(0, 24)]);

    /// <summary>A started engine that leaves TPM2_Startup to the test after a power cycle.</summary>
    private static SoftwareTpm ManualStartTpm(string? stateDirectory = null)
    {
        var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 61, StateDirectory = stateDirectory });
        new Tpm2(tpm).Startup();
        return tpm;
    }

    /// <summary>Extends PCRs 0, 15, 16, 23 (locality 0) and 17 (locality 4, as a DRTM launch would).</summary>
    private static void ExtendSome(SoftwareTpm tpm)
    {
        var client = new Tpm2(tpm);
        foreach (var pcr in new uint[] { 0, 15, 16, 23 })
        {
            client.PcrExtend(pcr, TpmAlgId.Sha256, SHA256.HashData([(byte)pcr]));
        }

        tpm.Locality = 4;
        client.PcrExtend(17, TpmAlgId.Sha256, SHA256.HashData([17]));
        tpm.Locality = 0;
    }

    private static IReadOnlyDictionary<(TpmAlgId Bank, int Pcr), byte[]> Pcrs(SoftwareTpm tpm) => new Tpm2(tpm).PcrReadAll(AllSha256);

    private static byte[] StartupValue(int pcr) => Enumerable.Repeat(pcr is >= 17 and <= 22 ? (byte)0xFF : (byte)0, 32).ToArray();

    [Fact]
    public void Startup_ResumeAfterPowerCycle_RestoresPcrs0To15AndResets16To23()
    {
        using var tpm = ManualStartTpm();
        ExtendSome(tpm);
        var before = Pcrs(tpm);
        var client = new Tpm2(tpm);

        client.Shutdown(TpmSu.State);
        tpm.PowerOff();
        tpm.PowerOn();
        client.Startup(TpmSu.State);

        var after = Pcrs(tpm);
        for (var pcr = 0; pcr < 24; pcr++)
        {
            Assert.Equal(pcr < 16 ? before[(TpmAlgId.Sha256, pcr)] : StartupValue(pcr), after[(TpmAlgId.Sha256, pcr)]);
        }

        Assert.NotEqual(StartupValue(0), after[(TpmAlgId.Sha256, 0)]);
    }

    [Fact]
    public void Startup_ResumeFromStateFolder_SameAsInProcessPowerCycle()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-resume-");
        try
        {
            using var inProcess = ManualStartTpm();
            IReadOnlyDictionary<(TpmAlgId Bank, int Pcr), byte[]> fromFolder;
            using (var first = ManualStartTpm(dir.FullName))
            {
                ExtendSome(first);
                new Tpm2(first).Shutdown(TpmSu.State);
            }

            using (var again = new SoftwareTpm(new SoftwareTpmOptions { Seed = 61, StateDirectory = dir.FullName }))
            {
                new Tpm2(again).Startup(TpmSu.State);
                fromFolder = Pcrs(again);
                Assert.Equal(1u, again.State.RestartCount);
            }

            ExtendSome(inProcess);
            new Tpm2(inProcess).Shutdown(TpmSu.State);
            inProcess.PowerOff();
            inProcess.PowerOn();
            new Tpm2(inProcess).Startup(TpmSu.State);

            Assert.Equal(fromFolder, Pcrs(inProcess));
            Assert.Equal(1u, inProcess.State.RestartCount);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Startup_RestartAfterShutdownState_ResetsPcrsAndStateClearData()
    {
        using var tpm = ManualStartTpm();
        ExtendSome(tpm);
        var client = new Tpm2(tpm);
        client.HierarchyChangeAuth(TpmRh.Platform, "platform"u8);
        tpm.State.Owner.Enabled = false;
        var resets = tpm.State.ResetCount;

        client.Shutdown(TpmSu.State);
        tpm.PowerOff();
        tpm.PowerOn();
        client.Startup(TpmSu.Clear);

        var after = Pcrs(tpm);
        Assert.All(Enumerable.Range(0, 24), pcr => Assert.Equal(StartupValue(pcr), after[(TpmAlgId.Sha256, pcr)]));
        Assert.Empty(tpm.State.Platform.AuthValue);
        Assert.True(tpm.State.Owner.Enabled);
        Assert.Equal(resets, tpm.State.ResetCount);
        Assert.Equal(1u, tpm.State.RestartCount);
    }

    [Fact]
    public void PcrExtend_StateSavedPcrAfterShutdownState_CancelsTheOrderlyShutdown()
    {
        using var tpm = ManualStartTpm();
        var client = new Tpm2(tpm);
        client.Shutdown(TpmSu.State);
        client.PcrExtend(3, TpmAlgId.Sha256, new byte[32]);
        tpm.PowerOff();
        tpm.PowerOn();

        Assert.Equal(P(TpmRc.Value, 1), ErrorOf(() => client.Startup(TpmSu.State)));
        var resets = tpm.State.ResetCount;
        client.Startup(TpmSu.Clear);
        Assert.Equal(resets + 1, tpm.State.ResetCount);
    }

    [Fact]
    public void PcrExtend_DebugPcrAfterShutdownState_KeepsTheOrderlyShutdown()
    {
        using var tpm = ManualStartTpm();
        var client = new Tpm2(tpm);
        client.Shutdown(TpmSu.State);
        client.PcrExtend(16, TpmAlgId.Sha256, new byte[32]);
        tpm.PowerOff();
        tpm.PowerOn();

        client.Startup(TpmSu.State);
        Assert.Equal(StartupValue(16), Pcrs(tpm)[(TpmAlgId.Sha256, 16)]);
    }

    [Fact]
    public void PowerOff_WithoutShutdown_NextStartupIsAResetAndClockUnsafe()
    {
        using var tpm = ManualStartTpm();
        ExtendSome(tpm);
        var client = new Tpm2(tpm);
        tpm.PowerOff();
        tpm.PowerOn();

        Assert.Equal(P(TpmRc.Value, 1), ErrorOf(() => client.Startup(TpmSu.State)));
        client.Startup(TpmSu.Clear);
        Assert.Equal(StartupValue(0), Pcrs(tpm)[(TpmAlgId.Sha256, 0)]);
        Assert.False(tpm.State.ClockSafe);
    }
}
