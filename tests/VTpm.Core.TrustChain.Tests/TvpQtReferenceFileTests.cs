using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.TrustChain.Tests;

public class TvpQtReferenceFileTests
{
    [Fact]
    public void ToJson_DemoReferencesWithPolicies_RoundTripAndStillVerify()
    {
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var references = host.References with
        {
            PlatformEvents = new EventLogPolicy([EventAllowRule.Separator, EventAllowRule.NoAction]),
            GuestEvents = new EventLogPolicy([EventAllowRule.ForDigests("grub.cfg", [8], TcgEventType.Ipl, [new TpmtHa(TpmAlgId.Sha256, new byte[32])])]),
        };

        var json = TvpQtReferenceFile.ToJson(references);
        var read = TvpQtReferenceFile.FromJson(json);
        var challenge = host.NewChallenge();

        Assert.Equal(json, TvpQtReferenceFile.ToJson(read));
        Assert.StartsWith("{\n  \"format\": \"truststack.tvpqt-references/1\",\n  \"junctionPcr\": 15,", json, StringComparison.Ordinal);
        Assert.Contains("\"name\": \"vmm\",\n      \"sha256\": ", json, StringComparison.Ordinal);
        Assert.Equal(references.Platform.Select(r => (r.Name, r.Pcr, r.Kind)), read.Platform.Select(r => (r.Name, r.Pcr, r.Kind)));
        Assert.True(TvpQtVerifier.Verify(host.Attest(vm, challenge), challenge, read).IsTrusted);
    }

    [Fact]
    public void SaveAndLoad_File_RoundTrips()
    {
        var path = Path.Combine(Path.GetTempPath(), $"truststack-refs-{Guid.NewGuid():N}.json");
        try
        {
            var references = TvpQtDemo.References(new byte[34]);
            TvpQtReferenceFile.Save(references, path);

            Assert.Equal(TvpQtReferenceFile.ToJson(references), TvpQtReferenceFile.ToJson(TvpQtReferenceFile.Load(path)));
            Assert.Single(Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{\"format\":\"truststack.tvpqt-references/2\"}", "this reader reads")]
    [InlineData("{\"platform\":[]}", "$.format is missing")]
    [InlineData("{\"format\":\"truststack.tvpqt-references/1\",\"guest\":[],\"trustedVTpmCode\":[],\"trustedHardwareAks\":[]}", "$.platform must be an array")]
    [InlineData("{\"format\":\"truststack.tvpqt-references/1\",\"platform\":[{\"name\":\"x\",\"sha256\":\"00\"}],\"guest\":[],\"trustedVTpmCode\":[],\"trustedHardwareAks\":[]}", "$.platform[0].sha256 must be a SHA-256 digest")]
    [InlineData("{\"format\":\"truststack.tvpqt-references/1\",\"platform\":[{\"name\":\"x\",\"sha256\":\"" + Zeros + "\",\"kind\":\"Kernel\"}],\"guest\":[],\"trustedVTpmCode\":[],\"trustedHardwareAks\":[]}", "$.platform[0].kind")]
    [InlineData("{\"format\":\"truststack.tvpqt-references/1\",\"platform\":[{\"name\":\"x\",\"sha256\":\"" + Zeros + "\",\"pcr\":24}],\"guest\":[],\"trustedVTpmCode\":[],\"trustedHardwareAks\":[]}", "$.platform[0].pcr")]
    [InlineData("{\"format\":\"truststack.tvpqt-references/1\",\"platform\":[{\"name\":\"x\",\"sha256\":\"" + Zeros + "\"},{\"name\":\"x\",\"sha256\":\"" + Zeros + "\"}],\"guest\":[],\"trustedVTpmCode\":[],\"trustedHardwareAks\":[]}", "listed twice")]
    [InlineData("{\"format\":\"truststack.tvpqt-references/1\",\"platform\":[],\"guest\":[],\"trustedVTpmCode\":[\"00\"],\"trustedHardwareAks\":[]}", "$.trustedVTpmCode[0] must be 32 octets")]
    [InlineData("{\"format\":\"truststack.tvpqt-references/1\",\"junctionPcr\":16,\"platform\":[],\"guest\":[],\"trustedVTpmCode\":[],\"trustedHardwareAks\":[]}", "$.junctionPcr")]
    [InlineData("{\"format\":\"truststack.tvpqt-references/1\",\"platform\":[],\"guest\":[],\"trustedVTpmCode\":[],\"trustedHardwareAks\":[],\"platformEvents\":[{\"rule\":\"all\"}]}", "$.platformEvents[0].rule")]
    [InlineData("{\"format\":\"truststack.tvpqt-references/1\",\"platform\":[],\"guest\":[],\"trustedVTpmCode\":[],\"trustedHardwareAks\":[],\"platformEvent\":[]}", "$.platformEvent is not a field")]
    [InlineData("{", "not JSON")]
    public void FromJson_Malformed_FormatExceptionNamingTheField(string json, string expected)
    {
        var e = Assert.Throws<FormatException>(() => TvpQtReferenceFile.FromJson(json));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    private const string Zeros = "0000000000000000000000000000000000000000000000000000000000000000";
}
