using System.Security.Cryptography;
using System.Text;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector.Tests;

/// <summary>The built-in sources on a fixture tree shaped like /proc, and once each on the real host.</summary>
public sealed class EvidenceSourcesTests : IDisposable
{
    private readonly ProcFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task MemoryEvidenceSource_Fixture_TotalsAndUsedPercent()
    {
        var record = Assert.Single(await Collect(new MemoryEvidenceSource()));

        Assert.Equal("8000000", record["total-kib"]);
        Assert.Equal("25", record["used-percent"]);
    }

    [Fact]
    public async Task CpuEvidenceSource_Fixture_TicksAndLoad()
    {
        var record = Assert.Single(await Collect(new CpuEvidenceSource()));

        Assert.Equal("2", record["processors"]);
        Assert.Equal("0.52", record["load1"]);
        Assert.Equal("105", record["user-ticks"]);
    }

    [Fact]
    public async Task ProcessEvidenceSource_Fixture_PidsWithExecutableDigests()
    {
        var records = await Collect(new ProcessEvidenceSource());

        Assert.Equal(["pid:1", "pid:2", "pid:100", "pid:200", "pid:300"], records.Select(r => r.Subject));
        var sshd = records.Single(r => r["comm"] == "sshd");
        Assert.Equal(Path.Combine(_fixture.Bin, "sshd"), sshd["exe"]);
        Assert.Equal(Sha256Hex("sshd binary v1"), sshd["exe-sha256"]);
        Assert.Equal("/usr/sbin/sshd -D", sshd["cmdline"]);
        Assert.Equal("1", sshd["ppid"]);
        Assert.Equal("256", sshd["rss-pages"]);
        Assert.Null(records.Single(r => r["pid"] == "2")["exe"]);
    }

    [Fact]
    public async Task ProcessEvidenceSource_ExecutableReplacedAfterStart_MarkedDeletedAndOldContentHashed()
    {
        _fixture.MarkExeDeleted(100, "trojaned sshd");

        var sshd = (await Collect(new ProcessEvidenceSource())).Single(r => r["comm"] == "sshd");

        Assert.Equal("true", sshd["exe-deleted"]);
        Assert.Equal(Path.Combine(_fixture.Bin, "sshd"), sshd["exe"]);
        Assert.Equal(Sha256Hex("sshd binary v1"), sshd["exe-sha256"]);
    }

    [Fact]
    public async Task NetworkEvidenceSource_Fixture_ListeningAndConnectedWithOwners()
    {
        var records = await Collect(new NetworkEvidenceSource());

        Assert.Equal(6, records.Count); // TIME_WAIT skipped
        var nc = records.Single(r => r["local-port"] == "8080");
        Assert.Equal(("true", "200", "nc", "0.0.0.0:8080"), (nc["listening"], nc["pid"], nc["process"], nc["local"]));
        var connected = records.Single(r => r["inode"] == "1002");
        Assert.Equal(("false", "10.0.0.9:51000", "sshd"), (connected["listening"], connected["remote"], connected["process"]));
        Assert.Contains(records, r => r.Subject == "tcp6 [::]:22" && r["pid"] == "100");
        Assert.Contains(records, r => r.Subject == "udp 0.0.0.0:68" && r["process"] == "dhclient");
    }

    [Fact]
    public async Task FileEvidenceSource_GlobAndMissingFile_DigestsAndNotFound()
    {
        var options = _fixture.Options();
        options.Files = [Path.Combine(_fixture.Bin, "*"), Path.Combine(_fixture.Etc, "missing.conf")];

        var records = await new FileEvidenceSource().CollectAsync(new EvidenceCollectionContext(options, new FileHasher(2)), default);

        Assert.Equal(4, records.Count);
        var sshd = records.Single(r => r.Subject.EndsWith("/sshd", StringComparison.Ordinal));
        Assert.Equal(Sha256Hex("sshd binary v1"), sshd["sha256"]);
        Assert.Equal("14", sshd["size"]);
        Assert.Equal("1767225600", sshd["mtime"]);
        Assert.Equal("not found", records.Single(r => r.Subject.EndsWith("missing.conf", StringComparison.Ordinal))["error"]);
    }

