using System.Text;

namespace TrustStack.Evidence.Collector.Tests;

/// <summary>A temporary tree shaped like /proc (plus files to measure), deleted on dispose.</summary>
internal sealed class ProcFixture : IDisposable
{
    public const string Meminfo = "MemTotal:        8000000 kB\nMemFree:         1000000 kB\nMemAvailable:    6000000 kB\nBuffers:          100000 kB\nSwapTotal:       2000000 kB\nSwapFree:        2000000 kB\nHugePages_Total:       0\n";
    public const string Stat = "cpu  100 5 50 1000 20 1 2 3 0 0\ncpu0 50 2 25 500 10 0 1 1 0 0\nintr 12345\nctxt 999\nbtime 1700000000\nprocesses 4242\nprocs_running 3\nprocs_blocked 0\n";
    public const string CpuInfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU @ 2.00GHz\n\nprocessor\t: 1\nmodel name\t: Test CPU @ 2.00GHz\n";
    public const string LoadAvg = "0.52 0.58 0.59 2/467 12345\n";

    // 127.0.0.1:22 LISTEN (inode 1001, sshd), 10.0.0.5:22 <- 10.0.0.9:51000 ESTABLISHED (inode 1002, sshd), 0.0.0.0:8080 LISTEN (inode 1003, nc), one TIME_WAIT.
    public const string Tcp =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
        "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0\n" +
        "   1: 0500000A:0016 0900000A:C738 01 00000000:00000000 02:000A7D35 00000000     0        0 1002 4 0000000000000000 20 4 30 10 -1\n" +
        "   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1003 1 0000000000000000 100 0 0 10 0\n" +
        "   3: 0100007F:D431 0100007F:0016 06 00000000:00000000 03:00000B5A 00000000     0        0 0 3 0000000000000000\n";

    // [::]:22 LISTEN (inode 2001) and [::1]:5432 -> [::1]:40000 ESTABLISHED.
    public const string Tcp6 =
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
        "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 100 0 0 10 0\n" +
        "   1: 00000000000000000000000001000000:1538 00000000000000000000000001000000:9C40 01 00000000:00000000 00:00000000 00000000   104        0 2002 1 0000000000000000 20 4 30 10 -1\n";

    // 0.0.0.0:68 unconnected (dhclient, inode 3001).
    public const string Udp =
        "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
        "  100: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3001 2 0000000000000000 0\n";

    public const string Udp6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n";

    public ProcFixture()
    {
        Root = Directory.CreateTempSubdirectory("ts-evidence-").FullName;
        Proc = Path.Combine(Root, "proc");
        Bin = Path.Combine(Root, "bin");
        Etc = Path.Combine(Root, "etc");
        Directory.CreateDirectory(Path.Combine(Proc, "net"));
        Directory.CreateDirectory(Path.Combine(Proc, "sys", "net", "ipv4"));
        Directory.CreateDirectory(Bin);
        Directory.CreateDirectory(Etc);
        Directory.CreateDirectory(Path.Combine(Root, "sbin"));
        Write("proc/meminfo", Meminfo);
        Write("proc/stat", Stat);
        Write("proc/cpuinfo", CpuInfo);
        Write("proc/loadavg", LoadAvg);
        Write("proc/net/tcp", Tcp);
        Write("proc/net/tcp6", Tcp6);
        Write("proc/net/udp", Udp);
        Write("proc/net/udp6", Udp6);
        Write("proc/sys/net/ipv4/ip_forward", "0\n");
        Write("bin/sshd", "sshd binary v1");
        Write("bin/nc", "netcat binary");
        Write("bin/dhclient", "dhclient binary");
        Write("sbin/init", "systemd binary");
        Write("etc/sshd_config", "# comment\nPermitRootLogin no\nPasswordAuthentication no\nPort 22\n");
        Write("etc/hosts", "127.0.0.1 localhost\n");
        AddProcess(1, "systemd", 0, "/sbin/init", Path.Combine(Root, "sbin", "init"), sockets: []);
        AddProcess(2, "kthreadd", 0, "", exe: null, sockets: []);
        AddProcess(100, "sshd", 1, "/usr/sbin/sshd\0-D\0", Path.Combine(Bin, "sshd"), [1001, 1002, 2001]);
        AddProcess(200, "nc", 1, "nc\0-l\0-p\08080\0", Path.Combine(Bin, "nc"), [1003]);
        AddProcess(300, "dhclient", 1, "dhclient\0eth0\0", Path.Combine(Bin, "dhclient"), [3001]);
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(file, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        }
    }

    public string Root { get; }

    public string Proc { get; }

    public string Bin { get; }

    public string Etc { get; }

    public EvidenceCollectorOptions Options() => new()
    {
        ProcRoot = Proc,
        Files = [Path.Combine(Bin, "*"), Path.Combine(Etc, "hosts")],
        PolicyFiles = [Path.Combine(Etc, "sshd_config")],
        Sysctls = ["net.ipv4.ip_forward"],
        ImaMeasurementList = Path.Combine(AppContext.BaseDirectory, "Fixtures", "ascii_runtime_measurements"),
        HashConcurrency = 2,
    };

    public void Write(string relative, string text) => File.WriteAllText(Path.Combine(Root, relative), text);

    public void AddProcess(int pid, string comm, int ppid, string cmdline, string? exe, long[] sockets)
    {
        var dir = Path.Combine(Proc, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(Path.Combine(dir, "fd"));
        File.WriteAllText(Path.Combine(dir, "stat"), $"{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 100 0 0 0 12 7 0 0 20 0 1 0 {pid * 10} 10485760 256 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n");
        File.WriteAllText(Path.Combine(dir, "status"), $"Name:\t{comm}\nState:\tS (sleeping)\nUid:\t0\t0\t0\t0\n");
        File.WriteAllBytes(Path.Combine(dir, "cmdline"), Encoding.UTF8.GetBytes(cmdline));
        File.WriteAllText(Path.Combine(dir, "comm"), comm + "\n");
        if (exe is not null)
        {
            File.CreateSymbolicLink(Path.Combine(dir, "exe"), exe);
        }

        var fd = 3;
        foreach (var inode in sockets)
        {
            File.CreateSymbolicLink(Path.Combine(dir, "fd", (fd++).ToString(System.Globalization.CultureInfo.InvariantCulture)), $"socket:[{inode}]");
        }

        File.CreateSymbolicLink(Path.Combine(dir, "fd", "0"), "/dev/null");
    }

    /// <summary>Replaces a process's exe link with one to a deleted executable, as the kernel shows it.</summary>
    public void MarkExeDeleted(int pid, string newContent)
    {
        var dir = Path.Combine(Proc, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var exe = Path.Combine(dir, "exe");
        var target = new FileInfo(exe).LinkTarget!;
        File.Delete(exe);
        // The kernel keeps the old inode open behind "<path> (deleted)"; emulate it with a file of that name.
        File.Copy(target, target + " (deleted)");
        File.CreateSymbolicLink(exe, target + " (deleted)");
        File.WriteAllText(target, newContent);
    }

    public string Scrub(string text) => text.Replace(Root, "<root>", StringComparison.Ordinal).Replace(AppContext.BaseDirectory.TrimEnd('/'), "<tests>", StringComparison.Ordinal);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
