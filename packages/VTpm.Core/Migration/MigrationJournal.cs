using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// The durable record of each migration a manager takes part in: one file per migration and side
/// (<c>migrations/&lt;migration id&gt;.source|.destination</c>) in the manager's state folder,
/// AES-256-GCM encrypted under the manager's state key (it holds the commit and abort secrets),
/// written atomically and owner-only (temporary file 0600, flush, rename; folder 0700) before the
/// step it records takes effect. An in-memory manager keeps the records in memory. A damaged entry
/// is reported as a <see cref="VTpmStateException"/> naming its file, never as another exception.
/// </summary>
internal sealed class MigrationJournal
{
    public const string Folder = "migrations";
    private readonly VTpmManager _manager;
    private readonly string _extension;
    private readonly string? _directory;
    private readonly Dictionary<Guid, byte[]> _memory = [];

    public MigrationJournal(VTpmManager manager, string extension)
    {
        _manager = manager;
        _extension = "." + extension;
        _directory = manager.StateDirectory is { } dir ? Path.Combine(dir, Folder) : null;
        if (_directory is not null && Directory.Exists(_directory))
        {
            AtomicFile.EnsureDirectory(_directory);
            foreach (var file in Directory.EnumerateFiles(_directory, "*" + _extension + "*"))
            {
                if (file.EndsWith(AtomicFile.TempSuffix, StringComparison.Ordinal))
                {
                    File.Delete(file); // a write interrupted by a crash; the entry it replaced is intact
                }
                else
                {
                    AtomicFile.NarrowFile(file);
                }
            }
        }
    }

    /// <summary>Where the entry of <paramref name="migrationId"/> is, for messages.</summary>
    public string Describe(Guid migrationId) => _directory is null ? $"<journal {migrationId}{_extension}>" : PathOf(migrationId);

    public void Save(Guid migrationId, ReadOnlySpan<byte> record)
    {
        var blob = _manager.ProtectRecord(migrationId, record);
        if (_directory is null)
        {
            lock (_memory)
            {
                _memory[migrationId] = blob;
            }

            return;
        }

        AtomicFile.Write(PathOf(migrationId), blob);
    }

    public void Delete(Guid migrationId)
    {
        if (_directory is null)
        {
            lock (_memory)
            {
                _memory.Remove(migrationId);
            }

            return;
        }

        File.Delete(PathOf(migrationId));
    }

    public byte[]? Load(Guid migrationId)
    {
        byte[] blob;
        if (_directory is null)
        {
            lock (_memory)
            {
                if (!_memory.TryGetValue(migrationId, out var found))
                {
                    return null;
                }

                blob = found;
            }
        }
        else
        {
            var path = PathOf(migrationId);
            if (!File.Exists(path))
            {
                return null;
            }

            try
            {
                blob = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new VTpmStateException(path, e.Message, e);
            }
        }

        return _manager.UnprotectRecord(migrationId, blob, Describe(migrationId));
    }

