using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;

namespace TrustStack.Evidence.Collector.Linux;

/// <summary>CPU time counters of the aggregate "cpu" line of <c>/proc/stat</c>, in clock ticks.</summary>
internal sealed record CpuTimes(long User, long Nice, long System, long Idle, long IoWait, long Irq, long SoftIrq, long Steal)
{
    public long Total => User + Nice + System + Idle + IoWait + Irq + SoftIrq + Steal;
}

/// <summary>The fields of <c>/proc/&lt;pid&gt;/stat</c> the collector keeps (proc(5)).</summary>
internal sealed record ProcessStat(int Pid, string Comm, char State, int ParentPid, long UserTicks, long SystemTicks, long StartTicks, long VirtualBytes, long ResidentPages);

/// <summary>One line of <c>/proc/net/{tcp,tcp6,udp,udp6}</c>.</summary>
internal sealed record NetSocket(string Protocol, IPAddress LocalAddress, int LocalPort, IPAddress RemoteAddress, int RemotePort, int State, long Uid, long Inode)
{
    /// <summary>TCP LISTEN, or an unconnected bound UDP socket (state 07 CLOSE, no remote port).</summary>
    public bool IsListening => Protocol.StartsWith("tcp", StringComparison.Ordinal) ? State == 0x0A : RemotePort == 0;

    public string StateName => Protocol.StartsWith("udp", StringComparison.Ordinal)
        ? (RemotePort == 0 ? "UNCONN" : "ESTABLISHED")
        : State switch
        {
            0x01 => "ESTABLISHED",
            0x02 => "SYN_SENT",
            0x03 => "SYN_RECV",
            0x04 => "FIN_WAIT1",
            0x05 => "FIN_WAIT2",
            0x06 => "TIME_WAIT",
            0x07 => "CLOSE",
            0x08 => "CLOSE_WAIT",
            0x09 => "LAST_ACK",
            0x0A => "LISTEN",
            0x0B => "CLOSING",
            _ => $"0x{State:X2}",
        };

    public static string Endpoint(IPAddress address, int port) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
}

