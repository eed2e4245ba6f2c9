using TrustStack.Tests.Shared;

namespace TrustStack.Tpm.Hardware.Tests.Interop;

/// <summary>Which TPM the IBM TSS utilities talk to.</summary>
public enum IbmTssTarget
{
    /// <summary>Our engine behind <see cref="MssimServer"/> (TPM_SERVER_TYPE=mssim, platform port for power signals).</summary>
    Engine,

    /// <summary>A real swtpm (libtpms) on its raw socket (TPM_SERVER_TYPE=raw); it is started already, no platform port.</summary>
    Swtpm,
}

/// <summary>The result of one IBM TSS utility run.</summary>
/// <param name="ExitCode">Process exit code.</param>
/// <param name="Stdout">Standard output.</param>
/// <param name="Stderr">Standard error.</param>
public sealed record TssRun(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Standard output and error together (the utilities print TPM errors on either).</summary>
    public string Output => Stdout + Stderr;
}

/// <summary>
/// Runs IBM's TSS 2.0 utilities (Debian package <c>tss2</c>, commands <c>tss*</c>) against a TPM
/// through the TSS socket interface: TPM_INTERFACE_TYPE=socsim, TPM_SERVER_NAME/TPM_COMMAND_PORT/
/// TPM_PLATFORM_PORT, TPM_SERVER_TYPE=mssim for our <see cref="MssimServer"/> and raw for swtpm.
/// Each peer has its own TPM_DATA_DIR (where the TSS keeps Names and session state, unencrypted
/// with TPM_ENCRYPT_SESSIONS=0 so that sessions survive between utility processes) and working folder.
/// </summary>
public sealed class IbmTssPeer : IDisposable
{
    private readonly SoftwareTpm? _engine;
    private readonly MssimServer? _server;
    private readonly SwtpmProcess? _swtpm;
    private readonly DirectoryInfo _directory;
    private readonly Dictionary<string, string> _environment;

    /// <summary>Starts the TPM and prepares the TSS environment.</summary>
    /// <param name="target">Engine or swtpm.</param>
    /// <param name="autoStartup">Engine only: start the TPM at power-on (else the flow runs tsspowerup and tssstartup).</param>
    public IbmTssPeer(IbmTssTarget target, bool autoStartup = true)
    {
        PeerTools.Require("tsspowerup", "tss2");
        Target = target;
        _directory = System.IO.Directory.CreateTempSubdirectory("truststack-ibmtss-");
        System.IO.Directory.CreateDirectory(DataDirectory);
        int port;
        string serverType;
        if (target == IbmTssTarget.Engine)
        {
            _engine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = autoStartup });
            _server = new MssimServer(_engine);
            _server.Start();
            port = _server.Port;
            serverType = "mssim";
        }
        else
        {
            _swtpm = new SwtpmProcess();
            port = _swtpm.Port;
            serverType = "raw";
        }

        _environment = new Dictionary<string, string>
        {
            ["TPM_INTERFACE_TYPE"] = "socsim",
            ["TPM_SERVER_TYPE"] = serverType,
            ["TPM_SERVER_NAME"] = "127.0.0.1",
            ["TPM_COMMAND_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["TPM_PLATFORM_PORT"] = (port + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["TPM_DATA_DIR"] = DataDirectory,
            ["TPM_ENCRYPT_SESSIONS"] = "0",
        };
    }

    /// <summary>The TPM behind the TSS.</summary>
    public IbmTssTarget Target { get; }

    /// <summary>Our engine (null for swtpm), for white-box checks.</summary>
    public SoftwareTpm? Engine => _engine;

    /// <summary>The working folder the utilities write their files to.</summary>
    public string Directory => _directory.FullName;

    /// <summary>TPM_DATA_DIR.</summary>
    public string DataDirectory => Path.Combine(_directory.FullName, "tssdata");

    /// <summary>Runs a utility; returns its exit code and output.</summary>
    public TssRun Run(string tool, params string[] arguments)
    {
        var (exit, stdout, stderr) = PeerTools.Run(tool, arguments, _environment, Directory);
        return new TssRun(exit, stdout, stderr);
    }

    /// <summary>Runs a utility that must succeed.</summary>
    /// <exception cref="Xunit.Sdk.XunitException">It failed; the message carries its output.</exception>
    public TssRun Ok(string tool, params string[] arguments)
    {
        var run = Run(tool, arguments);
        Assert.True(run.ExitCode == 0, $"{tool} {string.Join(' ', arguments)} against {Target} exited with {run.ExitCode}:\n{run.Output}");
        return run;
    }

    /// <summary>A file the utilities wrote (relative to the working folder).</summary>
    public byte[] File(string name) => System.IO.File.ReadAllBytes(Path.Combine(Directory, name));

    /// <summary>Writes a file for the utilities to read.</summary>
    public void WriteFile(string name, byte[] content) => System.IO.File.WriteAllBytes(Path.Combine(Directory, name), content);

    /// <summary>The Name the TSS recorded for a handle (TPM_DATA_DIR/hXXXXXXXX.bin).</summary>
    public byte[] RecordedName(uint handle) => System.IO.File.ReadAllBytes(Path.Combine(DataDirectory, $"h{handle:x8}.bin"));

    /// <summary>Stops the TPM and deletes the folders.</summary>
    public void Dispose()
    {
        _server?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _engine?.Dispose();
        _swtpm?.Dispose();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
