using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Xunit;
using Snapshooter.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

public sealed class ImaLogTests
{
    private static readonly byte[] BootAggregate = SHA256.HashData("boot aggregate"u8);
    private static readonly byte[] InitDigest = SHA256.HashData("/usr/lib/systemd/systemd"u8);

    [Fact]
    public void Parse_AsciiAndBinaryOfTheSameList_Agree()
    {
        var writer = SmallList();

        var ascii = ImaLog.Parse(Encoding.UTF8.GetBytes(writer.ToAscii()));
        var binary = ImaLog.Parse(writer.ToBinary());

        Assert.Equal(binary.Events.Count, ascii.Events.Count);
        for (var i = 0; i < ascii.Events.Count; i++)
        {
            AssertSameEntry(binary.Events[i], ascii.Events[i]);
        }

        Assert.Equal(binary.Replay(), ascii.Replay());
    }

    [Fact]
    public void Parse_Ascii_FillsTheFieldsOfEachTemplate()
    {
        var list = ImaLog.ParseAscii(Encoding.UTF8.GetBytes(SmallList().ToAscii()));

        Assert.Equal(["ima-ng", "ima-ng", "ima-sig", "ima-sig", "ima", "ima-ng"], list.Events.Select(e => e.TemplateName));
        Assert.Equal("boot_aggregate", list.Events[0].FileName);
        Assert.Equal("sha256", list.Events[0].FileDigestAlgorithm);
        Assert.Equal(BootAggregate, list.Events[0].FileDigest);
        Assert.Equal("/usr/lib/my app/with spaces", list.Events[2].FileName);
        Assert.Equal([0x03, 0x02, 0x04, 0xAB], list.Events[2].Signature);
        Assert.Equal("/etc/unsigned file", list.Events[3].FileName);
        Assert.Empty(list.Events[3].Signature!);
        Assert.Equal("sha1", list.Events[4].FileDigestAlgorithm);
        Assert.True(list.Events[5].IsViolation);
        Assert.All(list.Events.Take(5), e => Assert.True(e.TemplateHashMatches, e.FileName));
    }

    [Fact]
    public void TemplateHash_ImaNg_IsSha1OfTheLengthPrefixedFields()
    {
        // d-ng = "sha256:\0" ‖ digest, n-ng = name ‖ NUL, each after a little-endian u32 length.
        var dng = (byte[])[.. "sha256:\0"u8, .. BootAggregate];
        var nng = (byte[])[.. "boot_aggregate\0"u8];
        var data = (byte[])[.. BitConverter.GetBytes(dng.Length), .. dng, .. BitConverter.GetBytes(nng.Length), .. nng];

        var entry = ImaLog.ParseBinary(new ImaLogWriter().AddImaNg("boot_aggregate", "sha256", BootAggregate).ToBinary()).Events[0];

        Assert.Equal(data, entry.TemplateData);
        Assert.Equal(SHA1.HashData(data), entry.TemplateHash);
    }

    [Fact]
    public void TemplateHash_OriginalImaTemplate_HashesTheNameInA256OctetArea()
    {
        var fileDigest = SHA1.HashData("file"u8);
        var input = new byte[20 + 256];
        fileDigest.CopyTo(input, 0);
        "/bin/sh"u8.CopyTo(input.AsSpan(20));

        var entry = ImaLog.ParseBinary(new ImaLogWriter().AddIma("/bin/sh", fileDigest).ToBinary()).Events[0];

        Assert.Equal(SHA1.HashData(input), entry.TemplateHash);
        Assert.Equal(SHA256.HashData(input), entry.ComputeTemplateHash(TpmAlgId.Sha256));
        Assert.Equal(20 + 4 + 7, entry.TemplateData.Length);
    }

    [Fact]
    public void Replay_Sha1ExtendsTemplateHashesAndSha256ExtendsTheDataDigest()
    {
        var list = ImaLog.ParseBinary(new ImaLogWriter().AddImaNg("boot_aggregate", "sha256", BootAggregate).AddImaNg("/init", "sha256", InitDigest).ToBinary());

        var pcrs = list.Replay();

        var sha1 = SHA1.HashData([.. new byte[20], .. list.Events[0].TemplateHash]);
        sha1 = SHA1.HashData([.. sha1, .. list.Events[1].TemplateHash]);
        var sha256 = SHA256.HashData([.. new byte[32], .. SHA256.HashData(list.Events[0].TemplateData)]);
        sha256 = SHA256.HashData([.. sha256, .. SHA256.HashData(list.Events[1].TemplateData)]);
        Assert.Equal(sha1, pcrs[TpmAlgId.Sha1, 10]);
        Assert.Equal(sha256, pcrs[TpmAlgId.Sha256, 10]);
        Assert.Equal([10], pcrs.PcrsIn(TpmAlgId.Sha256));
    }

