using TrustStack.Tests.Shared;

namespace TrustStack.VTpm.Core.Tests;

/// <summary>A guest's stock TPM software (tpm2-tools) against a served vTPM.</summary>
public sealed class VTpmInteropTests : IDisposable
{
    private readonly TestPlatform _platform = new();
    private readonly string _work = Directory.CreateTempSubdirectory("truststack-vtpm-tools-").FullName;

    public void Dispose()
    {
        _platform.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private string Tool(int port, string tool, params string[] args)
    {
        var path = PeerTools.Require(tool, "tpm2-tools");
        var (code, stdout, stderr) = PeerTools.Run(path, args, new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = $"swtpm:host=127.0.0.1,port={port}" }, _work);
        Assert.True(code == 0, $"{tool} {string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }

    [Fact]
    public async Task Tpm2Tools_CreateEkAkQuoteCheckQuote_OnTwoServedVTpms()
    {
        await using var manager = _platform.Manager();
        var a = manager.Create().VmId;
        var b = manager.Create().VmId;
        var ekA = manager.Start(a).EkName!;
        manager.Start(b);
        var port = manager.Serve(a).Port!.Value;
        var otherPort = manager.Serve(b).Port!.Value;

        Tool(port, "tpm2_createek", "-c", "ek.ctx", "-G", "ecc", "-u", "ek.pub");
        Tool(port, "tpm2_flushcontext", "-t");
        Tool(port, "tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "ecc", "-g", "sha256", "-s", "ecdsa", "-u", "ak.pub", "-n", "ak.name");
        Tool(port, "tpm2_flushcontext", "-t");
        Tool(port, "tpm2_pcrextend", $"16:sha256={new string('d', 64)}");
        Tool(port, "tpm2_quote", "-c", "ak.ctx", "-l", "sha256:0,16", "-q", "a1b2c3d4", "-m", "quote.msg", "-s", "quote.sig", "-o", "pcrs.bin", "-g", "sha256");
        Tool(port, "tpm2_flushcontext", "-t");
        var check = PeerTools.Run(PeerTools.Require("tpm2_checkquote", "tpm2-tools"), ["-u", "ak.pub", "-m", "quote.msg", "-s", "quote.sig", "-f", "pcrs.bin", "-g", "sha256", "-q", "a1b2c3d4"], workingDirectory: _work);
        Assert.True(check.ExitCode == 0, check.Stderr);

        // The guest's EK is the vEK the manager measured at launch.
        var ekName = Tool(port, "tpm2_readpublic", "-c", "ek.ctx");
        Assert.Contains(Convert.ToHexStringLower(ekA), ekName, StringComparison.Ordinal);

        // The other VM's vTPM has its own PCRs.
        var pcrs = Tool(otherPort, "tpm2_pcrread", "sha256:16");
        Assert.Contains("0x0000000000000000000000000000000000000000000000000000000000000000", pcrs, StringComparison.Ordinal);
    }
}
