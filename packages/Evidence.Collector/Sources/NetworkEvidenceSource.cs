using System.Globalization;
using TrustStack.Evidence.Collector.Linux;

namespace TrustStack.Evidence.Collector;

/// <summary>
/// TCP and UDP sockets, v4 and v6, listening and connected (<c>/proc/net/tcp</c>, <c>tcp6</c>,
/// <c>udp</c>, <c>udp6</c>), each with its owning process found through the socket inodes of
/// <c>/proc/&lt;pid&gt;/fd</c>. TIME_WAIT sockets (no owner) are skipped. When some processes' fd
/// directories cannot be read (not root), a socket whose owner was not found says so in
/// <c>owner-error</c> instead of looking ownerless.
/// </summary>
public sealed class NetworkEvidenceSource : IEvidenceSource
{
    private const int MaxNamedPids = 8;
    private static readonly string[] Protocols = ["tcp", "tcp6", "udp", "udp6"];
    private readonly IProcFileSystem _fs;

    /// <summary>Creates the source over the real file system.</summary>
    public NetworkEvidenceSource()
        : this(ProcFileSystem.Instance)
    {
    }

    /// <summary>Creates the source over <paramref name="fs"/> (tests inject /proc failures).</summary>
    internal NetworkEvidenceSource(IProcFileSystem fs) => _fs = fs;

    /// <inheritdoc />
    public string Name => "network";

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvidenceRecord>> CollectAsync(EvidenceCollectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var root = context.Options.ProcRoot;
        var sockets = new List<NetSocket>();
        foreach (var protocol in Protocols)
        {
            var path = Path.Combine(root, "net", protocol);
            if (!File.Exists(path))
            {
                continue; // no IPv6, for example
            }

            var text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
            sockets.AddRange(ProcParsers.ParseNetSockets(text, protocol, BitConverter.IsLittleEndian));
        }

        var owners = SocketOwners(_fs, root, out var unreadable);
        return ToRecords(sockets, owners, unreadable);
    }

    internal static IReadOnlyList<EvidenceRecord> ToRecords(IEnumerable<NetSocket> sockets, IReadOnlyDictionary<long, (int Pid, string Comm)> owners, IReadOnlyList<(int Pid, string Error)>? unreadable = null)
    {
        var ownerError = unreadable is { Count: > 0 }
            ? $"the fd of {(unreadable.Count == 1 ? "pid" : "pids")} {string.Join(", ", unreadable.Take(MaxNamedPids).Select(u => $"{u.Pid} ({u.Error})"))}{(unreadable.Count > MaxNamedPids ? $" and {unreadable.Count - MaxNamedPids} more" : "")} could not be read"
            : null;
        var records = new List<EvidenceRecord>();
        foreach (var s in sockets)
        {
            if (s.Protocol.StartsWith("tcp", StringComparison.Ordinal) && s.State == 0x06)
            {
                continue;
            }

            var local = NetSocket.Endpoint(s.LocalAddress, s.LocalPort);
            var fields = new List<(string, string)>
            {
                ("protocol", s.Protocol),
                ("local", local),
                ("local-port", s.LocalPort.ToString(CultureInfo.InvariantCulture)),
                ("state", s.StateName),
                ("listening", s.IsListening ? "true" : "false"),
                ("uid", s.Uid.ToString(CultureInfo.InvariantCulture)),
                ("inode", s.Inode.ToString(CultureInfo.InvariantCulture)),
            };
            var subject = $"{s.Protocol} {local}";
            if (!s.IsListening)
            {
                var remote = NetSocket.Endpoint(s.RemoteAddress, s.RemotePort);
                fields.Add(("remote", remote));
                fields.Add(("remote-address", s.RemoteAddress.ToString()));
                subject += " " + remote;
            }

            if (owners.TryGetValue(s.Inode, out var owner))
            {
                fields.Add(("pid", owner.Pid.ToString(CultureInfo.InvariantCulture)));
                fields.Add(("process", owner.Comm));
            }
            else if (ownerError is not null)
            {
                fields.Add(("owner-error", ownerError));
            }

            records.Add(EvidenceRecord.Create(EvidenceRecordTypes.Socket, subject, [.. fields]));
        }

        return records;
    }

    /// <summary>Socket inode → owning process, from the fd links of every readable process.</summary>
    internal static IReadOnlyDictionary<long, (int Pid, string Comm)> SocketOwners(string procRoot) => SocketOwners(ProcFileSystem.Instance, procRoot, out _);

    /// <summary>Socket inode → owning process; <paramref name="unreadable"/> lists the live processes whose fd directory could not be read.</summary>
    internal static IReadOnlyDictionary<long, (int Pid, string Comm)> SocketOwners(IProcFileSystem fs, string procRoot, out IReadOnlyList<(int Pid, string Error)> unreadable)
    {
        var owners = new Dictionary<long, (int, string)>();
        var failed = new List<(int, string)>();
        foreach (var pid in ProcessEvidenceSource.Pids(fs, procRoot))
        {
            var dir = Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture));
            try
            {
                string? comm = null;
                foreach (var fd in fs.EnumerateFileSystemEntries(Path.Combine(dir, "fd")))
                {
                    // A failed link is an fd closed meanwhile: nothing to own.
                    if (ProcParsers.ParseSocketInode(fs.ReadLink(fd).Target) is { } inode)
                    {
                        comm ??= ReadComm(fs, dir);
                        owners.TryAdd(inode, (pid, comm));
                    }
                }
            }
            catch (Exception e) when (ProcErrors.IsFileError(e))
            {
                // Gone (exited meanwhile) is nothing; not ours to read is recorded.
                if (!ProcErrors.IsGone(e))
                {
                    failed.Add((pid, ProcErrors.Describe(e)));
                }
            }
        }

        unreadable = failed;
        return owners;
    }

    private static string ReadComm(IProcFileSystem fs, string dir)
    {
        try
        {
            return fs.ReadAllText(Path.Combine(dir, "comm")).TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }
}
