using System.Globalization;
using TrustStack.Tests.Shared;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek.Tests;

/// <summary>Real peers: tpm2-tools read our EK certificates from our engine's NV; openssl parses and verifies them.</summary>
public sealed class EkCertificateInteropTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("truststack-ekcert-");

    public void Dispose() => _dir.Delete(true);

    [Fact]
    public async Task Tpm2NvRead_EngineManufacturedByOurCa_ReadsCertificatesThatOpensslParsesAndVerifies()
    {
        PeerTools.Require("tpm2_nvread", "tpm2-tools");
        PeerTools.Require("openssl", "openssl");
        var (engine, tpm) = TestPki.NewTpm(11);
        using var _ = engine;
        var ca = TestPki.Manufacturer(TimeProvider.System);
        var ek = ca.Manufacture(tpm);
        await using var server = new SwtpmSocketServer(engine);
        server.Start();
        var env = new Dictionary<string, string>
        {
            [PeerTools.TctiVariable] = string.Create(CultureInfo.InvariantCulture, $"swtpm:host=127.0.0.1,port={server.Port}"),
        };
        File.WriteAllText(Path(name: "root.pem"), ca.Certificate.ExportCertificatePem());

        foreach (var (index, expected) in new[] { ("0x01C00002", ek.Rsa!), ("0x01C0000A", ek.Ecc!) })
        {
            var der = Path($"{index}.der");
            PeerTools.RunChecked("tpm2_nvread", [index, "-o", der], env);
            Assert.Equal(expected.RawData, File.ReadAllBytes(der));

            var text = PeerTools.RunChecked("openssl", ["x509", "-inform", "DER", "-in", der, "-noout", "-text"]);
            Assert.Contains("2.23.133.8.1", text, StringComparison.Ordinal);
            Assert.Contains("DirName:", text, StringComparison.Ordinal);
            Assert.Contains("2.23.133.2.1", text, StringComparison.Ordinal);
            Assert.Contains("id:", text, StringComparison.Ordinal);
            Assert.Contains("CN = TrustStack Software TPM Manufacturer CA", text, StringComparison.Ordinal);

            var pem = Path($"{index}.pem");
            PeerTools.RunChecked("openssl", ["x509", "-inform", "DER", "-in", der, "-out", pem]);
            var verify = PeerTools.RunChecked("openssl", ["verify", "-CAfile", Path("root.pem"), pem]);
            Assert.Contains(": OK", verify, StringComparison.Ordinal);
        }
    }

    private string Path(string name) => System.IO.Path.Combine(_dir.FullName, name);
}
