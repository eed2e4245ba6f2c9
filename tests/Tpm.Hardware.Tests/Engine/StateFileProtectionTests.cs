using System.Text;
using Microsoft.Extensions.Logging;
using TrustStack.Tpm.Hardware.Tests.Transport;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

/// <summary>
/// Finding 11 of issue 19 for the engine's own state: files created owner-only (0600, temporary
/// file too) in owner-only folders (0700), and the state file encrypted at rest (AES-256-GCM,
/// header authenticated) when a key is given — a wrong key or an altered file is a clear
/// TpmStateException, never a silent reset, and an older clear file still loads.
/// </summary>
public sealed class StateFileProtectionTests : IDisposable
{
    private const uint Index = 0x0150_0031;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private static readonly byte[] Secret = "a-very-recognisable-nv-secret!!!"u8.ToArray();
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("truststack-statefile-");

    private string Dir => Path.Combine(_root.FullName, "state");

    private string StateFile => Path.Combine(Dir, "tpm-state.bin");

    public void Dispose() => _root.Delete(recursive: true);

    // --- permissions -----------------------------------------------------------------------

    [Fact]
    public void Constructor_NewFolder_FolderIs0700AndStateFile0600()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using (var tpm = Open())
        {
            WriteSecret(tpm);
        }

        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(Dir));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(StateFile));
        Assert.False(File.Exists(StateFile + ".tmp"));
    }

    [Fact]
    public void Save_StaleWorldReadableTempFile_StateFileIsStillOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // A crash between create and rename leaves tpm-state.bin.tmp; if it was world-readable,
        // reusing it would make the next state file (the seeds) world-readable too.
        using (Open())
        {
        }

        File.WriteAllText(StateFile + ".tmp", "left by a crash");
        File.SetUnixFileMode(StateFile + ".tmp", OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
        using (var tpm = Open())
        {
            WriteSecret(tpm);
        }

        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(StateFile));
    }

    [Fact]
    public void Constructor_OldWorldReadableStateFile_IsMadeOwnerOnlyAndSaysSo()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using (Open())
        {
        }

        File.SetUnixFileMode(StateFile, OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var log = new ListLogger<SoftwareTpm>();
        using (Open(logger: log))
        {
            Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(StateFile));
        }

        Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Text.Contains("mode 0644", StringComparison.Ordinal));
    }

    [Fact]
    public void Constructor_FolderOpenToOthers_WarnsNamingTheMode()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        Directory.CreateDirectory(Dir);
        File.SetUnixFileMode(Dir, OwnerOnlyFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var log = new ListLogger<SoftwareTpm>();
        using (Open(logger: log))
        {
        }

        Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Text.Contains("open to other users (mode 0755)", StringComparison.Ordinal));
    }

    // --- encryption at rest ----------------------------------------------------------------

    [Fact]
    public void Constructor_WithStateKey_FileIsEncryptedAndReopensWithTheKey()
    {
        using var key = TpmStateKey.Generate();
        using (var tpm = Open(key))
        {
            WriteSecret(tpm);
        }

        var file = File.ReadAllBytes(StateFile);
        Assert.Equal("TSTPMSE1"u8.ToArray(), file[..8]);
        Assert.Equal(key.KeyId.ToArray(), file[10..18]);
        Assert.DoesNotContain("TSTPMST1", Encoding.Latin1.GetString(file), StringComparison.Ordinal);
        Assert.DoesNotContain(Encoding.Latin1.GetString(Secret), Encoding.Latin1.GetString(file), StringComparison.Ordinal);

        using var again = Open(key);
        Assert.Equal(Secret, new Tpm2(again).NvRead(TpmRh.Owner, Index, (ushort)Secret.Length));
    }

    [Fact]
    public void Constructor_WithStateKey_EveryNvWriteIsSavedEncryptedAtOnce()
    {
        // Durability is unchanged: the file on disk after the command (as after kill -9, before
        // any dispose) already holds the write, encrypted.
        using var key = TpmStateKey.Generate();
        using var tpm = Open(key);
        WriteSecret(tpm);
        var copy = Path.Combine(_root.FullName, "copy");
        Directory.CreateDirectory(copy);
        File.Copy(StateFile, Path.Combine(copy, "tpm-state.bin"));

        using var fromCopy = new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = copy, AutoStartup = true, StateEncryptionKey = key });
        Assert.Equal(Secret, new Tpm2(fromCopy).NvRead(TpmRh.Owner, Index, (ushort)Secret.Length));
    }

    [Fact]
    public void Constructor_WrongKey_ThrowsTpmStateExceptionAndLeavesTheFile()
    {
        using (var key = TpmStateKey.Generate())
        using (var tpm = Open(key))
        {
            WriteSecret(tpm);
        }

        var before = File.ReadAllBytes(StateFile);
        using var wrong = TpmStateKey.Generate();
        var e = Assert.Throws<TpmStateException>(() => Open(wrong));

        Assert.Equal(StateFile, e.Path);
        Assert.Contains("encrypted under another key", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(StateFile));
    }

    [Theory]
    [InlineData(8)]   // version
    [InlineData(12)]  // key id
    [InlineData(20)]  // nonce
    [InlineData(40)]  // ciphertext
    [InlineData(-1)]  // tag
    public void Constructor_AlteredEncryptedFile_ThrowsTpmStateException(int offset)
    {
        using var key = TpmStateKey.Generate();
        using (var tpm = Open(key))
        {
            WriteSecret(tpm);
        }

        var file = File.ReadAllBytes(StateFile);
        file[offset < 0 ? file.Length + offset : offset] ^= 0x01;
        File.WriteAllBytes(StateFile, file);

        var e = Assert.Throws<TpmStateException>(() => Open(key));
        Assert.Matches("version|another key|authentication failed", e.Message);
        Assert.Equal(file, File.ReadAllBytes(StateFile));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(40)]
    [InlineData(-1)]
    public void Constructor_TruncatedEncryptedFile_ThrowsTpmStateException(int length)
    {
        using var key = TpmStateKey.Generate();
        using (Open(key))
        {
        }

        var file = File.ReadAllBytes(StateFile);
        File.WriteAllBytes(StateFile, file[..(length < 0 ? file.Length + length : length)]);

        var e = Assert.Throws<TpmStateException>(() => Open(key));
        Assert.Matches("truncated|authentication failed", e.Message);
    }

    [Fact]
    public void Constructor_EncryptedFileWithoutAKey_ThrowsSayingItIsEncrypted()
    {
        using (var key = TpmStateKey.Generate())
        using (Open(key))
        {
        }

        var e = Assert.Throws<TpmStateException>(() => Open());
        Assert.Contains("it is encrypted (AES-256-GCM): give its key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_UnencryptedOldFileWithAKey_LoadsSaysSoAndEncryptsIt()
    {
        using (var tpm = Open())
        {
            WriteSecret(tpm);
        }

        Assert.Equal("TSTPMST1"u8.ToArray(), File.ReadAllBytes(StateFile)[..8]);
        using var key = TpmStateKey.Generate();
        var log = new ListLogger<SoftwareTpm>();
        using (var tpm = Open(key, log))
        {
            Assert.Equal(Secret, new Tpm2(tpm).NvRead(TpmRh.Owner, Index, (ushort)Secret.Length));
            Assert.Equal("TSTPMSE1"u8.ToArray(), File.ReadAllBytes(StateFile)[..8]);
        }

        Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Text.Contains("was not encrypted", StringComparison.Ordinal));
    }

    [Fact]
    public void Constructor_CallerDisposesItsKeyHolder_EngineKeepsItsCopy()
    {
        var key = TpmStateKey.Generate();
        using var copyOfKey = KeyCopy(key);
        using (var tpm = Open(key))
        {
            key.Dispose();
            WriteSecret(tpm);
        }

        using var again = Open(copyOfKey);
        Assert.Equal(Secret, new Tpm2(again).NvRead(TpmRh.Owner, Index, (ushort)Secret.Length));
    }

    [Fact]
    public void Validate_KeyWithoutStateDirectory_Throws()
    {
        using var key = TpmStateKey.Generate();
        Assert.Throws<ArgumentException>(() => new SoftwareTpm(new SoftwareTpmOptions { StateEncryptionKey = key }));
    }

    [Fact]
    public void Constructor_PowerCycle_WritesTheEncryptedForm()
    {
        using var key = TpmStateKey.Generate();
        using var tpm = Open(key);
        tpm.PowerOff();
        Assert.Equal("TSTPMSE1"u8.ToArray(), File.ReadAllBytes(StateFile)[..8]);
        tpm.PowerOn();
    }

    // --- key files -------------------------------------------------------------------------

    [Fact]
    public void FromFile_RawAndHexForms_GiveTheSameKey()
    {
        var raw = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var rawFile = Path.Combine(_root.FullName, "raw.key");
        var hexFile = Path.Combine(_root.FullName, "hex.key");
        File.WriteAllBytes(rawFile, raw);
        File.WriteAllText(hexFile, Convert.ToHexStringLower(raw) + "\n");

        using var a = TpmStateKey.FromFile(rawFile);
        using var b = TpmStateKey.FromFile(hexFile);
        Assert.Equal(a.KeyId.ToArray(), b.KeyId.ToArray());
        Span<byte> copy = stackalloc byte[32];
        b.CopyTo(copy);
        Assert.Equal(raw, copy.ToArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("00ff")]
    [InlineData("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")]
    public void FromFile_NotAKey_ThrowsFormatExceptionSayingHowToMakeOne(string content)
    {
        var file = Path.Combine(_root.FullName, "bad.key");
        File.WriteAllText(file, content);
        var e = Assert.Throws<FormatException>(() => TpmStateKey.FromFile(file));
        Assert.Contains("openssl rand -hex 32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_ShowsTheKeyIdNeverTheKey()
    {
        var raw = Enumerable.Repeat((byte)0xAB, 32).ToArray();
        using var key = TpmStateKey.FromBytes(raw);
        Assert.DoesNotContain("abab", key.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains(Convert.ToHexStringLower(key.KeyId.Span), key.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Open_EmbeddedSpecWithStateKey_EncryptsTheStateFile()
    {
        var keyFile = Path.Combine(_root.FullName, "state.key");
        File.WriteAllText(keyFile, Convert.ToHexStringLower(Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray()));
        using (var transport = TpmTransportSpec.Parse($"embedded:state={Dir},state-key={keyFile}").Open())
        {
            WriteSecret((SoftwareTpm)transport);
        }

        Assert.Equal("TSTPMSE1"u8.ToArray(), File.ReadAllBytes(StateFile)[..8]);
        Assert.Throws<TpmStateException>(() => TpmTransportSpec.Parse($"embedded:state={Dir}").Open().Dispose());
    }

    // --- helpers ---------------------------------------------------------------------------

    private SoftwareTpm Open(TpmStateKey? key = null, ILogger<SoftwareTpm>? logger = null) =>
        new(new SoftwareTpmOptions { StateDirectory = Dir, AutoStartup = true, StateEncryptionKey = key }, logger: logger);

    private static void WriteSecret(SoftwareTpm tpm)
    {
        var client = new Tpm2(tpm);
        client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(Index, TpmAlgId.Sha256, TpmaNv.OwnerRead | TpmaNv.OwnerWrite, [], (ushort)Secret.Length), []);
        client.NvWrite(TpmRh.Owner, Index, Secret);
    }

    private static TpmStateKey KeyCopy(TpmStateKey key)
    {
        Span<byte> bytes = stackalloc byte[32];
        key.CopyTo(bytes);
        var copy = TpmStateKey.FromBytes(bytes);
        bytes.Clear();
        return copy;
    }
}
