namespace TrustStack.Tpm.Hardware.Tests;

public class KdfRandomSourceTests
{
    private static readonly byte[] Seed = CryptoTestData.Seed(0x5A);

    [Theory]
    [InlineData(TpmAlgId.Sha1)]
    [InlineData(TpmAlgId.Sha256)]
    [InlineData(TpmAlgId.Sha384)]
    public void Fill_Stream_EqualsOneKdfaCallWithTheLimit(TpmAlgId hash)
    {
        const int limitBits = 8 * 200;
        using var source = new KdfRandomSource(hash, Seed, "Primary Object Creation", [1, 2, 3], [4], limitBits);
        var stream = new byte[200];

        // Odd-sized requests cross block boundaries.
        source.Fill(stream.AsSpan(0, 7));
        source.Fill(stream.AsSpan(7, 50));
        source.Fill(stream.AsSpan(57, 143));

        Assert.Equal(TpmKdf.KdfA(hash, Seed, "Primary Object Creation", [1, 2, 3], [4], limitBits), stream);
    }

    [Fact]
    public void Fill_BeyondLimit_ThrowsNoResult()
    {
        using var source = new KdfRandomSource(TpmAlgId.Sha256, Seed, "L", [], [], 64);
        source.Fill(new byte[8]);

        Assert.Equal(TpmRc.NoResult, Assert.Throws<TpmException>(() => source.Fill(new byte[1])).ResponseCode);
    }

    [Fact]
    public void Fill_DifferentContext_DifferentStream()
    {
        using var a = new KdfRandomSource(TpmAlgId.Sha256, Seed, "L", [1], [], 1024);
        using var b = new KdfRandomSource(TpmAlgId.Sha256, Seed, "L", [2], [], 1024);

        Assert.NotEqual(a.GetBytes(32), b.GetBytes(32));
    }
}
