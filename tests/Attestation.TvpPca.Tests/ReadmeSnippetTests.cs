using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Attestation.TvpPca.Tests;

/// <summary>The README's remote-challenger snippet, compiled and run against a served host.</summary>
public sealed class ReadmeSnippetTests
{
    [Fact]
    public async Task RemoteChallengerWithDi_ServedHost_Trusted()
    {
        var p = new TestPlatforms();
        await using var served = await ServedHost.StartAsync(p.Host());
        var pem = Path.GetTempFileName();
        var references = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(pem, p.Pca.Ca.Certificate.ExportCertificatePem());
            TvpQtReferenceFile.Save(TvpPcaHost.ExpectedReferences, references); // what `attest serve --references-out` writes
            var vmId = served.Host.Agents[0].VmId;

            // --- README snippet (URLs from the served host, the test clock instead of TimeProvider.System) ---
            using var hostClient = new HttpClient { BaseAddress = served.Server.BaseAddress };
            using var pcaClient = new HttpClient { BaseAddress = served.Server.BaseAddress };
            var trustedPca = X509CertificateLoader.LoadCertificateFromFile(pem);
            var directory = new HttpEndorsementDirectory(pcaClient, trustedPca, p.Clock, SystemRandomSource.Instance);
            var validator = new CertificateChainValidator([trustedPca], p.Clock);
            validator.AddCrl(directory.GetCrl());

            var services = new ServiceCollection()
                .AddSingleton<TimeProvider>(p.Clock)
                .AddSingleton<ITvpPcaTransport>(new HttpTvpPcaTransport(hostClient))
                .AddSingleton<IEndorsementDirectory>(directory)
                .AddSingleton(validator)
                .AddTvpPca(o =>
                {
                    o.References = TvpQtReferenceFile.Load(references);   // required: no references, no verifier
                    o.RuntimeEvidence = new RuntimeEvidenceRequirement { Required = false };
                });
            using var provider = services.BuildServiceProvider();
            var result = provider.GetRequiredService<Challenger>().Attest(vmId).Result;
            // --- end of snippet ---

            Assert.True(result.IsTrusted, string.Join("\n", result.Failures));
            Assert.Same(directory, provider.GetRequiredService<IEndorsementDirectory>());
        }
        finally
        {
            File.Delete(pem);
            File.Delete(references);
        }
    }
}
