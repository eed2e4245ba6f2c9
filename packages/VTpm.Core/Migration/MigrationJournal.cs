using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// The durable record of each migration a manager takes part in: one file per migration and side
/// (<c>migrations/&lt;migration id&gt;.source|.destination</c>) in the manager's state folder,
/// AES-256-GCM encrypted under the manager's state key (it holds the commit and abort secrets),
/// written atomically (temporary file, flush, rename) before the step it records takes effect.
/// An in-memory manager keeps the records in memory.
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
    }

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

            blob = File.ReadAllBytes(path);
        }

        return _manager.UnprotectRecord(migrationId, blob, _directory is null ? $"<journal {migrationId}>" : PathOf(migrationId));
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

    public static SourceRecord Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new TpmReader(bytes);
        var record = new SourceRecord((SourceState)r.ReadU8(), VTpmStateFormat.ReadGuid(ref r), System.Text.Encoding.UTF8.GetString(r.ReadTpm2b()), r.ReadTpm2b(32), r.ReadTpm2b(32));
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

    public static DestinationRecord Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new TpmReader(bytes);
        var state = (DestinationState)r.ReadU8();
        var vm = VTpmStateFormat.ReadGuid(ref r);
        var offerMessage = VTpmStateFormat.ReadGuid(ref r);
        var offer = r.ReadBytes((int)r.ReadU32()).ToArray();
        var package = r.ReadTpm2b(32);
        var commit = r.ReadTpm2b(32);
        var abort = r.ReadTpm2b(32);
        var receipt = r.ReadBytes((int)r.ReadU32()).ToArray();
        r.EnsureConsumed();
        return new DestinationRecord(state, vm, offerMessage, offer, package, commit, abort, receipt);
    }

    /// <summary>Whether <paramref name="secret"/> hashes to <paramref name="digest"/> (constant time).</summary>
    public static bool Opens(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> secret) =>
        digest.Length == 32 && CryptographicOperations.FixedTimeEquals(digest, SHA256.HashData(secret));
}