    // Independent vectors: three four-entry ASCII lists with the PCR 10 values an external Go
    // attestation client's tests expect (template hashes made by another implementation of the
    // kernel rules; the "ima" lines are the classic ld-2.9.so list). Found through public code
    // search; the values are checked here, not copied code.
    [Theory]
    [InlineData(
        "10 dd6ec4b71368cfe1d49756ba7cdf0260ae65472c ima 08b63c264eb87c8403cf87c57b3c3112de384e52 boot_aggregate\n" +
        "10 ef7a0aff83dd46603ebd13d1d789445365adb3b3 ima 0f8b3432535d5eab912ad3ba744507e35e3617c1 /init\n" +
        "10 247dba6fc82b346803660382d1973c019243e59f ima 747acb096b906392a62734916e0bb39cef540931 ld-2.9.so\n" +
        "10 341de30a46fa55976b26e55e0e19ad22b5712dcb ima 326045fc3d74d8c8b23ac8ec0a4d03fdacd9618a ld.so.cache\n",
        TpmAlgId.Sha1,
        "a5f9dc672a31a58c950d12a75fb15e7f2dc1633c")]
    [InlineData(
        "10 7df19938dd69f3d8e6c1d6b0b52978dca80facc0 ima-ng sha1:08b63c264eb87c8403cf87c57b3c3112de384e52 boot_aggregate\n" +
        "10 efe9f432379df6f9990187cd338f6ccc97126281 ima-ng sha1:0f8b3432535d5eab912ad3ba744507e35e3617c1 /init\n" +
        "10 56adff5cf88e8be8f2049c060d18855cc69bb19a ima-ng sha1:747acb096b906392a62734916e0bb39cef540931 ld-2.9.so\n" +
        "10 e314618c2f92bb9307d4f21037e6aad919784438 ima-ng sha1:326045fc3d74d8c8b23ac8ec0a4d03fdacd9618a ld.so.cache\n",
        TpmAlgId.Sha1,
        "e434f7f779eea9869380bea9f5f4ed75b079c82a")]
    [InlineData(
        "10 a5fee565ab35b4ea0c6cf9e2147d2a09debd1432 ima-ng sha256:8a19a149fc98679a18d0144569414452377128ba120156925ebaa4fffd55b69f boot_aggregate\n" +
        "10 19a6b9f6a597c95318540cc69ec1e2046c02359f ima-ng sha256:0f8b3432535d5eab912ad3ba744507e35e3617c10f8b3432535d5eab912ad3ba /init\n" +
        "10 55e549d23f371aca88fd0082d65fdee18316c984 ima-ng sha256:747acb096b906392a62734916e0bb39cef540931747acb096b906392a6273491 ld-2.9.so\n" +
        "10 6abe9359127dea2a47c055e0eba7485cdcf26f01 ima-ng sha256:326045fc3d74d8c8b23ac8ec0a4d03fdacd9618a326045fc3d74d8c8b23ac8ec ld.so.cache\n",
        TpmAlgId.Sha256,
        "9d7f5614ab14f6dbc6ee694084b05a3c37ede74993eb64f8a74471bbf94368e1")]
    public void Replay_ExternalVectorLists_GiveTheirPcr10(string ascii, TpmAlgId bank, string expectedPcr10)
    {
        var list = ImaLog.ParseAscii(Encoding.ASCII.GetBytes(ascii));

        Assert.All(list.Events, e => Assert.True(e.TemplateHashMatches, e.FileName));
        Assert.Equal(expectedPcr10, Convert.ToHexStringLower(list.Replay(bank)[bank, 10]));
    }

    [Fact]
    public void Replay_Violation_ExtendsAllOnes()
    {
        var list = ImaLog.ParseBinary(new ImaLogWriter().AddViolation("/var/log/opened-for-write").ToBinary());

        var pcrs = list.Replay(TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384);

        Assert.Equal(SHA1.HashData([.. new byte[20], .. Enumerable.Repeat((byte)0xFF, 20)]), pcrs[TpmAlgId.Sha1, 10]);
        Assert.Equal(SHA256.HashData([.. new byte[32], .. Enumerable.Repeat((byte)0xFF, 32)]), pcrs[TpmAlgId.Sha256, 10]);
        Assert.Equal(SHA384.HashData([.. new byte[48], .. Enumerable.Repeat((byte)0xFF, 48)]), pcrs[TpmAlgId.Sha384, 10]);
    }

    [Fact]
    public void TemplateHashMatches_TamperedAsciiFileName_IsFalse()
    {
        var ascii = SmallList().ToAscii().Replace("/usr/lib/systemd/systemd", "/usr/lib/systemd/evil-d", StringComparison.Ordinal);

        var list = ImaLog.ParseAscii(Encoding.UTF8.GetBytes(ascii));

        Assert.False(list.Events[1].TemplateHashMatches);
    }