/// <summary>
/// Pure parsers of the Linux <c>/proc</c> text formats (proc(5)); each takes the file's text and
/// throws <see cref="FormatException"/> on text it cannot read.
/// </summary>
internal static class ProcParsers
{
    /// <summary><c>/proc/meminfo</c>: "Name:   value kB" lines → name → value (kB, or a plain count).</summary>
    public static IReadOnlyDictionary<string, long> ParseMeminfo(string text)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in Lines(text))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new FormatException($"meminfo line '{line}' has no colon");
            }

            var rest = line[(colon + 1)..].Trim();
            var space = rest.IndexOf(' ', StringComparison.Ordinal);
            var number = space < 0 ? rest : rest[..space];
            values[line[..colon].Trim()] = ParseLong(number, "meminfo value");
        }

        return values;
    }

    /// <summary>The aggregate "cpu" line and the "processes"/"procs_running" counters of <c>/proc/stat</c>.</summary>
    public static (CpuTimes Cpu, long ProcessesCreated, long Running, long BootTime) ParseStat(string text)
    {
        CpuTimes? cpu = null;
        long created = 0, running = 0, btime = 0;
        foreach (var line in Lines(text))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (parts[0])
            {
                case "cpu":
                {
                    var n = parts.Skip(1).Select(p => ParseLong(p, "cpu counter")).Concat(Enumerable.Repeat(0L, 8)).ToArray();
                    cpu = new CpuTimes(n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]);
                    break;
                }

                case "processes" when parts.Length > 1:
                    created = ParseLong(parts[1], "processes");
                    break;
                case "procs_running" when parts.Length > 1:
                    running = ParseLong(parts[1], "procs_running");
                    break;
                case "btime" when parts.Length > 1:
                    btime = ParseLong(parts[1], "btime");
                    break;
            }
        }

        return (cpu ?? throw new FormatException("/proc/stat has no aggregate cpu line"), created, running, btime);
    }

    /// <summary><c>/proc/cpuinfo</c>: the number of "processor" entries and the first model name.</summary>
    public static (int Processors, string Model) ParseCpuInfo(string text)
    {
        var processors = 0;
        string? model = null;
        foreach (var line in Lines(text))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var key = line[..colon].Trim();
            if (key == "processor")
            {
                processors++;
            }
            else if (model is null && key is "model name" or "Model" or "cpu model")
            {
                model = line[(colon + 1)..].Trim();
            }
        }

        return (processors, model ?? "unknown");
    }

    /// <summary><c>/proc/loadavg</c>: "0.52 0.58 0.59 1/467 12345".</summary>
    public static (double Load1, double Load5, double Load15, int Runnable, int Threads) ParseLoadAvg(string text)
    {
        var parts = text.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 4 || parts[3].IndexOf('/', StringComparison.Ordinal) is var slash && slash <= 0)
        {
            throw new FormatException($"loadavg '{text.Trim()}' is not 'l1 l5 l15 r/t pid'");
        }

        static double D(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw new FormatException($"load '{s}' is not a number");
        return (D(parts[0]), D(parts[1]), D(parts[2]), (int)ParseLong(parts[3][..slash], "runnable"), (int)ParseLong(parts[3][(slash + 1)..], "threads"));
    }

    /// <summary>
    /// <c>/proc/&lt;pid&gt;/stat</c>. The command name is in parentheses and may itself hold spaces
    /// and parentheses, so it runs to the LAST ')' (proc(5)).
    /// </summary>
    public static ProcessStat ParseProcessStat(string text)
    {
        var open = text.IndexOf('(', StringComparison.Ordinal);
        var close = text.LastIndexOf(')');
        if (open <= 0 || close < open)
        {
            throw new FormatException("stat has no (comm)");
        }

        var pid = (int)ParseLong(text[..open].Trim(), "pid");
        var comm = text[(open + 1)..close];
        var f = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        // f[0] is field 3 (state): field n is f[n - 3].
        if (f.Length < 22)
        {
            throw new FormatException($"stat of pid {pid} has {f.Length + 2} fields, fewer than 24");
        }

        return new ProcessStat(
            pid,
            comm,
            f[0].Length == 1 ? f[0][0] : throw new FormatException($"state '{f[0]}' is not one character"),
            (int)ParseLong(f[1], "ppid"),
            ParseLong(f[11], "utime"),
            ParseLong(f[12], "stime"),
            ParseLong(f[19], "starttime"),
            ParseLong(f[20], "vsize"),
            ParseLong(f[21], "rss"));
    }

    /// <summary>The real UID from the "Uid:" line of <c>/proc/&lt;pid&gt;/status</c>, or null.</summary>
    public static long? ParseStatusUid(string text)
    {
        foreach (var line in Lines(text))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                var parts = line[4..].Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
                return parts.Length > 0 ? ParseLong(parts[0], "uid") : null;
            }
        }

        return null;
    }

    /// <summary><c>/proc/&lt;pid&gt;/cmdline</c>: NUL-separated arguments joined with spaces.</summary>
    public static string ParseCmdline(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 0 && bytes[^1] == 0)
        {
            bytes = bytes[..^1];
        }

        var text = Encoding.UTF8.GetString(bytes);
        return text.Replace('\0', ' ');
    }

    /// <summary>"socket:[12345]" (an fd link of a socket) → 12345, anything else → null.</summary>
    public static long? ParseSocketInode(string? linkTarget) =>
        linkTarget is not null && linkTarget.StartsWith("socket:[", StringComparison.Ordinal) && linkTarget.EndsWith(']')
        && long.TryParse(linkTarget.AsSpan(8, linkTarget.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out var inode) ? inode : null;

    /// <summary>
    /// <c>/proc/net/tcp</c>, <c>tcp6</c>, <c>udp</c>, <c>udp6</c> (header line skipped): "sl
    /// local rem st tx:rx tr:when retrnsmt uid timeout inode ...". Addresses are the kernel's
    /// 32-bit words printed with %08X in host byte order; ports are %04X.
    /// </summary>
    public static IReadOnlyList<NetSocket> ParseNetSockets(string text, string protocol, bool littleEndianHost = true)
    {
        var sockets = new List<NetSocket>();
        var first = true;
        foreach (var line in Lines(text))
        {
            if (first)
            {
                first = false;
                if (line.TrimStart().StartsWith("sl", StringComparison.Ordinal))
                {
                    continue;
                }
            }

            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 10)
            {
                throw new FormatException($"{protocol} line '{line.Trim()}' has fewer than 10 fields");
            }

            var (local, localPort) = ParseEndpoint(f[1], littleEndianHost);
            var (remote, remotePort) = ParseEndpoint(f[2], littleEndianHost);
            sockets.Add(new NetSocket(
                protocol,
                local,
                localPort,
                remote,
                remotePort,
                (int)ParseHex(f[3], "state"),
                ParseLong(f[7], "uid"),
                ParseLong(f[9], "inode")));
        }

        return sockets;
    }

    private static (IPAddress Address, int Port) ParseEndpoint(string text, bool littleEndianHost)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon is not (8 or 32) || text.Length != colon + 5)
        {
            throw new FormatException($"endpoint '{text}' is not ADDR:PORT in hex");
        }

        var bytes = new byte[colon / 2];
        for (var word = 0; word < bytes.Length / 4; word++)
        {
            var value = (uint)ParseHex(text.Substring(word * 8, 8), "address");
            var span = bytes.AsSpan(word * 4, 4);
            if (littleEndianHost)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(span, value);
            }
            else
            {
                BinaryPrimitives.WriteUInt32BigEndian(span, value);
            }
        }

        return (new IPAddress(bytes), (int)ParseHex(text[(colon + 1)..], "port"));
    }

    private static long ParseHex(string text, string what) =>
        long.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"{what} '{text}' is not hex");

    private static long ParseLong(string text, string what) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"{what} '{text}' is not a number");

    private static IEnumerable<string> Lines(string text) =>
        text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0);
}
