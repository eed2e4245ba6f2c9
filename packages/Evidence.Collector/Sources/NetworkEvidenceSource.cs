using System.Globalization;
using TrustStack.Evidence.Collector.Linux;

namespace TrustStack.Evidence.Collector;

/// <summary>
/// TCP and UDP sockets, v4 and v6, listening and connected (<c>/proc/net/tcp</c>, <c>tcp6</c>,
/// <c>udp</c>, <c>udp6</c>), each with its owning process found through the socket inodes of
/// <c>/proc/&lt;pid&gt;/fd</c>. TIME_WAIT sockets (no owner) are skipped.
/// </summary>
public sealed class NetworkEvidenceSource : IEvidenceSource
{
    private static readonly string[] Protocols = ["tcp", "tcp6", "udp", "udp6"];

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

        var owners = SocketOwners(root);
        return ToRecords(sockets, owners);
    }

    internal static IReadOnlyList<EvidenceRecord> ToRecords(IEnumerable<NetSocket> sockets, IReadOnlyDictionary<long, (int Pid, string Comm)> owners)
    {
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

            records.Add(EvidenceRecord.Create(EvidenceRecordTypes.Socket, subject, [.. fields]));
        }

        return records;
    }

    /// <summary>Socket inode → owning process, from the fd links of every readable process.</summary>
    internal static IReadOnlyDictionary<long, (int Pid, string Comm)> SocketOwners(string procRoot)
    {
        var owners = new Dictionary<long, (int, string)>();
        foreach (var pid in ProcessEvidenceSource.Pids(procRoot))
        {
            var dir = Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture));
            try
            {
                string? comm = null;
                foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(dir, "fd")))
                {
                    string? target;
                    try
                    {
                        target = new FileInfo(fd).LinkTarget;
                    }
                    catch (IOException)
                    {
                        continue;
                    }

                    if (ProcParsers.ParseSocketInode(target) is { } inode)
                    {
                        comm ??= ReadComm(dir);
                        owners.TryAdd(inode, (pid, comm));
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone, or not ours to read.
            }
        }

        return owners;
    }

    private static string ReadComm(string dir)
    {
        try
        {
            return File.ReadAllText(Path.Combine(dir, "comm")).TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }
}
