using System.Runtime.InteropServices;
using System.Text;

namespace TrustStack.Evidence.Collector.Linux;

/// <summary>The outcome of readlink(2): the target, or the errno it failed with.</summary>
/// <param name="Target">The link's target, or null when <paramref name="Errno"/> is set.</param>
/// <param name="Errno">0, or the errno (ENOENT, EACCES, ...).</param>
internal readonly record struct ProcLink(string? Target, int Errno)
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EACCES = 13, EINVAL = 22;

    /// <summary>What the error means, in the words of <see cref="FileHasher.Describe"/>.</summary>
    public string ErrorDescription => Errno switch
    {
        0 => "",
        ENOENT => "not found",
        ESRCH => "no such process",
        EACCES or EPERM => "permission denied",
        EINVAL => "not a link",
        _ => Marshal.GetPInvokeErrorMessage(Errno),
    };
}

/// <summary>
/// The file operations the /proc sources make, so a test can inject the failures a real /proc
/// gives (EACCES on another user's or a ptrace-protected process, ENOENT/ESRCH for a process that
/// exited meanwhile) even when the tests run as root.
/// </summary>
internal interface IProcFileSystem
{
    /// <summary>Reads a text file; throws as <see cref="File.ReadAllText(string)"/>.</summary>
    string ReadAllText(string path);

    /// <summary>Reads a file; throws as <see cref="File.ReadAllBytes(string)"/>.</summary>
    byte[] ReadAllBytes(string path);

    /// <summary>readlink(2): never throws for a failed read, it returns the errno.</summary>
    ProcLink ReadLink(string path);

    /// <summary>The entries of a directory; throws as <see cref="Directory.EnumerateFileSystemEntries(string)"/>.</summary>
    IEnumerable<string> EnumerateFileSystemEntries(string path);

    /// <summary>The subdirectories of a directory; throws as <see cref="Directory.EnumerateDirectories(string)"/>.</summary>
    IEnumerable<string> EnumerateDirectories(string path);

    /// <summary>Whether a directory exists (a pid directory is gone once the process is reaped).</summary>
    bool DirectoryExists(string path);
}

/// <summary>
/// The real file system. readlink goes to libc: .NET's <see cref="FileSystemInfo.LinkTarget"/>
/// returns null for a link it may not read (EACCES on <c>/proc/&lt;pid&gt;/exe</c>), the same as for
/// no link at all, which would hide an unreadable executable.
/// </summary>
internal sealed class ProcFileSystem : IProcFileSystem
{
    private const int MaxLinkLength = 64 * 1024;

    private ProcFileSystem()
    {
    }

    /// <summary>The one instance.</summary>
    public static ProcFileSystem Instance { get; } = new();

    /// <inheritdoc />
    public string ReadAllText(string path) => File.ReadAllText(path);

    /// <inheritdoc />
    public byte[] ReadAllBytes(string path) => File.ReadAllBytes(path);

    /// <inheritdoc />
    public IEnumerable<string> EnumerateFileSystemEntries(string path) => Directory.EnumerateFileSystemEntries(path);

    /// <inheritdoc />
    public IEnumerable<string> EnumerateDirectories(string path) => Directory.EnumerateDirectories(path);

    /// <inheritdoc />
    public bool DirectoryExists(string path) => Directory.Exists(path);

    /// <inheritdoc />
    public ProcLink ReadLink(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return ManagedReadLink(path);
        }

        // readlink(2) does not terminate the target and truncates it silently: grow until it fits.
        for (var size = 4096; size <= MaxLinkLength; size *= 2)
        {
            var buffer = new byte[size];
            var read = NativeMethods.ReadLink(path, buffer, size);
            if (read < 0)
            {
                return new ProcLink(null, Marshal.GetLastPInvokeError());
            }

            if (read < size)
            {
                return new ProcLink(Encoding.UTF8.GetString(buffer, 0, (int)read), 0);
            }
        }

        return new ProcLink(null, 36); // ENAMETOOLONG
    }

    private static ProcLink ManagedReadLink(string path)
    {
        try
        {
            var target = new FileInfo(path).LinkTarget;
            return target is null ? new ProcLink(null, File.Exists(path) ? ProcLink.EINVAL : ProcLink.ENOENT) : new ProcLink(target, 0);
        }
        catch (UnauthorizedAccessException)
        {
            return new ProcLink(null, ProcLink.EACCES);
        }
        catch (IOException)
        {
            return new ProcLink(null, ProcLink.ENOENT);
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "readlink", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern nint ReadLink([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer, nint size);
    }
}

/// <summary>How a /proc read failed.</summary>
internal static class ProcErrors
{
    /// <summary>The exceptions a file read throws for a file it cannot read.</summary>
    public static bool IsFileError(Exception e) => e is IOException or UnauthorizedAccessException;

    /// <summary>
    /// True when the failure means the process is gone (exited meanwhile): ENOENT, or ESRCH, which
    /// .NET surfaces as an <see cref="IOException"/> whose HResult is the raw errno. Anything else
    /// (EACCES, EIO, ...) is an unreadable entry, not an exit.
    /// </summary>
    public static bool IsGone(Exception e) => e is FileNotFoundException or DirectoryNotFoundException || (e is IOException && e.HResult == ProcLink.ESRCH);

    /// <summary>A short description: "permission denied", "not found", or the message.</summary>
    public static string Describe(Exception e) => e.HResult == ProcLink.ESRCH && e is IOException ? "no such process" : FileHasher.Describe(e);
}
