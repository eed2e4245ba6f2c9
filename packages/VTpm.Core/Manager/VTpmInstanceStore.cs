using System.Security.Cryptography;
using System.Text;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// Where the manager's vTPMs live at rest (the "instance store" of the manager's planned split):
/// the state folder it owns for its lifetime (<see cref="StateFolderLock"/> on <c>DIR/.lock</c>),
/// the state key sealed by the hardware TPM, the VM index, and one AES-256-GCM encrypted file per
/// vTPM (and per migration marker). Every file is written atomically and owner-only (0600 in 0700
/// folders). Without a state folder it keeps the same encrypted blobs in memory under a
/// per-process key. It takes no lock of the manager: the vTPM engines write through it from their
/// own threads, so every member is thread-safe on its own.
/// </summary>
internal sealed class VTpmInstanceStore : IDisposable
{
    public const string InstancesFolder = "vtpms";
    public const string IndexFileName = "index";
    public const string StateExtension = ".vtpm";
    public const string MigratingExtension = ".migrating";
    public const string IncomingExtension = ".incoming";

    private readonly Tpm2? _hardware;
    private readonly PcrSelectionList _layerPcrs;
    private readonly IRandomSource _random;
    private readonly StateFolderLock? _folderLock;
    private readonly Lock _keyLock = new();
    private readonly Lock _memoryLock = new();
    private readonly Dictionary<(Guid, string), byte[]> _memory = [];
    private byte[]? _stateKey;
    private bool _disposed;

    /// <summary>Opens the store; with a state folder, takes its lock and narrows its modes.</summary>
    /// <exception cref="StateFolderLockedException">Another manager (in this or another process) owns the folder.</exception>
    /// <exception cref="IOException">The folder cannot be created.</exception>
    public VTpmInstanceStore(string? stateDirectory, Tpm2? hardware, PcrSelectionList layerPcrs, IRandomSource random)
    {
        _hardware = hardware;
        _layerPcrs = layerPcrs;
        _random = random;
        if (stateDirectory is null)
        {
            return;
        }

        StateDirectory = Path.GetFullPath(stateDirectory);
        InstancesDirectory = Path.Combine(StateDirectory, InstancesFolder);

        // One owner per state folder: a second manager would serve the same vTPMs and overwrite
        // the first one's acknowledged writes (issue 19, findings 7 and 10).
        _folderLock = StateFolderLock.Acquire(StateDirectory, "TrustStack vTPM manager");
        try
        {
            AtomicFile.EnsureDirectory(StateDirectory);
            AtomicFile.EnsureDirectory(InstancesDirectory);
            AtomicFile.NarrowFile(SealedKeyPath!);
            foreach (var file in Directory.EnumerateFiles(InstancesDirectory))
            {
                if (file.EndsWith(AtomicFile.TempSuffix, StringComparison.Ordinal))
                {
                    // Garbage of a write interrupted by a crash; the file it was to replace is intact.
                    File.Delete(file);
                }
                else
                {
                    AtomicFile.NarrowFile(file);
                }
            }
        }
        catch
        {
            _folderLock.Dispose();
            throw;
        }
    }

    /// <summary>The state folder (full path), or null for an in-memory store.</summary>
    public string? StateDirectory { get; }

    /// <summary>The folder of the vTPM files, or null.</summary>
    public string? InstancesDirectory { get; }

    /// <summary>Whether the store keeps files (a state folder) rather than memory.</summary>
    public bool IsPersistent => StateDirectory is not null;

    private string? SealedKeyPath => StateDirectory is null ? null : Path.Combine(StateDirectory, StateKeySealer.FileName);

    private string? IndexPath => InstancesDirectory is null ? null : Path.Combine(InstancesDirectory, IndexFileName);

    /// <summary>The state file of a VM (or null in memory).</summary>
    public string? StatePath(Guid vmId) => FilePath(vmId, StateExtension);

    /// <summary>The name used in errors for a VM's file of <paramref name="extension"/>.</summary>
    public string Describe(Guid vmId, string extension) => FilePath(vmId, extension) ?? $"<in-memory {extension.TrimStart('.')} state of VM {vmId}>";

