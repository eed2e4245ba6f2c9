using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;

namespace TrustStack.Tpm.Hardware.Tests;

/// <summary>
/// The README's code is compiled and run here; a second test checks that the README still shows
/// exactly this code (between the snippet markers), so the documentation cannot rot.
/// </summary>
public sealed partial class ReadmeSnippetTests
{
    [Fact]
    public void DiComposition_QuoteVerifies()
    {
        // begin-snippet: di-composition
        var services = new ServiceCollection()
            .AddTpmHardware(tpm => tpm.Seed = 42);          // the embedded software TPM, deterministic
        using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<Tpm2>();    // typed TPM 2.0 client over ITpmTransport

        client.PcrExtend(16, TpmAlgId.Sha256, SHA256.HashData("my component"u8));
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var selection = PcrSelectionList.Create(TpmAlgId.Sha256, 16);
        var nonce = RandomNumberGenerator.GetBytes(32);
        var quote = client.Quote(ak.Handle, nonce, selection);

        var pcrs = client.PcrReadAll(selection);
        var result = QuoteVerifier.Verify(new QuoteVerificationRequest(
            ak.Public, quote.Quoted, quote.Signature, nonce,
            PcrValues.Create(pcrs.Select(p => (p.Key.Bank, p.Key.Pcr, p.Value)))));
        Console.WriteLine(result.IsValid ? "quote verified" : string.Join("; ", result.Failures));
        // end-snippet

        Assert.True(result.IsValid, string.Join("; ", result.Failures));
    }

    [Fact]
    public void EncryptedState_ReopensWithTheKey()
    {
        var stateDirectory = Path.Combine(Path.GetTempPath(), $"truststack-readme-{Guid.NewGuid():N}");
        var keyFile = stateDirectory + ".key";
        File.WriteAllText(keyFile, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
        try
        {
            for (var run = 0; run < 2; run++)
            {
                // begin-snippet: encrypted-state
                using var key = TpmStateKey.FromFile(keyFile);        // 32 octets, raw or hex (openssl rand -hex 32)
                using var tpm = new SoftwareTpm(new SoftwareTpmOptions
                {
                    StateDirectory = stateDirectory,                    // owned by this engine; 0700, files 0600
                    StateEncryptionKey = key,                           // AES-256-GCM at rest; the engine keeps a copy
                    AutoStartup = true,
                });
                // end-snippet
                Assert.Equal(8, new Tpm2(tpm).GetRandom(8).Length);
            }

            Assert.Equal("TSTPMSE1"u8.ToArray(), File.ReadAllBytes(Path.Combine(stateDirectory, "tpm-state.bin"))[..8]);
        }
        finally
        {
            Directory.Delete(stateDirectory, recursive: true);
            File.Delete(keyFile);
        }
    }

    [Fact]
    public async Task SocketTimeouts_CommandSentOnce()
    {
        using var engine = new SoftwareTpm(new SoftwareTpmOptions { Seed = 5, AutoStartup = true });
        var server = new SwtpmSocketServer(engine);
        server.Start();
        var port = server.Port;
        const uint counter = 0x0150_0099;
        new Tpm2(engine).NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(counter, TpmAlgId.Sha256, TpmaNv.OwnerRead | TpmaNv.OwnerWrite | TpmaNv.TypeCounter, [], 8), []);
        var mayHaveRun = false;
        try
        {
            // begin-snippet: socket-timeouts
            var timeouts = new TpmSocketTimeouts { Response = TimeSpan.FromSeconds(30) };
            using var swtpm = new SwtpmSocketTransport("127.0.0.1", port, controlPort: null, timeouts);
            try
            {
                new Tpm2(swtpm).NvIncrement(TpmRh.Owner, counter);
            }
            catch (TpmTransportException e) when (e.CommandMayHaveExecuted)
            {
                // Not sent again: read the counter before deciding to retry.
                mayHaveRun = true;
            }
            // end-snippet
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.False(mayHaveRun);
        Assert.Equal(1UL, System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(new Tpm2(engine).NvRead(TpmRh.Owner, counter, 8)));
    }

    [Fact]
    public void Readme_ShowsTheCompiledSnippetsVerbatim()
    {
        var root = FindRepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        var source = File.ReadAllText(Path.Combine(root, "tests", "Tpm.Hardware.Tests", "ReadmeSnippetTests.cs")).ReplaceLineEndings("\n");
        Assert.Contains(Snippet(source, "di-composition"), readme, StringComparison.Ordinal);

        var sample = File.ReadAllText(Path.Combine(root, "samples", "QuoteConsumer", "Program.cs")).ReplaceLineEndings("\n");
        Assert.Contains(sample.Trim(), readme, StringComparison.Ordinal);
    }

    [Fact]
    public void PackageReadme_ShowsTheSnippetAndListsExactlyTheImplementedCommands()
    {
        var root = FindRepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(root, "packages", "Tpm.Hardware", "README.md")).ReplaceLineEndings("\n");
        var source = File.ReadAllText(Path.Combine(root, "tests", "Tpm.Hardware.Tests", "ReadmeSnippetTests.cs")).ReplaceLineEndings("\n");
        Assert.Contains(Snippet(source, "di-composition"), readme, StringComparison.Ordinal);
        Assert.Contains(Snippet(source, "encrypted-state"), readme, StringComparison.Ordinal);
        Assert.Contains(Snippet(source, "socket-timeouts"), readme, StringComparison.Ordinal);

        var start = readme.IndexOf("### Implemented commands", StringComparison.Ordinal);
        var end = readme.IndexOf("Not implemented", start, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "the README has no 'Implemented commands' section");
        var listed = CommandCode().Matches(readme[start..end]).Select(m => (TpmCc)Convert.ToUInt32(m.Groups[1].Value, 16)).ToList();
        using var tpm = new SoftwareTpm();

        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.Equal(tpm.ImplementedCommands.Order(), listed.Order());
    }

    [GeneratedRegex(@"\(0x([0-9A-F]{8})\)")]
    private static partial Regex CommandCode();

    private static string Snippet(string source, string name)
    {
        var match = Regex.Match(source, $@"// begin-snippet: {name}\n(?<body>.*?)\n[ ]*// end-snippet", RegexOptions.Singleline);
        Assert.True(match.Success, $"snippet {name} not found");
        var lines = match.Groups["body"].Value.Split('\n');
        var indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "TrustStack.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("TrustStack.sln not found above the test assembly");
    }
}
