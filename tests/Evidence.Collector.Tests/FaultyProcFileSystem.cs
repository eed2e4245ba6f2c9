using TrustStack.Evidence.Collector.Linux;

namespace TrustStack.Evidence.Collector.Tests;

/// <summary>
/// The real file system with failures injected per path, raised as .NET raises them on Linux:
/// ENOENT as <see cref="FileNotFoundException"/>, EACCES/EPERM as
/// <see cref="UnauthorizedAccessException"/>, any other errno as an <see cref="IOException"/> whose
/// HResult is the errno. The tests run as root, whom a fixture's permissions cannot stop.
/// </summary>
internal sealed class FaultyProcFileSystem : IProcFileSystem
{
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);

    /// <summary>Every operation on <paramref name="path"/> fails with <paramref name="errno"/>.</summary>
    public FaultyProcFileSystem Fail(string path, int errno)
    {
        _failures[path] = errno;
        return this;
    }

    public string ReadAllText(string path) => _failures.TryGetValue(path, out var errno) ? throw ToException(errno, path) : ProcFileSystem.Instance.ReadAllText(path);

    public byte[] ReadAllBytes(string path) => _failures.TryGetValue(path, out var errno) ? throw ToException(errno, path) : ProcFileSystem.Instance.ReadAllBytes(path);

    public ProcLink ReadLink(string path) => _failures.TryGetValue(path, out var errno) ? new ProcLink(null, errno) : ProcFileSystem.Instance.ReadLink(path);

    public IEnumerable<string> EnumerateFileSystemEntries(string path) => _failures.TryGetValue(path, out var errno) ? throw ToException(errno, path) : ProcFileSystem.Instance.EnumerateFileSystemEntries(path);

    public IEnumerable<string> EnumerateDirectories(string path) => _failures.TryGetValue(path, out var errno) ? throw ToException(errno, path) : ProcFileSystem.Instance.EnumerateDirectories(path);

    public bool DirectoryExists(string path) => (!_failures.TryGetValue(path, out var errno) || errno != ProcLink.ENOENT) && ProcFileSystem.Instance.DirectoryExists(path);

    private static Exception ToException(int errno, string path) => errno switch
    {
        ProcLink.ENOENT => new FileNotFoundException($"Could not find file '{path}'.", path),
        ProcLink.EACCES or ProcLink.EPERM => new UnauthorizedAccessException($"Access to the path '{path}' is denied."),
        _ => new IOException($"I/O error {errno} on '{path}'", errno),
    };
}
