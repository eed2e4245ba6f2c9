using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustStack.Tests.Shared;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek.Tests;

/// <summary>
/// Real peers: <c>swtpm_setup --create-ek-cert</c> with <c>swtpm_localca</c> manufactures a TPM state
/// (everything in a temporary folder); swtpm serves it, our client reads the EK certificates from NV,
/// and <see cref="CertificateChainValidator"/> accepts EK → swtpm-localca → swtpm-localca-rootca and
/// rejects each tampering with its reason.
/// </summary>
public sealed class SwtpmLocalCaInteropTests : IClassFixture<SwtpmLocalCaInteropTests.LocalCaTpm>
{
    /// <summary>swtpm_setup puts the ECC (NIST P-384) EK certificate here.</summary>
    private const uint EccP384EkCertificateIndex = 0x01C00016;

    private static readonly ChainExpectations Ek = new() { Profile = CertificateProfile.EndorsementKey };

    private readonly LocalCaTpm _tpm;

    public SwtpmLocalCaInteropTests(LocalCaTpm tpm) => _tpm = tpm;

    [Fact]
    public void Validate_SwtpmLocalCaRsaEkChain_IsValid()
    {
        var result = Validator().Validate([_tpm.RsaEk, _tpm.Intermediate], Ek);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal("CN=swtpm-localca", _tpm.RsaEk.Issuer);
    }

    [Fact]
    public void Validate_SwtpmLocalCaEccEkChain_IsValid()
    {
        Assert.Equal("1.2.840.10045.2.1", _tpm.EccEk.PublicKey.Oid.Value);

        var result = Validator().Validate([_tpm.EccEk, _tpm.Intermediate, _tpm.Root], Ek);

        Assert.True(result.IsValid, result.ToString());
    }

    [Fact]
    public void Validate_SubjectKeyIsThePersistentEkSwtpmSetupCreated_IsValid()
    {
        var rsa = Validator().Validate([_tpm.RsaEk, _tpm.Intermediate], Ek with { SubjectKey = _tpm.RsaEkPublic });
        var ecc = Validator().Validate([_tpm.EccEk, _tpm.Intermediate], Ek with { SubjectKey = _tpm.EccEkPublic });
        var swapped = Validator().Validate([_tpm.RsaEk, _tpm.Intermediate], Ek with { SubjectKey = _tpm.EccEkPublic });

        Assert.True(rsa.IsValid, rsa.ToString());
        Assert.True(ecc.IsValid, ecc.ToString());
        Assert.Equal(ChainProblemKind.NameMismatch, Assert.Single(swapped.Problems).Kind);
    }

    [Fact]
    public void Validate_FlippedSignatureByte_ReportsWrongIssuerAtTheLeaf()
    {
        var der = _tpm.RsaEk.RawData;
        der[^10] ^= 0x01; // the signature BIT STRING is the last element of the certificate
        using var tampered = X509CertificateLoader.LoadCertificate(der);

        var result = Validator().Validate([tampered, _tpm.Intermediate], Ek);

        var problem = Assert.Single(result.Problems);
        Assert.Equal((ChainProblemKind.WrongIssuer, 0), (problem.Kind, problem.Depth));
    }

