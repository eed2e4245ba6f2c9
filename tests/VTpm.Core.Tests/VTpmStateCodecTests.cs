using FsCheck.Xunit;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.Tests;

public sealed class VTpmStateCodecTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    [Property]
    public bool EncryptDecrypt_RoundTrips(byte[] image, Guid vm) =>
        VTpmStateCodec.Decrypt(Key, vm, VTpmStateCodec.Encrypt(Key, vm, image ?? [], SystemRandomSource.Instance), "x").AsSpan().SequenceEqual(image ?? []);

    [Property]
    public bool Decrypt_AnyFlippedBit_ThrowsVTpmStateException(byte[] image, int position, byte bit)
    {
        var vm = Guid.NewGuid();
        var blob = VTpmStateCodec.Encrypt(Key, vm, image ?? [], SystemRandomSource.Instance);
        blob[(int)(unchecked((uint)position) % (uint)blob.Length)] ^= (byte)(1 << (bit % 8));
        try
        {
            VTpmStateCodec.Decrypt(Key, vm, blob, "f.vtpm");
            return false;
        }
        catch (VTpmStateException e)
        {
            return e.Path == "f.vtpm";
        }
    }

    [Fact]
    public void Decrypt_OtherKey_ThrowsAuthenticationFailed()
    {
        var vm = Guid.NewGuid();
        var blob = VTpmStateCodec.Encrypt(Key, vm, [1, 2, 3], SystemRandomSource.Instance);

        var e = Assert.Throws<VTpmStateException>(() => VTpmStateCodec.Decrypt(new byte[32], vm, blob, "f.vtpm"));
        Assert.Contains("authentication failed", e.Message, StringComparison.Ordinal);
    }
}
