using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace TrustStack.Evidence.Collector;

/// <summary>The SHA-256 of one file, or why it could not be read.</summary>
/// <param name="Path">The path as asked.</param>
/// <param name="Sha256">The digest, or null when <paramref name="Error"/> says why not.</param>
/// <param name="Size">The octets hashed.</param>
/// <param name="Error">Null, or "not found", "permission denied", ...</param>
public sealed record FileDigest(string Path, byte[]? Sha256, long Size, string? Error)
{
    /// <summary>The digest in lower-case hex, or null.</summary>
    public string? Sha256Hex => Sha256 is null ? null : Convert.ToHexStringLower(Sha256);
}

/// <summary>
/// Hashes files with SHA-256, streaming (64 KiB reads, never the whole file in memory), several
/// at once up to a bound, and caches each path's result for the lifetime of the hasher (one round).
/// </summary>
public sealed class FileHasher
{
    private const int BufferSize = 64 * 1024;
    private readonly ConcurrentDictionary<string, Lazy<FileDigest>> _cache = new(StringComparer.Ordinal);

    /// <summary>Creates a hasher.</summary>
    /// <param name="maxConcurrency">Files hashed at once (at least 1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxConcurrency"/> is below 1.</exception>
    public FileHasher(int maxConcurrency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        MaxConcurrency = maxConcurrency;
    }

    /// <summary>Files hashed at once.</summary>
    public int MaxConcurrency { get; }

    /// <summary>Hashes one file (cached).</summary>
    public FileDigest Hash(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return _cache.GetOrAdd(path, p => new Lazy<FileDigest>(() => HashUncached(p))).Value;
    }

    /// <summary>Hashes <paramref name="paths"/> in parallel; the result maps each distinct path to its digest.</summary>
    public async Task<IReadOnlyDictionary<string, FileDigest>> HashAllAsync(IEnumerable<string> paths, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var distinct = paths.Distinct(StringComparer.Ordinal).ToArray();
        var results = new ConcurrentDictionary<string, FileDigest>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(
            distinct,
            new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrency, CancellationToken = cancellationToken },
            (path, _) =>
            {
                results[path] = Hash(path);
                return ValueTask.CompletedTask;
            }).ConfigureAwait(false);
        return results;
    }

    /// <summary>Hashes a file without the cache.</summary>
    public static FileDigest HashUncached(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, BufferSize, FileOptions.SequentialScan);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
            long size = 0;
            try
            {
                int read;
                while ((read = stream.Read(buffer, 0, BufferSize)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    size += read;
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }

            return new FileDigest(path, hash.GetHashAndReset(), size, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new FileDigest(path, null, 0, Describe(e));
        }
    }

    internal static string Describe(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "not found",
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };
}
