using System.Runtime.Versioning;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// Atomic, owner-only file replacement (ARCHITECTURE.md "Persistence"): a temporary file created
/// 0600 beside the target, written, flushed to disk, then renamed over it, so a crash (kill -9
/// included) leaves the old or the new content, never a torn one, and no other local user can read
/// either. Folders are created 0700. On Windows the modes do not apply (the folder's ACL does).
/// </summary>
internal static class AtomicFile
{
    /// <summary>The suffix of the temporary file; a leftover one is garbage from a crash.</summary>
    public const string TempSuffix = ".tmp";

    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerAll = OwnerReadWrite | UnixFileMode.UserExecute;

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/> atomically; the file is 0600.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder is not writable.</exception>
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        EnsureDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + TempSuffix;

        // A leftover temporary file keeps its old mode if opened with FileMode.Create: start fresh.
        File.Delete(temp);
        using (var stream = new FileStream(temp, CreateOptions(FileMode.CreateNew)))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Appends <paramref name="content"/> to <paramref name="path"/> (created 0600) and flushes it to disk.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Append(string path, ReadOnlySpan<byte> content)
    {
        EnsureDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var stream = new FileStream(path, CreateOptions(FileMode.Append));
        stream.Write(content);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Creates <paramref name="directory"/> 0700, or narrows an existing one to 0700.</summary>
    /// <exception cref="IOException">It cannot be created.</exception>
    public static void EnsureDirectory(string directory)
    {
        StateFolderLock.CreateOwnerOnlyDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            Narrow(directory, OwnerAll);
        }
    }

    /// <summary>Narrows an existing file to 0600 (state written by an older version was 0644).</summary>
    public static void NarrowFile(string path)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(path))
        {
            Narrow(path, OwnerReadWrite);
        }
    }

    private static FileStreamOptions CreateOptions(FileMode mode)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerReadWrite;
        }

        return options;
    }

    [UnsupportedOSPlatform("windows")]
    private static void Narrow(string path, UnixFileMode mode)
    {
        if ((File.GetUnixFileMode(path) & ~mode) != 0)
        {
            File.SetUnixFileMode(path, mode);
        }
    }
}
