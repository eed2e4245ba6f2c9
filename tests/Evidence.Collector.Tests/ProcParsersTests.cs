using System.Net;
using TrustStack.Evidence.Collector.Linux;

namespace TrustStack.Evidence.Collector.Tests;

public sealed class ProcParsersTests
{
    [Fact]
    public void ParseMeminfo_Fixture_ReadsKibAndCounts()
    {
        var info = ProcParsers.ParseMeminfo(ProcFixture.Meminfo);

        Assert.Equal(8000000, info["MemTotal"]);
        Assert.Equal(6000000, info["MemAvailable"]);
        Assert.Equal(0, info["HugePages_Total"]);
    }

    [Fact]
    public void ParseMeminfo_NoColon_Throws()
    {
        Assert.Throws<FormatException>(() => ProcParsers.ParseMeminfo("MemTotal 5 kB\n"));
    }

    [Fact]
    public void ParseStat_Fixture_ReadsAggregateCpuAndCounters()
    {
        var (cpu, created, running, boot) = ProcParsers.ParseStat(ProcFixture.Stat);

        Assert.Equal(new CpuTimes(100, 5, 50, 1000, 20, 1, 2, 3), cpu);
        Assert.Equal(4242, created);
        Assert.Equal(3, running);
        Assert.Equal(1700000000, boot);
    }

    [Fact]
    public void ParseCpuInfo_Fixture_CountsProcessorsAndModel()
    {
        Assert.Equal((2, "Test CPU @ 2.00GHz"), ProcParsers.ParseCpuInfo(ProcFixture.CpuInfo));
    }

    [Fact]
    public void ParseLoadAvg_Fixture_ReadsLoadsAndThreads()
    {
        var load = ProcParsers.ParseLoadAvg(ProcFixture.LoadAvg);

        Assert.Equal(0.52, load.Load1);
        Assert.Equal(467, load.Threads);
    }

    [Fact]
    public void ParseProcessStat_CommWithSpacesAndParens_RunsToLastParen()
    {
        var text = "4242 (my (odd) proc) R 1 4242 4242 0 -1 4194560 100 0 0 0 12 7 0 0 20 0 1 0 555 10485760 256 18446744073709551615 1 1 0 0";

        var stat = ProcParsers.ParseProcessStat(text);

        Assert.Equal(new ProcessStat(4242, "my (odd) proc", 'R', 1, 12, 7, 555, 10485760, 256), stat);
    }

    [Fact]
    public void ParseProcessStat_TooFewFields_Throws()
    {
        Assert.Throws<FormatException>(() => ProcParsers.ParseProcessStat("1 (init) S 0 1"));
    }

    [Fact]
    public void ParseStatusUid_StatusText_ReadsRealUid()
    {
        Assert.Equal(1000, ProcParsers.ParseStatusUid("Name:\tbash\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\n"));
    }

    [Fact]
    public void ParseCmdline_NulSeparated_JoinsWithSpaces()
    {
        Assert.Equal("nc -l -p 8080", ProcParsers.ParseCmdline("nc\0-l\0-p\08080\0"u8));
    }

    [Theory]
    [InlineData("socket:[12345]", 12345L)]
    [InlineData("pipe:[12345]", null)]
    [InlineData("/dev/null", null)]
    public void ParseSocketInode_LinkTargets_OnlySockets(string target, long? expected)
    {
        Assert.Equal(expected, ProcParsers.ParseSocketInode(target));
    }

    [Fact]
    public void ParseNetSockets_Tcp4Fixture_DecodesLittleEndianAddressesAndStates()
    {
        var sockets = ProcParsers.ParseNetSockets(ProcFixture.Tcp, "tcp");

        Assert.Equal(4, sockets.Count);
        Assert.Equal(IPAddress.Loopback, sockets[0].LocalAddress);
        Assert.Equal(22, sockets[0].LocalPort);
        Assert.True(sockets[0].IsListening);
        Assert.Equal(IPAddress.Parse("10.0.0.9"), sockets[1].RemoteAddress);
        Assert.Equal(51000, sockets[1].RemotePort);
        Assert.Equal("ESTABLISHED", sockets[1].StateName);
        Assert.Equal(1002, sockets[1].Inode);
        Assert.Equal(1000, sockets[2].Uid);
        Assert.Equal("TIME_WAIT", sockets[3].StateName);
    }

    [Fact]
    public void ParseNetSockets_Tcp6Fixture_DecodesWordsInHostOrder()
    {
        var sockets = ProcParsers.ParseNetSockets(ProcFixture.Tcp6, "tcp6");

        Assert.Equal(IPAddress.IPv6Any, sockets[0].LocalAddress);
        Assert.Equal(IPAddress.IPv6Loopback, sockets[1].LocalAddress);
        Assert.Equal(5432, sockets[1].LocalPort);
        Assert.Equal(40000, sockets[1].RemotePort);
    }

    [Fact]
    public void ParseNetSockets_UdpUnconnected_IsListening()
    {
        var socket = Assert.Single(ProcParsers.ParseNetSockets(ProcFixture.Udp, "udp"));

        Assert.True(socket.IsListening);
        Assert.Equal("UNCONN", socket.StateName);
        Assert.Equal(68, socket.LocalPort);
    }

    [Fact]
    public void ParseNetSockets_BadEndpoint_Throws()
    {
        Assert.Throws<FormatException>(() => ProcParsers.ParseNetSockets("header\n 0: 0100007F:16 00000000:0000 0A 0:0 0:0 0 0 0 1\n", "tcp"));
    }

    [Fact]
    public void ParseMeminfo_RealProc_HasTotal() => Assert.True(ProcParsers.ParseMeminfo(File.ReadAllText("/proc/meminfo"))["MemTotal"] > 0);

    [Fact]
    public void ParseStat_RealProc_CountsTicks() => Assert.True(ProcParsers.ParseStat(File.ReadAllText("/proc/stat")).Cpu.Total > 0);

    [Fact]
    public void ParseCpuInfo_RealProc_CountsProcessors() => Assert.True(ProcParsers.ParseCpuInfo(File.ReadAllText("/proc/cpuinfo")).Processors > 0);

    [Fact]
    public void ParseLoadAvg_RealProc_CountsThreads() => Assert.True(ProcParsers.ParseLoadAvg(File.ReadAllText("/proc/loadavg")).Threads > 0);

    [Fact]
    public void ParseProcessStat_RealProcSelf_OwnPid() => Assert.Equal(Environment.ProcessId, ProcParsers.ParseProcessStat(File.ReadAllText("/proc/self/stat")).Pid);

    [Fact]
    public void ParseStatusUid_RealProcSelf_HasUid() => Assert.NotNull(ProcParsers.ParseStatusUid(File.ReadAllText("/proc/self/status")));

    [Fact]
    public void ParseCmdline_RealProcSelf_NamesDotnet() => Assert.Contains("dotnet", ProcParsers.ParseCmdline(File.ReadAllBytes("/proc/self/cmdline")), StringComparison.OrdinalIgnoreCase);

    [Theory]
    [InlineData("tcp")]
    [InlineData("tcp6")]
    [InlineData("udp")]
    [InlineData("udp6")]
    public void ParseNetSockets_RealProc_EveryLineParses(string protocol)
    {
        var path = "/proc/net/" + protocol;
        if (!File.Exists(path))
        {
            return; // no such family on this host
        }

        var text = File.ReadAllText(path);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1;
        Assert.Equal(lines, ProcParsers.ParseNetSockets(text, protocol, BitConverter.IsLittleEndian).Count);
    }
}
