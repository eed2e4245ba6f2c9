using System.Buffers.Binary;
using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class SoftwareTpmTests
{
    [Fact]
    public void Startup_Twice_ReturnsInitialize()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 1 });
        var client = new Tpm2(tpm);
        client.Startup();
        var e = Assert.Throws<TpmException>(() => client.Startup());
        Assert.Equal(TpmRc.Initialize, e.ResponseCode);
    }

    [Fact]
    public void Execute_BeforeStartup_ReturnsInitialize()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 1 });
        Assert.Equal(TpmRc.Initialize, Rc(tpm.Execute(RawCommand(TpmSt.NoSessions, TpmCc.GetRandom, 0, 8))));
    }

    [Fact]
    public void Execute_AutoStartup_AcceptsCommandsAtOnce()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 1, AutoStartup = true });
        Assert.Equal(8, new Tpm2(tpm).GetRandom(8).Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    public void Execute_ShorterThanHeader_ReturnsCommandSize(int length)
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(TpmRc.CommandSize, Rc(tpm.Execute(new byte[length])));
    }

    [Fact]
    public void Execute_SizeFieldDisagrees_ReturnsCommandSize()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        var command = RawCommand(TpmSt.NoSessions, TpmCc.GetRandom, 0, 8);
        BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(2), 20);
        Assert.Equal(TpmRc.CommandSize, Rc(tpm.Execute(command)));
    }

    [Fact]
    public void Execute_WrongTag_ReturnsBadTag()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(TpmRc.BadTag, Rc(tpm.Execute(RawCommand((TpmSt)0x1234, TpmCc.GetRandom, 0, 8))));
    }

    [Fact]
    public void Execute_UnknownCommand_ReturnsCommandCode()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(TpmRc.CommandCode, Rc(tpm.Execute(RawCommand(TpmSt.NoSessions, (TpmCc)0x2000_0001))));
    }

    [Fact]
    public void Execute_TruncatedParameter_ReturnsInsufficientForParameter1()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Insufficient, 1), Rc(tpm.Execute(RawCommand(TpmSt.NoSessions, TpmCc.GetRandom, 0))));
    }

    [Fact]
    public void Execute_TrailingOctets_ReturnsSize()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), Rc(tpm.Execute(RawCommand(TpmSt.NoSessions, TpmCc.GetRandom, 0, 8, 9))));
    }

    [Fact]
    public void GetRandom_Deterministic_SameSeedSameBytes()
    {
        using var a = new SoftwareTpm(new SoftwareTpmOptions { Seed = 7, AutoStartup = true });
        using var b = new SoftwareTpm(new SoftwareTpmOptions { Seed = 7, AutoStartup = true });
        Assert.Equal(new Tpm2(a).GetRandom(32), new Tpm2(b).GetRandom(32));
    }

    [Fact]
    public void GetRandom_MoreThan64_ReturnsAtMost64()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        Assert.Equal(64, new Tpm2(tpm).GetRandom(500).Length);
    }

    [Fact]
    public void Startup_StateWithoutShutdownState_ReturnsValueParameter1()
    {
        using var tpm = new SoftwareTpm();
        var e = Assert.Throws<TpmException>(() => new Tpm2(tpm).Startup(TpmSu.State));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), e.ResponseCode);
    }

    [Fact]
    public void Constructor_CorruptStateFile_ThrowsNamingTheFile()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-state-");
        try
        {
            using (var tpm = new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = dir.FullName, Seed = 3 }))
            {
            }

            var file = Path.Combine(dir.FullName, "tpm-state.bin");
            var bytes = File.ReadAllBytes(file);
            bytes[20] ^= 0xFF;
            File.WriteAllBytes(file, bytes);
            var e = Assert.Throws<TpmStateException>(() => new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = dir.FullName }));
            Assert.Equal(file, e.Path);
            Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Constructor_ExistingState_KeepsResetCount()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-state-");
        try
        {
            using (var tpm = new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = dir.FullName, AutoStartup = true }))
            {
                Assert.Equal(1u, tpm.State.ResetCount);
            }

            using var again = new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = dir.FullName, AutoStartup = true });
            Assert.Equal(2u, again.State.ResetCount);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void FromState_ExportedImage_KeepsSeedsPersistentObjectsAndClockCounters()
    {
        byte[] image;
        byte[] ekName;
        using (var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true }))
        {
            var client = new Tpm2(tpm);
            var ek = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
            ekName = ek.Name;
            client.EvictControl(TpmRh.Owner, ek.Handle, 0x81010001);
            image = tpm.ExportState();
        }

        using var restored = SoftwareTpm.FromState(image, new SoftwareTpmOptions { AutoStartup = true });
        var again = new Tpm2(restored);
        Assert.Equal(ekName, again.ReadPublic(0x81010001).Name);
        Assert.Equal(ekName, again.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256()).Name);
        Assert.Equal(2u, restored.State.ResetCount);
    }

    [Fact]
    public void FromState_TamperedImage_ThrowsTpmStateException()
    {
        byte[] image;
        using (var tpm = new SoftwareTpm())
        {
            image = tpm.ExportState();
        }

        image[20] ^= 0xFF;
        var e = Assert.Throws<TpmStateException>(() => SoftwareTpm.FromState(image));
        Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromState_WithStateDirectory_ThrowsArgumentException()
    {
        byte[] image;
        using (var tpm = new SoftwareTpm())
        {
            image = tpm.ExportState();
        }

        Assert.Throws<ArgumentException>(() => SoftwareTpm.FromState(image, new SoftwareTpmOptions { StateDirectory = "/tmp/x" }));
    }

    [Fact]
    public void ExportState_SameAsStateFile()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-state-");
        try
        {
            using var tpm = new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = dir.FullName, Seed = 5 });
            tpm.Save();
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir.FullName, "tpm-state.bin")), tpm.ExportState());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
