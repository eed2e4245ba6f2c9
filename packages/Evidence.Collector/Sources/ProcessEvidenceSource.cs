using System.Globalization;
using TrustStack.Evidence.Collector.Linux;

namespace TrustStack.Evidence.Collector;

/// <summary>
/// Every process of <c>/proc/&lt;pid&gt;</c>: pid, parent, user, state, command name and line,
/// start time, CPU time, virtual and resident size, and the executable's path and SHA-256 (read
/// through <c>/proc/&lt;pid&gt;/exe</c>, which still opens a replaced or deleted executable).
/// Kernel threads and zombies have no executable. A process that exits during collection (ENOENT
/// or ESRCH) is skipped; anything else that cannot be read is recorded: <c>exe-error</c> for an
/// unreadable exe link or executable, <c>stat-error</c> (the record then has only the pid),
/// <c>status-error</c> and <c>cmdline-error</c> for the other files.
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
        var found = new List<Observed>();
        var unreadable = new List<EvidenceRecord>();
        foreach (var pid in pids)
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (Observe(root, pid))
            {
                case Observed observed:
                    found.Add(observed);
                    break;
                case EvidenceRecord error:
                    unreadable.Add(error);
                    break;
            }
        }

        // Hash each distinct executable once, in parallel; a deleted/replaced one through its own pid's exe link.
        IReadOnlyDictionary<string, FileDigest> digests = new Dictionary<string, FileDigest>();
        if (context.Options.HashProcessExecutables)
        {
            var paths = found.Where(p => p.Exe is not null).Select(p => HashPath(root, p.Stat.Pid, p.Exe!));
            digests = await context.Hasher.HashAllAsync(paths, cancellationToken).ConfigureAwait(false);
        }

        return found
            .Select(p => ToRecord(p.Stat, p.Uid, p.Cmdline, p.Exe, p.ExeError, digests.TryGetValue(p.Exe is null ? string.Empty : HashPath(root, p.Stat.Pid, p.Exe), out var d) ? d : null, p.Errors))
            .Concat(unreadable)
            .OrderBy(r => int.Parse(r["pid"]!, NumberStyles.None, CultureInfo.InvariantCulture))
            .ToArray();
    }

    /// <summary>What was read of one process.</summary>
    private sealed record Observed(ProcessStat Stat, long? Uid, string Cmdline, string? Exe, string? ExeError, IReadOnlyList<(string Field, string Error)> Errors);

    /// <summary>
    /// Reads one process: an <see cref="Observed"/>, a process record naming the file that could not
    /// be read (stat unreadable or unparsable), or null when the process exited meanwhile. Only
    /// ENOENT and ESRCH mean exited (proc(5)); EACCES, EIO and the rest are evidence.
    /// </summary>
    private object? Observe(string root, int pid)
    {
        var dir = Path.Combine(root, pid.ToString(CultureInfo.InvariantCulture));
        ProcessStat stat;
        try
        {
            stat = ProcParsers.ParseProcessStat(_fs.ReadAllText(Path.Combine(dir, "stat")));
            if (stat.Pid != pid)
            {
                return Unreadable(pid, "stat", $"it names pid {stat.Pid}");
            }
        }
        catch (Exception e) when (ProcErrors.IsFileError(e))
        {
            return ProcErrors.IsGone(e) ? null : Unreadable(pid, "stat", ProcErrors.Describe(e));
        }
        catch (FormatException e)
        {
            return Unreadable(pid, "stat", "unparsable: " + e.Message);
        }

        var errors = new List<(string, string)>();
        var gone = false;
        T? Read<T>(string file, Func<string, T> read)
        {
            try
            {
                return read(Path.Combine(dir, file));
            }
            catch (Exception e) when (ProcErrors.IsFileError(e))
            {
                gone |= ProcErrors.IsGone(e);
                errors.Add((file + "-error", ProcErrors.Describe(e)));
            }
            catch (FormatException e)
            {
                errors.Add((file + "-error", "unparsable: " + e.Message));
            }

            return default;
        }

        var uid = Read("status", path => ProcParsers.ParseStatusUid(_fs.ReadAllText(path)));
        var cmdline = Read("cmdline", path => ProcParsers.ParseCmdline(_fs.ReadAllBytes(path))) ?? "";
        if (gone)
        {
            return null;
        }

        string? exe = null;
        string? exeError = null;
        var link = _fs.ReadLink(Path.Combine(dir, "exe"));
        if (link.Errno == 0)
        {
            exe = link.Target;
        }
        else if (link.Errno is ProcLink.ENOENT or ProcLink.ESRCH && !_fs.DirectoryExists(dir))
        {
            return null;
        }
        else if (!IsKernelThread(stat) && !(stat.State == 'Z' && link.Errno == ProcLink.ENOENT))
        {
            // Kernel threads (kthreadd, pid 2, and its children: their parent cannot be chosen)
            // have no executable, whatever readlink says; a zombie's link is gone (ENOENT). Any
            // other failure is evidence: EACCES for another user's or a ptrace-protected process.
            exeError = link.ErrorDescription;
        }

        return new Observed(stat, uid, cmdline, exe, exeError, errors);
    }

    private static bool IsKernelThread(ProcessStat stat) => stat.Pid == 2 || stat.ParentPid == 2;

    private static EvidenceRecord Unreadable(int pid, string file, string error)
    {
        var p = pid.ToString(CultureInfo.InvariantCulture);
        return EvidenceRecord.Create(EvidenceRecordTypes.Process, "pid:" + p, ("pid", p), (file + "-error", error));
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

    internal static EvidenceRecord ToRecord(ProcessStat stat, long? uid, string cmdline, string? exe, string? exeError, FileDigest? digest, IReadOnlyList<(string Field, string Error)>? errors = null)
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
        else if (exeError is not null)
        {
            fields.Add(("exe-error", exeError));
        }

        foreach (var (field, error) in errors ?? [])
        {
            fields.Add((field, error));
        }

        return EvidenceRecord.Create(EvidenceRecordTypes.Process, "pid:" + I(stat.Pid), [.. fields]);
    }
}
