namespace TrustStack.Tpm.Hardware.Tests;

public class DeterministicRandomSourceTests
{
    // NIST CAVP drbgvectors_no_reseed HMAC_DRBG.rsp, [SHA-256] [PredictionResistance = False]
    // [EntropyInputLen = 256] [NonceLen = 128] [AdditionalInputLen = 0] [ReturnedBitsLen = 1024]:
    // instantiate, generate 1024 bits, generate 1024 bits, compare the second output.
    [Theory]
    [InlineData(
        "ca851911349384bffe89de1cbdc46e6831e44d34a4fb935ee285dd14b71a7488",
        "659ba96c601dc69fc902940805ec0ca8",
        "",
        "e528e9abf2dece54d47c7e75e5fe302149f817ea9fb4bee6f4199697d04d5b89d54fbb978a15b5c443c9ec21036d2460b6f73ebad0dc2aba6e624abf07745bc107694bb7547bb0995f70de25d6b29e2d3011bb19d27676c07162c8b5ccde0668961df86803482cb37ed6d5c0bb8d50cf1f50d476aa0458bdaba806f48be9dcb8")]
    [InlineData(
        "79737479ba4e7642a221fcfd1b820b134e9e3540a35bb48ffae29c20f5418ea3",
        "3593259c092bef4129bc2c6c9e19f343",
        "",
        "cf5ad5984f9e43917aa9087380dac46e410ddc8a7731859c84e9d0f31bd43655b924159413e2293b17610f211e09f770f172b8fb693a35b85d3b9e5e63b1dc252ac0e115002e9bedfb4b5b6fd43f33b8e0eafb2d072e1a6fee1f159df9b51e6c8da737e60d5032dd30544ec51558c6f080bdbdab1de8a939e961e06b5f1aca37")]
    [InlineData(
        "5cacc68165a2e2ee20812f35ec73a79dbf30fd475476ac0c44fc6174cdac2b55",
        "6f885496c1e63af620becd9e71ecb824",
        "e72dd8590d4ed5295515c35ed6199e9d211b8f069b3058caa6670b96ef1208d0",
        "f1012cf543f94533df27fedfbf58e5b79a3dc517a9c402bdbfc9a0c0f721f9d53faf4aafdc4b8f7a1b580fcaa52338d4bd95f58966a243cdcd3f446ed4bc546d9f607b190dd69954450d16cd0e2d6437067d8b44d19a6af7a7cfa8794e5fbd728e8fb2f2e8db5dd4ff1aa275f35886098e80ff844886060da8b1e7137846b23b")]
    public void Fill_NistCavpHmacDrbgSha256NoReseedVector_Matches(string entropy, string nonce, string personalization, string expected)
    {
        using var drbg = new DeterministicRandomSource(Convert.FromHexString(entropy), Convert.FromHexString(nonce), Convert.FromHexString(personalization));
        var output = new byte[128];

        drbg.Fill(output);
        drbg.Fill(output);

        Assert.Equal(expected, Convert.ToHexString(output), ignoreCase: true);
    }

    [Fact]
    public void FromSeed_SameSeed_SameStream()
    {
        using var a = DeterministicRandomSource.FromSeed(42);
        using var b = DeterministicRandomSource.FromSeed(42);

        Assert.Equal(a.GetBytes(100), b.GetBytes(100));
        Assert.Equal(a.GetBytes(7), b.GetBytes(7));
    }

    [Fact]
    public void FromSeed_DifferentSeeds_DifferentStreams()
    {
        using var a = DeterministicRandomSource.FromSeed(1);
        using var b = DeterministicRandomSource.FromSeed(2);

        Assert.NotEqual(a.GetBytes(32), b.GetBytes(32));
    }

    [Fact]
    public void Fill_SuccessiveCalls_Differ()
    {
        using var drbg = DeterministicRandomSource.FromSeed(7);

        Assert.NotEqual(drbg.GetBytes(32), drbg.GetBytes(32));
    }

    [Fact]
    public void Generate_AdditionalInput_ChangesOutput()
    {
        using var a = DeterministicRandomSource.FromSeed(9);
        using var b = DeterministicRandomSource.FromSeed(9);
        var x = new byte[32];
        var y = new byte[32];

        a.Generate(x, default);
        b.Generate(y, [1, 2, 3]);

        Assert.NotEqual(x, y);
    }

    [Fact]
    public void Fill_LargeRequest_SplitsIntoGenerateCalls()
    {
        using var drbg = DeterministicRandomSource.FromSeed(3);
        var big = new byte[(1 << 16) + 100];

        drbg.Fill(big);

        Assert.Contains(big.AsSpan(1 << 16).ToArray(), b => b != 0);
    }

    [Fact]
    public void Fill_ConcurrentCallers_AllOutputsDistinct()
    {
        using var drbg = DeterministicRandomSource.FromSeed(11);
        var outputs = new string[64];

        Parallel.For(0, outputs.Length, i => outputs[i] = Convert.ToHexString(drbg.GetBytes(32)));

        Assert.Equal(outputs.Length, outputs.Distinct().Count());
    }

    [Fact]
    public void Fill_AfterDispose_Throws()
    {
        var drbg = DeterministicRandomSource.FromSeed(5);
        drbg.Dispose();

        Assert.Throws<ObjectDisposedException>(() => drbg.GetBytes(1));
    }

    [Fact]
    public void ToString_HidesState()
    {
        using var drbg = DeterministicRandomSource.FromSeed(5);

        Assert.DoesNotContain("0x", drbg.ToString(), StringComparison.Ordinal);
    }
}
