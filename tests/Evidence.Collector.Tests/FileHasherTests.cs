using System.Security.Cryptography;

namespace TrustStack.Evidence.Collector.Tests;

public sealed class FileHasherTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("ts-hasher-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task HashAllAsync_ManyFilesLargerThanTheBuffer_MatchSha256()
    {
        var paths = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var path = Path.Combine(_dir.FullName, $"f{i}");
            var content = new byte[(i * 37_001) + 1];
            content.AsSpan().Fill((byte)i);
            await File.WriteAllBytesAsync(path, content);
            paths.Add(path);
        }

        var digests = await new FileHasher(3).HashAllAsync(paths, default);

        Assert.Equal(20, digests.Count);
        foreach (var path in paths)
        {
            Assert.Equal(SHA256.HashData(await File.ReadAllBytesAsync(path)), digests[path].Sha256);
            Assert.Equal(new FileInfo(path).Length, digests[path].Size);
        }
    }

    [Fact]
    public void Hash_MissingFile_NotFoundError()
    {
        var digest = new FileHasher(1).Hash(Path.Combine(_dir.FullName, "nope"));

        Assert.Null(digest.Sha256);
        Assert.Equal("not found", digest.Error);
    }

    [Fact]
    public void Constructor_ZeroConcurrency_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FileHasher(0));
    }
}
