using System.Globalization;
using TrustStack.Evidence.Collector.Linux;

namespace TrustStack.Evidence.Collector;

/// <summary>
/// Every process of <c>/proc/&lt;pid&gt;</c>: pid, parent, user, state, command name and line,
/// start time, CPU time, virtual and resident size, and the executable's path and SHA-256 (read
/// through <c>/proc/&lt;pid&gt;/exe</c>, which still opens a replaced or deleted executable).
/// Kernel threads have no executable. A process that exits during collection is skipped.
/// </summary>
public sealed class ProcessEvidenceSource : IEvidenceSource
{
    /// <summary>What the kernel appends to an exe link whose file was deleted or replaced.</summary>
    internal const string DeletedSuffix = " (deleted)";

    private readonly IProcFileSystem _fs;

    /// <summary>Creates the source over the real file system.</summary>
    public ProcessEvidenceSource()
        : this(ProcFileSystem.Instance)
    {
    }

    /// <summary>Creates the source over <paramref name="fs"/> (tests inject /proc failures).</summary>
    internal ProcessEvidenceSource(IProcFileSystem fs) => _fs = fs;

    /// <inheritdoc />
    public string Name => "processes";

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvidenceRecord>> CollectAsync(EvidenceCollectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var root = context.Options.ProcRoot;
        var pids = Pids(_fs, root);
        var found = new List<(ProcessStat Stat, long? Uid, string Cmdline, string? Exe, string? ExeError)>();
        foreach (var pid in pids)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var dir = Path.Combine(root, pid.ToString(CultureInfo.InvariantCulture));
            try
            {
                var stat = ProcParsers.ParseProcessStat(_fs.ReadAllText(Path.Combine(dir, "stat")));
                long? uid = null;
                try
                {
                    uid = ProcParsers.ParseStatusUid(_fs.ReadAllText(Path.Combine(dir, "status")));
                }
                catch (IOException)
                {
                }

                var cmdline = ProcParsers.ParseCmdline(ReadOrEmpty(Path.Combine(dir, "cmdline")));
                string? exe = _fs.ReadLink(Path.Combine(dir, "exe")).Target;
                string? exeError = null;

                found.Add((stat, uid, cmdline, exe, exeError));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process exited between listing and reading.
            }
        }

        // Hash each distinct executable once, in parallel; a deleted/replaced one through its own pid's exe link.
        IReadOnlyDictionary<string, FileDigest> digests = new Dictionary<string, FileDigest>();
        if (context.Options.HashProcessExecutables)
        {
            var paths = found.Where(p => p.Exe is not null).Select(p => HashPath(root, p.Stat.Pid, p.Exe!));
            digests = await context.Hasher.HashAllAsync(paths, cancellationToken).ConfigureAwait(false);
        }

        return found.Select(p => ToRecord(p.Stat, p.Uid, p.Cmdline, p.Exe, p.ExeError, digests.TryGetValue(p.Exe is null ? string.Empty : HashPath(root, p.Stat.Pid, p.Exe), out var d) ? d : null)).ToArray();
    }

    internal static IEnumerable<int> Pids(string procRoot) => Pids(ProcFileSystem.Instance, procRoot);

    internal static IEnumerable<int> Pids(IProcFileSystem fs, string procRoot) =>
        fs.EnumerateDirectories(procRoot)
            .Select(Path.GetFileName)
            .Select(n => int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : -1)
            .Where(pid => pid > 0)
            .Order();

    // An executable that still exists is hashed by its path (shared by all its processes); a
    // deleted one only through /proc/<pid>/exe.
    private static string HashPath(string root, int pid, string exe) =>
        exe.EndsWith(DeletedSuffix, StringComparison.Ordinal) || !Path.IsPathRooted(exe) || !File.Exists(exe)
            ? Path.Combine(root, pid.ToString(CultureInfo.InvariantCulture), "exe")
            : exe;

    internal static EvidenceRecord ToRecord(ProcessStat stat, long? uid, string cmdline, string? exe, string? exeError, FileDigest? digest)
    {
        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        var fields = new List<(string, string)>
        {
            ("pid", I(stat.Pid)),
            ("ppid", I(stat.ParentPid)),
            ("comm", stat.Comm),
            ("state", stat.State.ToString()),
            ("cmdline", cmdline.Length > 4096 ? cmdline[..4096] : cmdline),
            ("utime-ticks", I(stat.UserTicks)),
            ("stime-ticks", I(stat.SystemTicks)),
            ("start-ticks", I(stat.StartTicks)),
            ("vsize-bytes", I(stat.VirtualBytes)),
            ("rss-pages", I(stat.ResidentPages)),
        };
        if (uid is { } u)
        {
            fields.Add(("uid", I(u)));
        }

        if (exe is not null)
        {
            var deleted = exe.EndsWith(DeletedSuffix, StringComparison.Ordinal);
            fields.Add(("exe", deleted ? exe[..^DeletedSuffix.Length] : exe));
            if (deleted)
            {
                fields.Add(("exe-deleted", "true"));
            }

            if (digest?.Sha256Hex is { } hex)
            {
                fields.Add(("exe-sha256", hex));
            }
            else if (digest?.Error is { } error)
            {
                fields.Add(("exe-error", error));
            }
        }
        else if (exeError is not null && stat.ParentPid != 2 && stat.Pid != 2)
        {
            // Kernel threads (children of kthreadd, pid 2) have no exe link; anything else unreadable is reported.
            fields.Add(("exe-error", exeError));
        }

        return EvidenceRecord.Create(EvidenceRecordTypes.Process, "pid:" + I(stat.Pid), [.. fields]);
    }

    private byte[] ReadOrEmpty(string path)
    {
        try
        {
            return _fs.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