    [Fact]
    public void ParseAscii_UnknownTemplate_ThrowsWithLine()
    {
        var ascii = SmallList().ToAscii() + $"10 {new string('1', 40)} ima-buf sha256:{new string('2', 64)} kexec-cmdline 6869\n";

        var e = Assert.Throws<EventLogFormatException>(() => ImaLog.ParseAscii(Encoding.UTF8.GetBytes(ascii)));

        Assert.Equal(6, e.Offset);
        Assert.Contains("ima-buf", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseBinary_UnknownTemplate_KeepsTheRawData()
    {
        var writer = new ImaLogWriter().AddImaNg("/a", "sha256", InitDigest);
        var binary = writer.ToBinary();
        var renamed = Encoding.ASCII.GetBytes("ima-xy");
        renamed.CopyTo(binary, 4 + 20 + 4);

        var entry = ImaLog.ParseBinary(binary).Events[0];

        Assert.Equal("ima-xy", entry.TemplateName);
        Assert.Null(entry.FileName);
        Assert.Equal(writer.Events[0].TemplateData, entry.TemplateData);
    }

    [Fact]
    public void Parse_AutoDetection_PicksTheForm()
    {
        var writer = SmallList();

        Assert.Equal(ImaLog.Parse(writer.ToBinary()).Replay(), ImaLog.Parse(Encoding.UTF8.GetBytes(writer.ToAscii())).Replay());
        Assert.Empty(ImaLog.Parse([]).Events);
    }

    [Fact]
    public void ParseBinary_TruncatedTemplateData_ThrowsWithOffset()
    {
        var binary = SmallList().ToBinary();

        var e = Assert.Throws<EventLogFormatException>(() => ImaLog.ParseBinary(binary.AsSpan(0, binary.Length - 1)));

        Assert.True(e.Offset > 0);
    }

    [Property(MaxTest = 500)]
    public void ParseBinary_AnyMutation_ParsesOrThrowsEventLogFormatException(NonNegativeInt position, byte value, NonNegativeInt cut)
    {
        var binary = SmallList().ToBinary();
        binary[position.Get % binary.Length] = value;

        try
        {
            ImaLog.ParseBinary(binary.AsSpan(0, binary.Length - (cut.Get % binary.Length))).Replay();
        }
        catch (EventLogFormatException)
        {
            // The one typed error.
        }
    }

    [Property(MaxTest = 500)]
    public void ParseAscii_AnyMutation_ParsesOrThrowsEventLogFormatException(NonNegativeInt position, byte value, NonNegativeInt cut)
    {
        var ascii = Encoding.UTF8.GetBytes(SmallList().ToAscii());
        ascii[position.Get % ascii.Length] = value;

        try
        {
            ImaLog.ParseAscii(ascii.AsSpan(0, ascii.Length - (cut.Get % ascii.Length))).Replay();
        }
        catch (EventLogFormatException)
        {
            // The one typed error.
        }
    }

    [Property(MaxTest = 200)]
    public void Parse_AnyOctets_ParsesOrThrowsEventLogFormatException(byte[] octets)
    {
        try
        {
            ImaLog.Parse(octets).Replay();
        }
        catch (EventLogFormatException)
        {
            // The one typed error.
        }
    }

    [Fact]
    public void Parse_SmallList_MatchesSnapshot()
    {
        var writer = SmallList();
        var list = ImaLog.ParseBinary(writer.ToBinary());

        Snapshot.Match(new
        {
            Ascii = writer.ToAscii().Split('\n', StringSplitOptions.RemoveEmptyEntries),
            Events = list.Events.Select(e => new
            {
                e.Offset,
                e.Pcr,
                e.TemplateName,
                TemplateHash = Convert.ToHexStringLower(e.TemplateHash),
                e.FileDigestAlgorithm,
                FileDigest = e.FileDigest is null ? null : Convert.ToHexStringLower(e.FileDigest),
                e.FileName,
                Signature = e.Signature is null ? null : Convert.ToHexStringLower(e.Signature),
                e.IsViolation,
                TemplateData = Convert.ToHexStringLower(e.TemplateData),
            }),
            Replay = list.Replay().ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries),
        });
    }

    internal static ImaLogWriter SmallList() => new ImaLogWriter()
        .AddImaNg("boot_aggregate", "sha256", BootAggregate)
        .AddImaNg("/usr/lib/systemd/systemd", "sha256", InitDigest)
        .AddImaSig("/usr/lib/my app/with spaces", "sha256", SHA256.HashData("app"u8), [0x03, 0x02, 0x04, 0xAB])
        .AddImaSig("/etc/unsigned file", "sha1", SHA1.HashData("unsigned"u8), [])
        .AddIma("/bin/sh", SHA1.HashData("sh"u8))
        .AddViolation("/var/log/opened-for-write");

    private static void AssertSameEntry(ImaEvent expected, ImaEvent actual)
    {
        Assert.Equal(expected.Pcr, actual.Pcr);
        Assert.Equal(expected.TemplateHash, actual.TemplateHash);
        Assert.Equal(expected.TemplateName, actual.TemplateName);
        Assert.Equal(expected.TemplateData, actual.TemplateData);
        Assert.Equal(expected.FileName, actual.FileName);
        Assert.Equal(expected.FileDigest, actual.FileDigest);
        Assert.Equal(expected.Signature, actual.Signature);
    }
}
