using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Benchmarks;

/// <summary>
/// Our engine behind its swtpm-protocol server against swtpm (libtpms), each driven by one
/// persistent raw-socket client on this machine in the same run. The Ratio column is
/// ours / swtpm per operation (swtpm is each category's baseline). Needs swtpm on PATH.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ServerVsSwtpmBenchmarks
{
    private readonly byte[] _digest = SHA256.HashData("benchmark"u8);
    private readonly byte[] _nonce = new byte[32];
    private readonly PcrSelectionList _selection = PcrSelectionList.Create(TpmAlgId.Sha256, 0, 1, 2, 3, 4, 5, 6, 7);
    private SoftwareTpm _engine = null!;
    private SwtpmSocketServer _server = null!;
    private Process _swtpm = null!;
    private string _swtpmState = null!;
    private Target _ours = null!;
    private Target _theirs = null!;

    [GlobalSetup]
    public void Setup()
    {
        _engine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        _server = new SwtpmSocketServer(_engine);
        _server.Start();
        _ours = new Target(new SwtpmSocketTransport("127.0.0.1", _server.Port));

        _swtpmState = Directory.CreateTempSubdirectory("truststack-bench-swtpm-").FullName;
        var port = FreePortPair();
        _swtpm = Process.Start(new ProcessStartInfo("swtpm", [
            "socket", "--tpm2", "--server", $"type=tcp,port={port},bindaddr=127.0.0.1",
            "--ctrl", $"type=tcp,port={port + 1},bindaddr=127.0.0.1", "--tpmstate", $"dir={_swtpmState}",
            "--flags", "not-need-init,startup-clear",
        ]) { UseShellExecute = false, RedirectStandardError = true }) ?? throw new InvalidOperationException("swtpm did not start");
        _theirs = new Target(Connect(port));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ours.Dispose();
        _theirs.Dispose();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _engine.Dispose();
        _swtpm.Kill(entireProcessTree: true);
        _swtpm.WaitForExit();
        Directory.Delete(_swtpmState, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "swtpm"), BenchmarkCategory("PCR_Extend")]
    public void PcrExtendSwtpm() => _theirs.Tpm.PcrExtend(16, TpmAlgId.Sha256, _digest);

    [Benchmark(Description = "truststack"), BenchmarkCategory("PCR_Extend")]
    public void PcrExtendOurs() => _ours.Tpm.PcrExtend(16, TpmAlgId.Sha256, _digest);

    [Benchmark(Baseline = true, Description = "swtpm"), BenchmarkCategory("Quote ECC P-256")]
    public TpmtSignature QuoteSwtpm() => _theirs.Tpm.Quote(_theirs.Ak, _nonce, _selection).Signature;

    [Benchmark(Description = "truststack"), BenchmarkCategory("Quote ECC P-256")]
    public TpmtSignature QuoteOurs() => _ours.Tpm.Quote(_ours.Ak, _nonce, _selection).Signature;

    [Benchmark(Baseline = true, Description = "swtpm"), BenchmarkCategory("Sign ECC P-256")]
    public TpmtSignature SignSwtpm() => _theirs.Tpm.Sign(_theirs.Signer, _digest);

    [Benchmark(Description = "truststack"), BenchmarkCategory("Sign ECC P-256")]
    public TpmtSignature SignOurs() => _ours.Tpm.Sign(_ours.Signer, _digest);

    [Benchmark(Baseline = true, Description = "swtpm"), BenchmarkCategory("CreatePrimary ECC P-256")]
    public void CreatePrimarySwtpm() => _theirs.CreateAndFlushPrimary();

    [Benchmark(Description = "truststack"), BenchmarkCategory("CreatePrimary ECC P-256")]
    public void CreatePrimaryOurs() => _ours.CreateAndFlushPrimary();

    internal static SwtpmSocketTransport Connect(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new SwtpmSocketTransport("127.0.0.1", port);
            }
            catch (TpmTransportException e) when (e.Failure == TpmTransportFailure.ConnectFailed && deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(50);
            }
        }
    }

    internal static int FreePortPair()
    {
        while (true)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            try
            {
                var next = new TcpListener(IPAddress.Loopback, port + 1);
                next.Start();
                next.Stop();
                return port;
            }
            catch (SocketException)
            {
            }
        }
    }

    /// <summary>One TPM with an ECC AK (quotes) and an ECC signing key, both loaded for the whole run.</summary>
    private sealed class Target : IDisposable
    {
        private readonly SwtpmSocketTransport _transport;

        public Target(SwtpmSocketTransport transport)
        {
            _transport = transport;
            Tpm = new Tpm2(transport);
            Ak = Tpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256()).Handle;
            Signer = Tpm.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256()).Handle;
        }

        public Tpm2 Tpm { get; }

        public uint Ak { get; }

        public uint Signer { get; }

        public void CreateAndFlushPrimary() => Tpm.FlushContext(Tpm.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle);

        public void Dispose()
        {
            Tpm.FlushContext(Ak);
            Tpm.FlushContext(Signer);
            _transport.Dispose();
        }
    }
}
