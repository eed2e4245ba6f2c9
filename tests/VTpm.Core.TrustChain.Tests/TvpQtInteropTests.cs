using System.Text.RegularExpressions;
using TrustStack.Tests.Shared;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.TrustChain.Tests;

/// <summary>The trust chain against real peers: swtpm (libtpms) as the hardware TPM, tpm2_eventlog reading our platform log.</summary>
public class TvpQtInteropTests
{
    [Fact]
    public void TvpQtDemo_SwtpmAsHardwareTpm_AllTrustedAndTpm2EventlogAgrees()
    {
        using var swtpm = new SwtpmProcess();
        using var hw = new SwtpmSocketTransport("127.0.0.1", swtpm.Port);
        using var v1 = new SoftwareTpm(new SoftwareTpmOptions { Seed = 11, AutoStartup = true });
        using var v2 = new SoftwareTpm(new SoftwareTpmOptions { Seed = 12, AutoStartup = true });
        using var random = DeterministicRandomSource.FromSeed(7);

        var result = TvpQtDemo.Run(hw, [v1, v2], random);

        Assert.True(result.AllTrusted, string.Join("\n", result.Vms.SelectMany(v => v.Result.Failures)));

        // tpm2_eventlog replays the same log to the same junction PCR the hardware TPM quoted.
        PeerTools.Require("tpm2_eventlog", "tpm2-tools");
        var path = Path.Combine(swtpm.StateDirectory, "platform.log");
        File.WriteAllBytes(path, result.PlatformEventLog);
        var (code, output, error) = PeerTools.Run("tpm2_eventlog", [path]);
        Assert.True(code == 0, $"tpm2_eventlog failed ({code}): {error}");
        var quoted = result.Vms[0].Evidence.HardwareQuote.PcrValues[TpmAlgId.Sha256, 15];
        var sha256 = output[output.LastIndexOf("sha256:", StringComparison.Ordinal)..];
        var match = Regex.Match(sha256, @"\n\s*15\s*:\s*0x([0-9A-Fa-f]{64})");
        Assert.True(match.Success, output);
        Assert.Equal(Convert.ToHexString(quoted), match.Groups[1].Value.ToUpperInvariant());
    }
}
