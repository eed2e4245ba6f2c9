using System.CommandLine;
using TrustStack.Tests.Shared;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Tests;

/// <summary><c>truststack quote verify</c> on real tpm2-tools output.</summary>
public sealed class QuoteVerifyCommandTests(TpmToolsQuoteFiles files) : IClassFixture<TpmToolsQuoteFiles>
{
    [Fact]
    public void Verify_TpmToolsSerializedQuote_ExitsZeroAndPrintsEachCheck()
    {
        var (code, output, error) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", TpmToolsQuoteFiles.NonceHex, "--pcr-list", TpmToolsQuoteFiles.PcrList);

        Assert.True(code == 0, output + error);
        foreach (var check in new[] { "Structure", "Magic", "Type", "Nonce", "Signature", "PcrSelection", "PcrDigest" })
        {
            Assert.Matches($"(?m)^{check} +ok ", output);
        }

        Assert.EndsWith("quote: valid\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Empty(error);
    }

    [Fact]
    public void Verify_PemKeyPlainSignatureValuesPcrs_ExitsZero()
    {
        var (code, output, error) = Invoke("quote", "verify", "-u", files.PathOf("ak.pub"), "-m", files.PathOf("plain.msg"), "-s", files.PathOf("plain.sig"), "-f", files.PathOf("pcrs.val"), "-F", "values", "-q", TpmToolsQuoteFiles.NonceHex);

        Assert.True(code == 0, output + error);
        Assert.Matches("(?m)^PcrSelection +skipped ", output);
    }

    [Fact]
    public void Verify_WrongNonce_ExitsOneWithTheReason()
    {
        var (code, output, _) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", "00" + TpmToolsQuoteFiles.NonceHex);

        Assert.Equal(1, code);
        Assert.Contains("quote: INVALID", output, StringComparison.Ordinal);
        Assert.Matches("(?m)^  - Nonce: extraData a1b2c3d4", output);
    }

    [Fact]
    public void Verify_PcrsOfTheOtherQuoteWithOtherSelection_ExitsOne()
    {
        var (code, output, _) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", TpmToolsQuoteFiles.NonceHex, "--pcr-list", "sha256:0,1,7");

        Assert.Equal(1, code);
        Assert.Matches("(?m)^PcrSelection +FAILED ", output);
    }

    [Fact]
    public void Verify_BadHexNonce_ExitsTwoWithMessageOnStderr()
    {
        var (code, output, error) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", "xyz");

        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Contains("--nonce 'xyz' is not hex", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_MissingFile_ExitsTwo()
    {
        var (code, _, error) = Invoke("quote", "verify", "--public", files.PathOf("no-such.pub"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", "00");

        Assert.Equal(2, code);
        Assert.Contains("no-such.pub", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_MissingOption_ExitsTwo()
    {
        var (code, _, error) = Invoke("quote", "verify", "--message", files.PathOf("quote.msg"));

        Assert.Equal(2, code);
        Assert.Contains("--public is required", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ValuesFileReadAsSerialized_ExitsTwo()
    {
        var (code, _, error) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("plain.msg"), "--signature", files.PathOf("plain.sig"), "--pcrs", files.PathOf("pcrs.val"), "--nonce", TpmToolsQuoteFiles.NonceHex);

        Assert.Equal(2, code);
        Assert.Contains("PCR file pcrs.val", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_MessageIsNotAnAttestation_ExitsOne()
    {
        var (code, output, _) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.sig"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", TpmToolsQuoteFiles.NonceHex);

        Assert.Equal(1, code);
        Assert.Matches("(?m)^Structure +FAILED ", output);
    }

    [Fact]
    public void Attack_UnrestrictedKeyForgedQuote_ExitsOneNamingTheRestrictedAttribute()
    {
        var (code, output, _) = Invoke("quote", "verify", "--public", files.PathOf(TpmToolsForgery.KeyPublic), "--message", files.PathOf(TpmToolsForgery.Message), "--signature", files.PathOf(TpmToolsForgery.Signature), "--pcrs", files.PathOf(TpmToolsForgery.Pcrs), "--nonce", TpmToolsQuoteFiles.NonceHex, "--pcr-list", TpmToolsQuoteFiles.PcrList);

        Assert.Equal(1, code);
        Assert.Contains("quote: INVALID", output, StringComparison.Ordinal);
        Assert.Matches("(?m)^  - .*restricted", output);
    }

    [Fact]
    public void Attack_PcrFileWithAnUnquotedPcr_ExitsOne()
    {
        // The PCR file (its own selection) claims sha256:16 too, which the quote does not cover.
        var values = PcrValues.ParseSerialized(File.ReadAllBytes(files.PathOf("pcrs.ser")), out var selection);
        var wider = PcrSelectionList.Parse(TpmToolsQuoteFiles.PcrList.Replace("sha256:0,1,7", "sha256:0,1,7,16", StringComparison.Ordinal));
        var path = files.PathOf("pcrs-wider.ser");
        File.WriteAllBytes(path, values.With(TpmAlgId.Sha256, 16, new byte[32]).ToSerializedFormat(wider));

        var (code, output, _) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", path, "--nonce", TpmToolsQuoteFiles.NonceHex);

        Assert.Equal(1, code);
        Assert.Matches("(?m)^PcrSelection +FAILED ", output);
        Assert.NotEqual(selection.Enumerate(), wider.Enumerate());
    }

    internal static (int ExitCode, string Output, string Error) Invoke(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = CliApp.Build().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