    /// <summary>The state key: unsealed by the hardware TPM at first use (or created and sealed), or a per-process key in memory.</summary>
    /// <exception cref="VirtualizationLayerChangedException">The virtualization layer changed.</exception>
    /// <exception cref="VTpmStateException">The sealed key file cannot be used.</exception>
    public byte[] StateKey()
    {
        lock (_keyLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_stateKey is not null)
            {
                return _stateKey;
            }

            if (SealedKeyPath is { } path)
            {
                _stateKey = StateKeySealer.OpenOrCreate(_hardware!, path, _layerPcrs, _random);
            }
            else
            {
                // In-memory store: the key never leaves this process, so nothing needs sealing.
                _stateKey = GC.AllocateUninitializedArray<byte>(StateKeySealer.KeySize, pinned: true);
                _random.Fill(_stateKey);
            }

            return _stateKey;
        }
    }

    /// <summary>The VMs of the folder in creation order: the index, then state files missing from it (a crash between the two writes).</summary>
    /// <exception cref="VTpmStateException">The index is damaged or unreadable (the message names it).</exception>
    public IReadOnlyList<Guid> LoadIndex()
    {
        if (IndexPath is not { } index)
        {
            return [];
        }

        var ids = new List<Guid>();
        try
        {
            if (File.Exists(index))
            {
                var text = File.ReadAllText(index, Encoding.ASCII);
                var lines = text.Split('\n');
                for (var i = 0; i < lines.Length; i++)
                {
                    var line = lines[i];
                    if (line.Length == 0)
                    {
                        continue;
                    }

                    if (Guid.TryParseExact(line, "D", out var id))
                    {
                        ids.Add(id);
                    }
                    else if (i < lines.Length - 1)
                    {
                        throw new VTpmStateException(index, $"line {i + 1} ('{Printable(line)}') is not a VM UUID");
                    }

                    // An unterminated last line that is not a UUID is an append torn by a crash:
                    // its VM (if its state file was written) is found by the scan below.
                }
            }

            foreach (var file in Directory.EnumerateFiles(InstancesDirectory!, "*" + StateExtension).Order(StringComparer.Ordinal))
            {
                if (Guid.TryParseExact(Path.GetFileNameWithoutExtension(file), "D", out var id) && !ids.Contains(id))
                {
                    ids.Add(id);
                }
            }
        }
        catch (Exception e) when (e is IOException and not VTpmStateException or UnauthorizedAccessException)
        {
            throw new VTpmStateException(index, e.Message, e);
        }

        return [.. ids.Distinct()];
    }

    /// <summary>Appends a VM to the index.</summary>
    public void AppendIndex(Guid vmId)
    {
        if (IndexPath is not { } index)
        {
            return;
        }

        if (File.Exists(index) && new FileInfo(index).Length > 0 && LastByte(index) != (byte)'\n')
        {
            // A previous append torn by a crash: rewrite the index without the fragment.
            var valid = File.ReadAllText(index, Encoding.ASCII).Split('\n').Select(l => Guid.TryParseExact(l, "D", out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty);
            RewriteIndex([.. valid, vmId]);
            return;
        }

        AtomicFile.Append(index, Encoding.ASCII.GetBytes(vmId.ToString("D") + "\n"));
    }

    /// <summary>Rewrites the index with <paramref name="order"/>.</summary>
    public void RewriteIndex(IEnumerable<Guid> order)
    {
        if (IndexPath is { } index)
        {
            AtomicFile.Write(index, Encoding.ASCII.GetBytes(string.Concat(order.Select(g => g.ToString("D") + "\n"))));
        }
    }

    /// <summary>The decrypted state image of a VM, or null when it has none yet; the caller zeroes it.</summary>
    /// <exception cref="VTpmStateException">The file is damaged, of another VM, or unreadable.</exception>
    public byte[]? ReadState(Guid vmId) => ReadSealed(vmId, StateExtension);

    /// <summary>Encrypts and writes (atomically, 0600) the state image of a VM. Called from engine threads.</summary>
    public void WriteState(Guid vmId, ReadOnlySpan<byte> image) => WriteSealed(vmId, StateExtension, image);

    /// <summary>Deletes the state of a VM (and its markers).</summary>
    public void Delete(Guid vmId)
    {
        foreach (var extension in (string[])[StateExtension, MigratingExtension, IncomingExtension])
        {
            DeleteFile(vmId, extension);
        }
    }

    /// <summary>Whether the VM has a marker (or state) file of <paramref name="extension"/>.</summary>
    public bool Has(Guid vmId, string extension)
    {
        if (FilePath(vmId, extension) is { } path)
        {
            return File.Exists(path);
        }

        lock (_memoryLock)
        {
            return _memory.ContainsKey((vmId, extension));
        }
    }

    /// <summary>Writes the outgoing-migration lock marker of a VM.</summary>
    public void WriteMigratingMarker(Guid vmId, VTpmInstanceState lockedFrom)
    {
        if (FilePath(vmId, MigratingExtension) is { } path)
        {
            AtomicFile.Write(path, [(byte)lockedFrom]);
        }
    }

    /// <summary>Deletes one file (marker) of a VM; nothing when absent.</summary>
    public void DeleteFile(Guid vmId, string extension)
    {
        if (FilePath(vmId, extension) is { } path)
        {
            File.Delete(path);
            return;
        }

        lock (_memoryLock)
        {
            if (_memory.Remove((vmId, extension), out var blob))
            {
                CryptographicOperations.ZeroMemory(blob);
            }
        }
    }

    /// <summary>Encrypts and stores an incoming (inactive) vTPM's framed image.</summary>
    public void WriteIncoming(Guid vmId, ReadOnlySpan<byte> framed) => WriteSealed(vmId, IncomingExtension, framed);

    /// <summary>The decrypted framed image of an incoming vTPM, or null; the caller zeroes it.</summary>
    /// <exception cref="VTpmStateException">Damaged.</exception>
    public byte[]? ReadIncoming(Guid vmId) => ReadSealed(vmId, IncomingExtension);

    /// <summary>The VMs with an incoming file in the folder.</summary>
    public IReadOnlyList<Guid> ListIncoming()
    {
        if (InstancesDirectory is null)
        {
            return [];
        }

        return [.. Directory.EnumerateFiles(InstancesDirectory, "*" + IncomingExtension)
            .Order(StringComparer.Ordinal)
            .Select(f => Guid.TryParseExact(Path.GetFileNameWithoutExtension(f), "D", out var id) ? id : Guid.Empty)
            .Where(id => id != Guid.Empty)];
    }

    /// <summary>Encrypts a record (migration journal) bound to <paramref name="id"/>.</summary>
    public byte[] Protect(Guid id, ReadOnlySpan<byte> record) => VTpmStateCodec.Encrypt(StateKey(), id, record, _random);

    /// <summary>Opens a record made by <see cref="Protect"/>; the caller zeroes the result.</summary>
    /// <exception cref="VTpmStateException">Tampered, or of another record.</exception>
    public byte[] Unprotect(Guid id, ReadOnlySpan<byte> blob, string source) => VTpmStateCodec.Decrypt(StateKey(), id, blob, source);

    /// <summary>Zeroes the state key and the in-memory blobs and releases the folder.</summary>
    public void Dispose()
    {
        lock (_keyLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_stateKey is not null)
            {
                CryptographicOperations.ZeroMemory(_stateKey);
            }
        }

        lock (_memoryLock)
        {
            foreach (var blob in _memory.Values)
            {
                CryptographicOperations.ZeroMemory(blob);
            }

            _memory.Clear();
        }

        _folderLock?.Dispose();
    }

    private static string Printable(string line) =>
        new([.. line.Take(40).Select(c => c is >= ' ' and <= '~' ? c : '?')]);

    private static byte LastByte(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(-1, SeekOrigin.End);
        return (byte)stream.ReadByte();
    }

    private string? FilePath(Guid vmId, string extension) =>
        InstancesDirectory is null ? null : Path.Combine(InstancesDirectory, vmId.ToString("D") + extension);

    private void WriteSealed(Guid vmId, string extension, ReadOnlySpan<byte> plaintext)
    {
        var blob = VTpmStateCodec.Encrypt(StateKey(), vmId, plaintext, _random);
        if (FilePath(vmId, extension) is { } path)
        {
            AtomicFile.Write(path, blob);
            return;
        }

        lock (_memoryLock)
        {
            if (_memory.TryGetValue((vmId, extension), out var old))
            {
                CryptographicOperations.ZeroMemory(old);
            }

            _memory[(vmId, extension)] = blob;
        }
    }

    private byte[]? ReadSealed(Guid vmId, string extension)
    {
        byte[] blob;
        var path = FilePath(vmId, extension);
        if (path is not null)
        {
            try
            {
                if (!File.Exists(path))
                {
                    return null;
                }

                blob = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new VTpmStateException(path, e.Message, e);
            }
        }
        else
        {
            lock (_memoryLock)
            {
                if (!_memory.TryGetValue((vmId, extension), out var stored))
                {
                    return null;
                }

                blob = stored.ToArray();
            }
        }

        return VTpmStateCodec.Decrypt(StateKey(), vmId, blob, Describe(vmId, extension));
    }
}
