using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace TrustStack.Tpm.Hardware.Tests;

public class TpmKdfTests
{
    // ms-tpm-20-ref TPMCmd/tpm/include/KdfTestData.h: the KDFa self-test (key, label
    // "KDFSELFTESTLABEL\0", contextU, contextV, 160 bits) and its expected output per hash.
    private static readonly byte[] MsTpmKey = Convert.FromHexString("271FA08BBDC5060EC3DFA928FF9B73123A12DA0C");
    private static readonly byte[] MsTpmContextU = Convert.FromHexString("CE244F395DCA7391");
    private static readonly byte[] MsTpmContextV = Convert.FromHexString("DA504031DDF12E83");

    [Theory]
    [InlineData(TpmAlgId.Sha1, "55b5a7184aa07423c47dae766c26a2377d7cf851")]
    [InlineData(TpmAlgId.Sha256, "bb0259e1c8ba607e6a2cd704b69a902e9ade84c4")]
    [InlineData(TpmAlgId.Sha384, "1dce70c9113eb2dba47bd9cfc72bf46f45b09312")]
    [InlineData(TpmAlgId.Sha512, "8be2c1b85b78569b9fa759f5857c56d684810fd3")]
    public void KdfA_MsTpm20RefSelfTestVector_Matches(TpmAlgId hash, string expected)
    {
        var result = TpmKdf.KdfA(hash, MsTpmKey, "KDFSELFTESTLABEL", MsTpmContextU, MsTpmContextV, 160);

        Assert.Equal(expected, Convert.ToHexString(result), ignoreCase: true);
    }

    [Fact]
    public void KdfA_LabelWithExplicitNul_SameAsWithout()
    {
        var implicitNul = TpmKdf.KdfA(TpmAlgId.Sha256, MsTpmKey, "STORAGE", MsTpmContextU, [], 128);
        var explicitNul = TpmKdf.KdfA(TpmAlgId.Sha256, MsTpmKey, "STORAGE\0", MsTpmContextU, [], 128);

        Assert.Equal(implicitNul, explicitNul);
    }

    [Theory]
    [InlineData(TpmAlgId.Sha1, 0)]
    [InlineData(TpmAlgId.Sha1, 7)]
    [InlineData(TpmAlgId.Sha1, 160)]
    [InlineData(TpmAlgId.Sha1, 161)]
    [InlineData(TpmAlgId.Sha256, 1)]
    [InlineData(TpmAlgId.Sha256, 128)]
    [InlineData(TpmAlgId.Sha256, 255)]
    [InlineData(TpmAlgId.Sha256, 256)]
    [InlineData(TpmAlgId.Sha256, 1000)]
    [InlineData(TpmAlgId.Sha384, 389)]
    [InlineData(TpmAlgId.Sha512, 1030)]
    public void KdfA_AnyLength_MatchesStraightforwardImplementation(TpmAlgId hash, int bits)
    {
        var key = Encoding.ASCII.GetBytes("a key of some length");
        var u = Convert.FromHexString("0102030405");
        var v = Convert.FromHexString("AABBCC");

        var result = TpmKdf.KdfA(hash, key, "XOR", u, v, bits);

        Assert.Equal(ReferenceKdfA(hash, key, "XOR", u, v, bits), result);
    }

    [Fact]
    public void KdfA_PartialOctet_MasksHighBitsOfFirstOctet()
    {
        var result = TpmKdf.KdfA(TpmAlgId.Sha256, MsTpmKey, "L", [], [], 12);

        Assert.Equal(2, result.Length);
        Assert.Equal(0, result[0] & 0xF0);
    }

    [Fact]
    public void KdfA_DestinationOverload_MatchesArrayOverload()
    {
        Span<byte> destination = stackalloc byte[40];

        TpmKdf.KdfA(TpmAlgId.Sha384, MsTpmKey, "INTEGRITY", [], [], 320, destination);

        Assert.Equal(TpmKdf.KdfA(TpmAlgId.Sha384, MsTpmKey, "INTEGRITY", [], [], 320), destination.ToArray());
    }