    [Fact]
    public void Validate_ImpostorRootWithTheSameName_ReportsUntrustedRoot()
    {
        using var key = RSA.Create(3072);
        var request = new CertificateRequest("CN=swtpm-localca-rootca", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var impostor = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var validator = new CertificateChainValidator([impostor], TimeProvider.System);

        var result = validator.Validate([_tpm.RsaEk, _tpm.Intermediate], Ek);

        var problem = Assert.Single(result.Problems);
        Assert.Equal((ChainProblemKind.UntrustedRoot, 1), (problem.Kind, problem.Depth));
    }

    [Fact]
    public void Validate_IntermediateMissing_ReportsUntrustedRoot()
    {
        var result = Validator().Validate([_tpm.RsaEk], Ek);

        var problem = Assert.Single(result.Problems);
        Assert.Equal((ChainProblemKind.UntrustedRoot, 0), (problem.Kind, problem.Depth));
    }

    [Fact]
    public void Validate_RootInPlaceOfTheIntermediate_ReportsWrongIssuer()
    {
        var result = Validator().Validate([_tpm.RsaEk, _tpm.Root], Ek);

        Assert.Contains(result.Problems, p => p.Kind == ChainProblemKind.WrongIssuer && p.Depth == 0);
    }

    [Fact]
    public void Validate_AfterNotAfter_ReportsExpiredForEveryCertificate()
    {
        // swtpm_localca issues until 9999-12-31T23:59:59Z (no well-defined expiration, RFC 5280
        // 4.1.2.5); the last representable instant is after it.
        Assert.Equal(new DateTime(9999, 12, 31, 23, 59, 59, DateTimeKind.Utc), _tpm.RsaEk.NotAfter.ToUniversalTime());
        var validator = new CertificateChainValidator([_tpm.Root], new FixedTimeProvider(DateTimeOffset.MaxValue));

        var result = validator.Validate([_tpm.RsaEk, _tpm.Intermediate, _tpm.Root], Ek);

        Assert.Equal([0, 1, 2], result.Problems.Where(p => p.Kind == ChainProblemKind.Expired).Select(p => p.Depth));
        Assert.All(result.Problems, p => Assert.Equal(ChainProblemKind.Expired, p.Kind));
    }

    [Fact]
    public void Validate_LocalCaCertificateAsEkLeaf_ReportsKeyUsage()
    {
        // The EK profile check is live on swtpm's certificates: a CA certificate is no EK certificate.
        var result = Validator().Validate([_tpm.Intermediate], Ek);

        Assert.Contains(result.Problems, p => p.Kind == ChainProblemKind.KeyUsage && p.Depth == 0);
    }

    private CertificateChainValidator Validator() => new([_tpm.Root], TimeProvider.System);

    /// <summary>One TPM state manufactured by swtpm_setup + swtpm_localca for the class, and its certificates.</summary>
    public sealed class LocalCaTpm : IDisposable
    {
        private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("truststack-localca-");

        public LocalCaTpm()
        {
            PeerTools.Require("swtpm_setup", "swtpm-tools");
            PeerTools.Require("swtpm_localca", "swtpm-tools");
            var localCa = Directory.CreateDirectory(PathOf("localca")).FullName;
            var state = Directory.CreateDirectory(PathOf("state")).FullName;
            File.WriteAllLines(PathOf("swtpm-localca.conf"),
            [
                $"statedir = {localCa}",
                $"signingkey = {Path.Combine(localCa, "signkey.pem")}",
                $"issuercert = {Path.Combine(localCa, "issuercert.pem")}",
                $"certserial = {Path.Combine(localCa, "certserial")}",
            ]);
            File.WriteAllLines(PathOf("swtpm-localca.options"), ["--platform-manufacturer TrustStack", "--platform-version 2.1", "--platform-model Test"]);
            File.WriteAllLines(PathOf("swtpm_setup.conf"),
            [
                "create_certs_tool = swtpm_localca",
                $"create_certs_tool_config = {PathOf("swtpm-localca.conf")}",
                $"create_certs_tool_options = {PathOf("swtpm-localca.options")}",
                "active_pcr_banks = sha256",
            ]);

            // HOME and XDG_CONFIG_HOME point into the folder so that neither root nor a user
            // configuration is read or written.
            PeerTools.RunChecked(
                "swtpm_setup",
                ["--tpm2", "--tpmstate", state, "--create-ek-cert", "--create-platform-cert", "--ecc", "--overwrite", "--config", PathOf("swtpm_setup.conf")],
                new Dictionary<string, string> { ["HOME"] = _dir.FullName, ["XDG_CONFIG_HOME"] = _dir.FullName },
                _dir.FullName);

            Root = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(localCa, "swtpm-localca-rootca-cert.pem"));
            Intermediate = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(localCa, "issuercert.pem"));
            using var swtpm = new SwtpmProcess(initialState: state);
            using var tpm = new Tpm2(swtpm.CreateTransport(), ownsTransport: true);
            RsaEk = ManufacturerCa.ReadCertificate(tpm, TpmTemplates.EkCertificateNvIndexRsa2048)
                ?? throw new InvalidOperationException("swtpm_setup wrote no RSA EK certificate");
            EccEk = ManufacturerCa.ReadCertificate(tpm, EccP384EkCertificateIndex)
                ?? throw new InvalidOperationException("swtpm_setup wrote no ECC EK certificate");
            RsaEkPublic = tpm.ReadPublic(0x81010001).Public; // swtpm_setup's persistent EK handles
            EccEkPublic = tpm.ReadPublic(0x81010016).Public;
        }

        public X509Certificate2 Root { get; }

        public X509Certificate2 Intermediate { get; }

        public X509Certificate2 RsaEk { get; }

        public X509Certificate2 EccEk { get; }

        public TpmtPublic RsaEkPublic { get; }

        public TpmtPublic EccEkPublic { get; }

        public void Dispose()
        {
            Root.Dispose();
            Intermediate.Dispose();
            RsaEk.Dispose();
            EccEk.Dispose();
            _dir.Delete(true);
        }

        private string PathOf(string name) => Path.Combine(_dir.FullName, name);
    }
}