    [Fact]
    public async Task PolicyDataEvidenceSource_Fixture_SettingsAndSysctl()
    {
        var records = await Collect(new PolicyDataEvidenceSource());

        var sshd = records.Single(r => r.Subject.EndsWith("sshd_config", StringComparison.Ordinal));
        Assert.Equal("no", sshd["value.permitrootlogin"]);
        Assert.NotNull(sshd["sha256"]);
        Assert.Equal("0", records.Single(r => r.Subject == "sysctl:net.ipv4.ip_forward")["value"]);
    }

    [Fact]
    public async Task ImaEvidenceSource_AsciiKernelFixture_OneRecordPerEntry()
    {
        var records = await Collect(new ImaEvidenceSource());

        Assert.Equal(6, records.Count);
        Assert.Equal(("ima-ng", "sha256", "efdd249edec97caf9328a4a01baa99b7d660d1afc2e118b69137081c9b689954"), (records[1]["template"], records[1]["digest-algorithm"], records[1]["digest"]));
        Assert.Equal("/usr/bin/bash", records[1].Subject);
        Assert.Equal("/usr/lib/x86_64-linux-gnu/libc.so.6", records[2].Subject);
        Assert.Null(records[2]["signature"]);
        Assert.Equal("030204aabbccdd00473045022100", records[3]["signature"]);
        Assert.Equal("true", records[4]["violation"]);
        Assert.Equal(("ima", "sha1"), (records[5]["template"], records[5]["digest-algorithm"]));
    }

    [Fact]
    public async Task ImaEvidenceSource_BinaryList_SameRecordsAsAscii()
    {
        var writer = new ImaLogWriter()
            .AddImaNg("boot_aggregate", "sha1", new byte[20])
            .AddImaSig("/usr/bin/bash", "sha256", SHA256.HashData("bash"u8), [3, 2, 4])
            .AddIma("/etc/ld.so.cache", SHA1.HashData("cache"u8));
        var ascii = Path.Combine(_fixture.Root, "ascii");
        var binary = Path.Combine(_fixture.Root, "binary");
        await File.WriteAllTextAsync(ascii, writer.ToAscii());
        await File.WriteAllBytesAsync(binary, writer.ToBinary());

        var fromAscii = await CollectIma(ascii);
        var fromBinary = await CollectIma(binary);

        Assert.Equal(3, fromBinary.Count);
        Assert.Equal(fromAscii, fromBinary);
        Assert.Equal("030204", fromBinary[1]["signature"]);
    }

    [Fact]
    public async Task ImaEvidenceSource_MissingList_ReportsUnavailable()
    {
        var records = await CollectIma(Path.Combine(_fixture.Root, "no-such-list"));

        Assert.Equal("unavailable", Assert.Single(records)["status"]);
    }

    [Fact]
    public async Task BuiltInSources_RealHost_CollectSomething()
    {
        var options = new EvidenceCollectorOptions { Files = ["/etc/hostname", "/etc/passwd"], Sysctls = ["kernel.ostype"], PolicyFiles = ["/etc/passwd"] };
        var context = new EvidenceCollectionContext(options, new FileHasher(2));

        Assert.True((await new MemoryEvidenceSource().CollectAsync(context, default))[0].GetInt64("total-kib") > 0);
        Assert.True((await new CpuEvidenceSource().CollectAsync(context, default))[0].GetInt64("processors") > 0);
        var processes = await new ProcessEvidenceSource().CollectAsync(context, default);
        var self = processes.Single(p => p["pid"] == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.NotNull(self["exe-sha256"]);
        _ = await new NetworkEvidenceSource().CollectAsync(context, default);
        Assert.NotNull((await new FileEvidenceSource().CollectAsync(context, default)).Single(r => r.Subject == "/etc/passwd")["sha256"]);
        Assert.Equal("Linux", (await new PolicyDataEvidenceSource().CollectAsync(context, default)).Single(r => r.Subject == "sysctl:kernel.ostype")["value"]);
        Assert.NotEmpty(await new ImaEvidenceSource().CollectAsync(context, default));
    }

    private async Task<IReadOnlyList<EvidenceRecord>> CollectIma(string path)
    {
        var options = _fixture.Options();
        options.ImaMeasurementList = path;
        return await new ImaEvidenceSource().CollectAsync(new EvidenceCollectionContext(options, new FileHasher(1)), default);
    }

    private Task<IReadOnlyList<EvidenceRecord>> Collect(IEvidenceSource source) =>
        source.CollectAsync(new EvidenceCollectionContext(_fixture.Options(), new FileHasher(2)), default);

    internal static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
