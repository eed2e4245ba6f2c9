using System.Runtime.Versioning;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Makes one process the owner of a state folder for as long as it holds this lock: an OS-level
/// exclusive lock on <c>DIR/.lock</c> (flock on Unix, a share-none handle on Windows) that the
/// kernel releases when the process dies, so a crash never leaves a stale lock. A second opener,
/// in this or another process, gets <see cref="StateFolderLockedException"/> naming the holder's
/// pid, instead of serving the same TPMs and overwriting the holder's acknowledged writes.
/// The folder is created owner-only (0700) when it does not exist.
/// </summary>
public sealed class StateFolderLock : IDisposable
{
    /// <summary>The lock file's name inside the folder.</summary>
    public const string LockFileName = ".lock";

    /// <summary>The file beside the lock that names the holder (pid and purpose), for the second opener's message.</summary>
    public const string OwnerFileName = ".lock.owner";

    private readonly FileStream _stream;
    private bool _disposed;

    private StateFolderLock(string directory, FileStream stream)
    {
        Directory = directory;
        _stream = stream;
    }

    /// <summary>The locked folder (full path).</summary>
    public string Directory { get; }

    /// <summary>Takes the folder's lock, creating the folder (0700) if needed.</summary>
    /// <param name="directory">The state folder.</param>
    /// <param name="purpose">What holds it, for the second opener's message (for example "tpm serve").</param>
    /// <exception cref="StateFolderLockedException">Another owner (this or another process) holds the folder.</exception>
    /// <exception cref="IOException">The folder or its lock file cannot be created, or .NET's file locking is switched off in this process (so no owner could be enforced).</exception>
    /// <exception cref="UnauthorizedAccessException">The folder is not writable.</exception>
    public static StateFolderLock Acquire(string directory, string purpose)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(purpose);
        var full = Path.GetFullPath(directory);
        if (IsFileLockingDisabled(out var how))
        {
            // On Unix FileShare.None is .NET's flock, and this switch turns it into a no-op: every
            // opener would "own" the folder. Refuse rather than pretend.
            throw new IOException($"cannot lock state folder '{full}': .NET file locking is switched off in this process ({how}), so one owner per state folder cannot be enforced; unset it");
        }

        CreateOwnerOnlyDirectory(full);
        var lockPath = Path.Combine(full, LockFileName);
        FileStream stream;
        try
        {
            stream = OpenExclusive(lockPath);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException && IsSharingViolation(e))
        {
            throw new StateFolderLockedException(full, ReadOwner(full), e);
        }

        try
        {
            var owner = $"pid {Environment.ProcessId} ({purpose})";
            var ownerPath = Path.Combine(full, OwnerFileName);
            var temp = ownerPath + ".tmp";

            // Written only while the lock is held, so no other writer races for the temp file;
            // created owner-only from the start, like the state files.
            File.Delete(temp);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var writer = new StreamWriter(temp, options))
            {
                writer.Write(owner + "\n");
            }

            File.Move(temp, ownerPath, overwrite: true);
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        return new StateFolderLock(full, stream);
    }

    /// <summary>Creates <paramref name="directory"/> (and its parents) owner-only (0700 on Unix) if it does not exist.</summary>
    /// <param name="directory">The folder.</param>
    /// <exception cref="IOException">It cannot be created.</exception>
    public static void CreateOwnerOnlyDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        else
        {
            CreateUnix(directory);
        }
    }

    /// <summary>Releases the lock (the owner file stays; it names the last holder).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stream.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"state folder lock on {Directory}";

    [UnsupportedOSPlatform("windows")]
    private static void CreateUnix(string directory) =>
        System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

    private static FileStream OpenExclusive(string path)
    {
        // FileShare.None is an exclusive, non-blocking flock on Unix (.NET's FileStream) and a
        // share-none handle on Windows: both are dropped by the kernel when the process dies.
        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new FileStream(path, options);
    }

    /// <summary>
    /// True when .NET's advisory file locking is off for this process: the
    /// <c>System.IO.DisableFileLocking</c> runtime switch or the
    /// <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> environment variable, read as the runtime reads them.
    /// </summary>
    private static bool IsFileLockingDisabled(out string how)
    {
        if (AppContext.TryGetSwitch("System.IO.DisableFileLocking", out var disabled))
        {
            how = "runtime switch System.IO.DisableFileLocking";
            return disabled;
        }

        var variable = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING");
        how = $"DOTNET_SYSTEM_IO_DISABLEFILELOCKING={variable}";
        return variable is not null && (variable == "1" || variable.Equals("true", StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsSharingViolation(IOException e)
    {
        // Unix: EWOULDBLOCK from flock surfaces as an IOException with HResult 0x80070020
        // (ERROR_SHARING_VIOLATION), as on Windows.
        const int SharingViolation = unchecked((int)0x80070020);
        const int LockViolation = unchecked((int)0x80070021);
        return e.HResult is SharingViolation or LockViolation || e.Message.Contains("being used by another process", StringComparison.Ordinal);
    }

    private static string? ReadOwner(string directory)
    {
        try
        {
            // The owner file is replaced atomically and never locked, so this read cannot block.
            var text = File.ReadAllText(Path.Combine(directory, OwnerFileName)).Trim();
            return text.Length == 0 ? null : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>A state folder is owned by another holder of its <see cref="StateFolderLock"/>.</summary>
public sealed class StateFolderLockedException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="directory">The folder.</param>
    /// <param name="holder">Who holds it ("pid N (purpose)"), when known.</param>
    /// <param name="inner">The OS error.</param>
    public StateFolderLockedException(string directory, string? holder, Exception? inner = null)
        : base($"state folder '{directory}' is in use by {holder ?? "another process"}: stop it first, or go through it (one owner per state folder)", inner)
    {
        Directory = directory;
        Holder = holder;
        HolderProcessId = TryParsePid(holder);
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>Who holds it, as its owner file says, or null when unknown.</summary>
    public string? Holder { get; }

    /// <summary>The holder's process id, when its owner file names one.</summary>
    public int? HolderProcessId { get; }

    private static int? TryParsePid(string? holder)
    {
        if (holder is null || !holder.StartsWith("pid ", StringComparison.Ordinal))
        {
            return null;
        }

        var end = holder.IndexOf(' ', 4);
        return int.TryParse(end < 0 ? holder.AsSpan(4) : holder.AsSpan(4, end - 4), out var pid) ? pid : null;
    }
}