    [Fact]
    public void KdfA_WrongDestinationLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => TpmKdf.KdfA(TpmAlgId.Sha256, MsTpmKey, "L", [], [], 128, new byte[15]));
    }

    [Fact]
    public void KdfA_NegativeBits_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TpmKdf.KdfA(TpmAlgId.Sha256, MsTpmKey, "L", [], [], -1));
    }

    [Fact]
    public void KdfA_UnsupportedHash_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TpmKdf.KdfA(TpmAlgId.Sm3256, MsTpmKey, "L", [], [], 128));
    }

    // chrisfenner/tpm-test-vectors vectors/kdfe.json (generated with go-tpm and checked against a TPM simulator).
    [Theory]
    [InlineData("00_SHA1_111", TpmAlgId.Sha1, "beefefba63c91e8eb318785c374600", "ATH", "ff8318b65e46b3", "32aa861b336c991a52b15c0c72889895e8cad4ff", 111, "123decb8050fca8d6585f61946e2")]
    [InlineData("04_SHA1_253", TpmAlgId.Sha1, "", "STORAGE", "", "c0227aff", 253, "0f10d821af67e1ec776b390f3b4572bb433efd2b94fa7842d879d24d825ed2f9")]
    [InlineData("22_SHA1_7", TpmAlgId.Sha1, "356f9d00d61b54cf010580b1755d1975905c00", "CFB", "006c5c2bcdd650f6c836dba98c4734", "8849bd3d05d69f", 7, "58")]
    [InlineData("30_SHA256_109", TpmAlgId.Sha256, "c3e3c34e82ccfa82d8999bf2635bb7cd01f3d65f03ff", "CFB", "55576a51c0e45b86557535e9ea50d5e7f4a80bb426e7ff", "dffdece923181dc335c1e936ff", 109, "1106264c89948737c140d2f5b40e")]
    [InlineData("31_SHA256_13", TpmAlgId.Sha256, "739245447ead0deea5f834f06e043159c6ff", "IDENTITY", "ad503e36c2314ec9afa2f4047bf19ce7fbc6fe2def32c58459c0fc828c00", "ba6dd80b788034161743c95e8ef7a9486fbd69d3ff", 13, "0956")]
    [InlineData("37_SHA256_431", TpmAlgId.Sha256, "e89fc5304cf46c1cf7d1f5de5d3d1ec7eddc80b0386700", "SECRET", "e602bc959fd97af0405649e0c80e02e9dd64e9d79e698292b043c79dfa9f9261", "", 431, "3a8e893b8b76cdddbf87845b2567fa7152577829f6a55b73cb82d4a1f0342a051d6e50e20ec2f96bc4de38d7d0d79a9caf99e1d574b9")]
    [InlineData("43_SHA256_59", TpmAlgId.Sha256, "ff", "CFB", "06579b559c31d03d5b180c1c66de6ae998f2", "19c9c896a8a4c3976fda215f2f1b408a5cbee066d115e5a009ff", 59, "073c247e3fcb57b9")]
    [InlineData("53_SHA384_1", TpmAlgId.Sha384, "ffffa7ff65fe5f1357df95d3a7ec5a6c5519963b8a6086c89f289b80c039e8eaabf136", "ATH", "b3c402f9bf969dae90efefb297f4852f7edb", "ffca1be2402405eab6741da32ec8d6348934c64c3bbeed44b4", 1, "00")]
    [InlineData("54_SHA384_12", TpmAlgId.Sha384, "d3752788fb54bf2c0c91e2698117157b3e4507c64c337746177cb3dded582edd62c2151ff91a5ade73f877cb315fff", "DUPLICATE", "0062b7bc996f0ac1c9836ba8bd31d1d5a5608cea46f9080a179f309b4adf94a8ebef4fecf67f", "ffc03109c3f0d4c78b82d2562442071d3d90bb", 12, "0d2c")]
    [InlineData("55_SHA384_133", TpmAlgId.Sha384, "b53dfac9155409c1479600", "STORAGE", "00456e4f18d91cf140fb5aa3c93553aae61e5424e945a94cb77b1747f34d", "00384c4d9f30a334abea3230fcb16c5460819c57fd7c", 133, "0935e9f44383ba2d6a7b5cb5782b5b6dbf")]
    [InlineData("72_SHA384_79", TpmAlgId.Sha384, "67d2210f344df271e1c960d595814c4aeb9706c24aa42d2d97914d1bd1452b54ec69a42d07", "STORAGE", "d3e7df7d31ef352ce0214cc940f4703488621339fa87eb2cb872093cbc00", "5ea33fdb57e2e9649e5be68cf9643c58d6da596c9f", 79, "32c262b6c9fec57cf217")]
    public void KdfE_TpmTestVectors_Match(string name, TpmAlgId hash, string z, string use, string partyU, string partyV, int bits, string expected)
    {
        var result = TpmKdf.KdfE(hash, Convert.FromHexString(z), use, Convert.FromHexString(partyU), Convert.FromHexString(partyV), bits);

        Assert.True(expected.Equals(Convert.ToHexString(result), StringComparison.OrdinalIgnoreCase), name);
    }

    [Theory]
    [InlineData(TpmAlgId.Sha1, 700)]
    [InlineData(TpmAlgId.Sha256, 256)]
    [InlineData(TpmAlgId.Sha256, 517)]
    [InlineData(TpmAlgId.Sha384, 384)]
    public void KdfE_AnyLength_MatchesStraightforwardImplementation(TpmAlgId hash, int bits)
    {
        var z = Convert.FromHexString("00112233445566778899");
        var u = Convert.FromHexString("0102");
        var v = Convert.FromHexString("A0A1A2A3");

        Assert.Equal(ReferenceKdfE(hash, z, "SECRET", u, v, bits), TpmKdf.KdfE(hash, z, "SECRET", u, v, bits));
    }

    // SP 800-108 counter mode written out the obvious way, one HMAC object per block.
    private static byte[] ReferenceKdfA(TpmAlgId hash, byte[] key, string label, byte[] u, byte[] v, int bits)
    {
        var output = new List<byte>();
        for (uint i = 1; output.Count < (bits + 7) / 8; i++)
        {
            var message = new List<byte>();
            message.AddRange(BigEndian(i));
            message.AddRange(Encoding.ASCII.GetBytes(label));
            message.Add(0);
            message.AddRange(u);
            message.AddRange(v);
            message.AddRange(BigEndian((uint)bits));
            using var hmac = IncrementalHash.CreateHMAC(TpmHash.Name(hash), key);
            hmac.AppendData(message.ToArray());
            output.AddRange(hmac.GetHashAndReset());
        }

        var result = output.Take((bits + 7) / 8).ToArray();
        if (bits % 8 != 0)
        {
            result[0] &= (byte)(0xFF >> (8 - (bits % 8)));
        }

        return result;
    }

    private static byte[] ReferenceKdfE(TpmAlgId hash, byte[] z, string label, byte[] u, byte[] v, int bits)
    {
        var output = new List<byte>();
        for (uint i = 1; output.Count < (bits + 7) / 8; i++)
        {
            var message = BigEndian(i).Concat(z).Concat(Encoding.ASCII.GetBytes(label)).Append((byte)0).Concat(u).Concat(v).ToArray();
            output.AddRange(TpmHash.Hash(hash, message));
        }

        var result = output.Take((bits + 7) / 8).ToArray();
        if (bits % 8 != 0)
        {
            result[0] &= (byte)(0xFF >> (8 - (bits % 8)));
        }

        return result;
    }

    private static byte[] BigEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}
