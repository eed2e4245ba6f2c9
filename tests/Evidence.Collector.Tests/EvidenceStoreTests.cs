using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector.Tests;

public sealed class EvidenceStoreTests : IDisposable
{
    private static readonly PcrSelectionList SealPcrs = PcrSelectionList.Parse("sha256:0,7");
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("ts-store-");
    private readonly EvidenceTpm _tpm = EvidenceTestKit.NewTpm();

    public void Dispose()
    {
        _tpm.Dispose();
        _dir.Delete(recursive: true);
    }

    [Fact]
    public void Open_AfterWrite_ReturnsTheEvidence()
    {
        EvidenceStore.Write(_tpm, _dir.FullName, "the evidence log"u8, SealPcrs, SystemRandomSource.Instance);

        var opened = EvidenceStore.Open(_tpm, _dir.FullName, SealPcrs);

        Assert.True(opened.IsOpen, opened.Failure);
        Assert.Equal("the evidence log"u8.ToArray(), opened.Content);
        Assert.True(File.ReadAllBytes(Path.Combine(_dir.FullName, EvidenceStore.ContentFile)).AsSpan().IndexOf("evidence"u8) < 0);
    }

    [Fact]
    public void Attack_EvidenceStoreTamperedAtRest_Rejected()
    {
        EvidenceStore.Write(_tpm, _dir.FullName, "the evidence log"u8, SealPcrs, SystemRandomSource.Instance);
        var path = Path.Combine(_dir.FullName, EvidenceStore.ContentFile);
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var opened = EvidenceStore.Open(_tpm, _dir.FullName, SealPcrs);

        Assert.False(opened.IsOpen);
        Assert.Contains("tampered with at rest", opened.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_PlatformPcrChanged_KeyDoesNotUnseal()
    {
        EvidenceStore.Write(_tpm, _dir.FullName, "the evidence log"u8, SealPcrs, SystemRandomSource.Instance);
        _tpm.Extend(7, TpmAlgId.Sha256, new byte[32]);

        var opened = EvidenceStore.Open(_tpm, _dir.FullName, SealPcrs);

        Assert.False(opened.IsOpen);
        Assert.StartsWith("the storage key did not unseal", opened.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_OtherTpm_KeyDoesNotUnseal()
    {
        EvidenceStore.Write(_tpm, _dir.FullName, "the evidence log"u8, SealPcrs, SystemRandomSource.Instance);
        using var other = EvidenceTestKit.NewTpm(seed: 99);

        Assert.False(EvidenceStore.Open(other, _dir.FullName, SealPcrs).IsOpen);
    }
}
