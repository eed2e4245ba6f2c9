using TrustStack.Evidence.Collector.Linux;

namespace TrustStack.Evidence.Collector.Tests;

/// <summary>
/// Issue 19, finding 8: what a real /proc does to a collector that is not root, or to one watching
/// a ptrace-protected process — unreadable exe links and /proc files — must be evidence (an error
/// field the policy sees), never a silently unmeasured or vanished process.
/// </summary>
public sealed class ProcessEvidenceFaultTests : IDisposable
{
    private readonly ProcFixture _fixture = new();
    private readonly EvidenceTpm _tpm = EvidenceTestKit.NewTpm();

    public void Dispose()
    {
        _tpm.Dispose();
        _fixture.Dispose();
    }

    [Fact]
    public async Task Collect_ExeLinkUnreadable_RecordsExeErrorPermissionDenied()
    {
        var fs = new FaultyProcFileSystem().Fail(ProcPath(200, "exe"), ProcLink.EACCES);

        var nc = (await Collect(fs)).Single(r => r["pid"] == "200");

        Assert.Equal("permission denied", nc["exe-error"]);
        Assert.Null(nc["exe"]);
        Assert.Equal("nc", nc["comm"]);
    }

    [Fact]
    public async Task Attack_HiddenExecutable_UnreadableExeLinkFailsExecutablesMustBeMeasured()
    {
        var fs = new FaultyProcFileSystem().Fail(ProcPath(200, "exe"), ProcLink.EACCES);

        var result = await Appraise(fs);

        Assert.Equal(Verdict.Untrusted, result["behavior"].Verdict);
        Assert.Contains(result["behavior"].Reasons, r => r.Contains("pid 200 (nc)", StringComparison.Ordinal) && r.Contains("permission denied", StringComparison.Ordinal));
        Assert.Equal(Verdict.Untrusted, result.Decision);
    }

    [Theory]
    [InlineData("stat")]
    [InlineData("status")]
    [InlineData("cmdline")]
    public async Task Collect_ProcFileUnreadable_RecordsTheProcessWithTheError(string file)
    {
        var fs = new FaultyProcFileSystem().Fail(ProcPath(300, file), ProcLink.EACCES);

        var records = await Collect(fs);

        var dhclient = Assert.Single(records, r => r.Subject == "pid:300");
        Assert.Equal("permission denied", dhclient[file + "-error"]);
    }

    [Fact]
    public async Task Collect_ProcFileIoError_RecordsTheErrorNotAnExit()
    {
        var fs = new FaultyProcFileSystem().Fail(ProcPath(300, "stat"), 5); // EIO

        var dhclient = Assert.Single(await Collect(fs), r => r.Subject == "pid:300");

        Assert.NotNull(dhclient["stat-error"]);
    }

    [Theory]
    [InlineData(ProcLink.ENOENT)]
    [InlineData(ProcLink.ESRCH)]
    public async Task Collect_ProcessExitedDuringCollection_IsSkipped(int errno)
    {
        var fs = new FaultyProcFileSystem().Fail(ProcPath(300, "stat"), errno);

        var records = await Collect(fs);

        Assert.DoesNotContain(records, r => r.Subject == "pid:300");
        Assert.Contains(records, r => r.Subject == "pid:200");
    }

    [Fact]
    public async Task Attack_VanishingProcess_UnreadableProcEntryFailsBehavior()
    {
        // The nc listener on 8080 hides its /proc entry: it must not disappear from the evidence.
        var fs = new FaultyProcFileSystem().Fail(ProcPath(200, "stat"), ProcLink.EACCES);

        var result = await Appraise(fs);

        Assert.Equal(Verdict.Untrusted, result["behavior"].Verdict);
        Assert.Contains(result["behavior"].Reasons, r => r.Contains("pid 200", StringComparison.Ordinal) && r.Contains("stat: permission denied", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NetworkEvidenceSource_FdDirectoryUnreadable_SocketsSayTheOwnerIsUnknown()
    {
        var fs = new FaultyProcFileSystem().Fail(ProcPath(100, "fd"), ProcLink.EACCES);

        var sockets = await new NetworkEvidenceSource(fs).CollectAsync(new EvidenceCollectionContext(_fixture.Options(), new FileHasher(1)), default);

        var ssh = sockets.Single(s => s.Subject == "tcp 127.0.0.1:22");
        Assert.Null(ssh["pid"]);
        Assert.Equal("the fd of pid 100 (permission denied) could not be read", ssh["owner-error"]);
        Assert.Equal("200", sockets.Single(s => s.Subject == "tcp 0.0.0.0:8080")["pid"]);
    }

    [Fact]
    public async Task ProcessEvidenceSource_RealHost_EveryProcessHasAnExecutableOrSaysWhyNot()
    {
        // On a real /proc some exe links are unreadable (another user's processes, or pid 1 of a
        // sandbox even for root): each such process must carry exe-error.
        var context = new EvidenceCollectionContext(new EvidenceCollectorOptions(), new FileHasher(2));

        var processes = await new ProcessEvidenceSource().CollectAsync(context, default);

        var silent = processes.Where(p => p["exe"] is null && p["exe-error"] is null && p["stat-error"] is null && p["state"] != "Z" && p["pid"] != "2" && p["ppid"] != "2").ToArray();
        Assert.True(silent.Length == 0, "processes with neither exe nor exe-error: " + string.Join(", ", silent.Select(p => $"{p["pid"]} ({p["comm"]})")));
    }

    private string ProcPath(int pid, string file) => Path.Combine(_fixture.Proc, pid.ToString(System.Globalization.CultureInfo.InvariantCulture), file);

    private Task<IReadOnlyList<EvidenceRecord>> Collect(IProcFileSystem fs) =>
        new ProcessEvidenceSource(fs).CollectAsync(new EvidenceCollectionContext(_fixture.Options(), new FileHasher(2)), default);

    private async Task<AppraisalResult> Appraise(IProcFileSystem fs)
    {
        // The golden policy of the clean fixture, applied to a round whose /proc misbehaves.
        var clean = await EvidenceTestKit.Report(_fixture, _tpm);
        var policy = EvidenceTestKit.GoldenPolicy(clean);
        IEvidenceSource[] sources = [.. EvidenceTestKit.BuiltIn().Where(s => s is not ProcessEvidenceSource), new ProcessEvidenceSource(fs)];
        var report = await EvidenceTestKit.Report(_fixture, _tpm, sources);
        return EvidenceAppraiser.Appraise(report, policy, EvidenceTestKit.Nonce);
    }
}