    /// <summary>Loads and decodes one entry; null when there is none.</summary>
    /// <exception cref="VTpmStateException">The entry is damaged (the message names its file).</exception>
    public T? Load<T>(Guid migrationId, Func<byte[], T> decode)
        where T : class
    {
        var bytes = Load(migrationId);
        if (bytes is null)
        {
            return null;
        }

        try
        {
            return decode(bytes);
        }
        catch (Exception e) when (e is TpmException or FormatException or OverflowException or ArgumentException)
        {
            // Authenticated but undecodable: written by another version, or a bug; never an exception of another kind.
            throw new VTpmStateException(Describe(migrationId), $"the journal entry does not decode: {e.Message}", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    public IReadOnlyList<Guid> List()
    {
        if (_directory is null)
        {
            lock (_memory)
            {
                return [.. _memory.Keys];
            }
        }

        if (!Directory.Exists(_directory))
        {
            return [];
        }

        return [.. Directory.EnumerateFiles(_directory, "*" + _extension)
            .Order(StringComparer.Ordinal)
            .Select(f => Guid.TryParseExact(Path.GetFileNameWithoutExtension(f), "D", out var id) ? id : Guid.Empty)
            .Where(id => id != Guid.Empty)];
    }

    private string PathOf(Guid migrationId) => Path.Combine(_directory!, migrationId.ToString("D") + _extension);
}

/// <summary>The source's states (README: "Source state machine").</summary>
internal enum SourceState : byte
{
    /// <summary>The vTPM is locked and exported; no decision yet. Recovery rolls back.</summary>
    Locked = 1,

    /// <summary>Decided to roll back: never commits; unlock, then tell the destination (abort secret).</summary>
    Aborting = 2,

    /// <summary>Decided to commit after a valid receipt: destroy the local copy, then reveal the commit secret until acknowledged.</summary>
    Committed = 3,
}

internal sealed record SourceRecord(SourceState State, Guid VmId, string Endpoint, byte[] CommitSecret, byte[] AbortSecret)
{
    public byte[] Encode()
    {
        var w = new TpmWriter();
        w.WriteU8((byte)State);
        VTpmStateFormat.WriteGuid(w, VmId);
        w.WriteTpm2b(System.Text.Encoding.UTF8.GetBytes(Endpoint));
        w.WriteTpm2b(CommitSecret);
        w.WriteTpm2b(AbortSecret);
        return w.ToArray();
    }

    /// <exception cref="FormatException">Not a source record.</exception>
    /// <exception cref="TpmException">Truncated.</exception>
    public static SourceRecord Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new TpmReader(bytes);
        var state = (SourceState)r.ReadU8();
        if (!Enum.IsDefined(state))
        {
            throw new FormatException($"source state {(byte)state} is not defined");
        }

        var record = new SourceRecord(state, VTpmStateFormat.ReadGuid(ref r), System.Text.Encoding.UTF8.GetString(r.ReadTpm2b()), r.ReadTpm2b(32), r.ReadTpm2b(32));
        r.EnsureConsumed();
        return record;
    }
}

/// <summary>The destination's states (README: "Destination state machine").</summary>
internal enum DestinationState : byte
{
    /// <summary>An offer was made (migration key derivable from the id); nothing received.</summary>
    Offered = 1,

    /// <summary>The package was verified and stored inactive; the signed receipt was issued.</summary>
    Prepared = 2,

    /// <summary>The commit secret was received; activation is due (recovery activates).</summary>
    Committed = 3,

    /// <summary>Activated: the vTPM runs here. Kept to answer duplicated messages.</summary>
    Activated = 4,

    /// <summary>Aborted: the inactive copy is discarded; any later prepare or commit is refused.</summary>
    Aborted = 5,
}

internal sealed record DestinationRecord(
    DestinationState State,
    Guid VmId,
    Guid OfferMessageId,
    byte[] OfferResponse,
    byte[] PackageDigest,
    byte[] CommitDigest,
    byte[] AbortDigest,
    byte[] ReceiptResponse)
{
    public byte[] Encode()
    {
        var w = new TpmWriter(OfferResponse.Length + ReceiptResponse.Length + 256);
        w.WriteU8((byte)State);
        VTpmStateFormat.WriteGuid(w, VmId);
        VTpmStateFormat.WriteGuid(w, OfferMessageId);
        w.WriteU32((uint)OfferResponse.Length);
        w.WriteBytes(OfferResponse);
        w.WriteTpm2b(PackageDigest);
        w.WriteTpm2b(CommitDigest);
        w.WriteTpm2b(AbortDigest);
        w.WriteU32((uint)ReceiptResponse.Length);
        w.WriteBytes(ReceiptResponse);
        return w.ToArray();
    }

    /// <exception cref="FormatException">Not a destination record.</exception>
    /// <exception cref="TpmException">Truncated.</exception>
    public static DestinationRecord Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new TpmReader(bytes);
        var state = (DestinationState)r.ReadU8();
        if (!Enum.IsDefined(state))
        {
            throw new FormatException($"destination state {(byte)state} is not defined");
        }

        var vm = VTpmStateFormat.ReadGuid(ref r);
        var offerMessage = VTpmStateFormat.ReadGuid(ref r);
        var offer = r.ReadBytes(Length(ref r)).ToArray();
        var package = r.ReadTpm2b(32);
        var commit = r.ReadTpm2b(32);
        var abort = r.ReadTpm2b(32);
        var receipt = r.ReadBytes(Length(ref r)).ToArray();
        r.EnsureConsumed();
        return new DestinationRecord(state, vm, offerMessage, offer, package, commit, abort, receipt);
    }

    private static int Length(ref TpmReader r)
    {
        var length = r.ReadU32();
        return length <= (uint)r.Remaining ? (int)length : throw new FormatException($"a length of {length} exceeds the {r.Remaining} octets left");
    }

    /// <summary>Whether <paramref name="secret"/> hashes to <paramref name="digest"/> (constant time).</summary>
    public static bool Opens(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> secret) =>
        digest.Length == 32 && CryptographicOperations.FixedTimeEquals(digest, SHA256.HashData(secret));
}
