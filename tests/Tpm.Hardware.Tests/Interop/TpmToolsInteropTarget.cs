using System.Globalization;
using TrustStack.Tests.Shared;

namespace TrustStack.Tpm.Hardware.Tests.Interop;

/// <summary>
/// What a tpm2-tools flow runs against: our engine served in-process over the swtpm socket
/// protocol (<c>ours-swtpm</c>) or the mssim protocol (<c>ours-mssim</c>), or a real swtpm
/// process (<c>libtpms</c>) that shows the flow itself is right. Gives each flow its own working
/// folder and runs the real tools with <c>TPM2TOOLS_TCTI</c> pointing at the target.
/// </summary>
internal sealed class TpmToolsInteropTarget : IDisposable
{
    /// <summary>Our engine over the swtpm socket TCTI.</summary>
    public const string OursSwtpm = "ours-swtpm";

    /// <summary>Our engine over the mssim TCTI.</summary>
    public const string OursMssim = "ours-mssim";

    /// <summary>A real swtpm (libtpms), to check the flow itself.</summary>
    public const string Libtpms = "libtpms";

    private readonly TpmTcpServer? _server;
    private readonly SwtpmProcess? _swtpm;
    private readonly DirectoryInfo _directory;

    public TpmToolsInteropTarget(string kind)
    {
        PeerTools.Require("tpm2_getrandom", "tpm2-tools");
        Kind = kind;
        _directory = System.IO.Directory.CreateTempSubdirectory("truststack-tpm2tools-");
        switch (kind)
        {
            case OursSwtpm or OursMssim:
                Engine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
                _server = kind == OursSwtpm ? new SwtpmSocketServer(Engine) : new MssimServer(Engine);
                _server.Start();
                Tcti = string.Create(CultureInfo.InvariantCulture, $"{(kind == OursSwtpm ? "swtpm" : "mssim")}:host=127.0.0.1,port={_server.Port}");
                break;
            case Libtpms:
                _swtpm = new SwtpmProcess();
                Tcti = _swtpm.Tcti;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown target");
        }
    }

    public string Kind { get; }

    /// <summary>Our engine (null for libtpms).</summary>
    public SoftwareTpm? Engine { get; }

    /// <summary>The TPM2TOOLS_TCTI value.</summary>
    public string Tcti { get; }

    /// <summary>The flow's working folder.</summary>
    public string Directory => _directory.FullName;

    /// <summary>Full path of a file in the working folder.</summary>
    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>
    /// Runs a tool that must succeed, then flushes transient objects as a user without a resource
    /// manager must (the TPM has three slots); returns its standard output.
    /// </summary>
    public string Step(string tool, params string[] args)
    {
        var (exitCode, stdout, stderr) = Run(tool, args);
        Assert.True(exitCode == 0, $"[{Kind}] {tool} {string.Join(' ', args)} exited {exitCode}:\n{stderr}\n{stdout}");
        FlushTransients();
        return stdout;
    }

    /// <summary>Runs a tool that must fail; returns its standard error.</summary>
    public string FailingStep(string tool, params string[] args)
    {
        var (exitCode, stdout, stderr) = Run(tool, args);
        Assert.True(exitCode != 0, $"[{Kind}] {tool} {string.Join(' ', args)} should have failed:\n{stdout}");
        FlushTransients();
        return stderr;
    }

    /// <summary>Runs a tool (tpm2-tools or openssl) in the working folder.</summary>
    public (int ExitCode, string Stdout, string Stderr) Run(string tool, params string[] args) =>
        PeerTools.Run(tool, args, new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = Tcti, ["TSS2_LOG"] = "all+none" }, Directory);

    /// <summary>Runs openssl, which must succeed.</summary>
    public string OpenSsl(params string[] args)
    {
        var (exitCode, stdout, stderr) = PeerTools.Run("openssl", args, null, Directory);
        Assert.True(exitCode == 0, $"[{Kind}] openssl {string.Join(' ', args)} exited {exitCode}:\n{stderr}\n{stdout}");
        return stdout + stderr;
    }

    public void Dispose()
    {
        try
        {
            _server?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Engine?.Dispose();
            _swtpm?.Dispose();
        }
        finally
        {
            _directory.Delete(recursive: true);
        }
    }

    private void FlushTransients()
    {
        var (exitCode, _, stderr) = Run("tpm2_flushcontext", "-t");
        Assert.True(exitCode == 0, $"[{Kind}] tpm2_flushcontext -t exited {exitCode}: {stderr}");
    }
}
