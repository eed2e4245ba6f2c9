using System.Globalization;
using TrustStack.Tests.Shared;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Certs.Vmek.Tests;

public sealed class VmekCredentialProviderTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("truststack-vek-");

    public void Dispose() => _dir.Delete(true);

    [Fact]
    public void Provision_EveryNewVTpmOfTheManager_GetsItsVEkCertificateInNvAndAVAikThroughTheChain()
    {
        using var p = new VmekPlatform();
        using var manager = new VTpmManager(new VTpmCoreOptions { Seed = 3 }, p.Hw, timeProvider: p.Clock) { CredentialProvider = p.Provider };
        var vm = manager.Create().VmId;
        manager.Start(vm);

        using var channel = manager.OpenChannel(vm);
        var guest = new Tpm2(channel);
        var stored = ManufacturerCa.ReadCertificate(guest, TpmTemplates.EkCertificateNvIndexEccP256);
        var issued = p.Provider.Issued[vm];
        var vek = guest.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        guest.FlushContext(vek.Handle);

        Assert.NotNull(stored);
        Assert.Equal(issued.Certificate.RawData, stored.RawData);
        var expect = new ChainExpectations
        {
            Profile = CertificateProfile.VEk,
            SubjectKey = vek.Public,
            VmId = vm,
            HardwareEkName = p.Ek.EccEk!.GetName(),
            JunctionMeasurement = VmekCredentialProvider.JunctionMeasurement(vm, VTpmManager.CodeDigest.ToArray(), vek.Public),
        };
        var result = p.Verifier().Validate(issued.Chain, expect);
        Assert.True(result.IsValid, result.ToString());

        var vaik = AttestationKeys.Certify(guest, p.Pca, issued.Chain, vek.Public);
        var aikResult = p.Verifier().Validate([vaik.Certificate], new() { Profile = CertificateProfile.AttestationKey, SubjectKey = vaik.Key });
        Assert.True(aikResult.IsValid, aikResult.ToString());
        Assert.Equal(2, p.Pca.RoundTrips);
    }

    [Fact]
    public async Task Provision_MigratedIn_ReissuesTheVEkCertificateForTheDestinationHost()
    {
        using var source = new VmekPlatform(seed: 1);
        using var destination = new VmekPlatform(seed: 2, clock: source.Clock, manufacturer: source.Manufacturer, pca: source.Pca);
        using var from = new VTpmManager(new VTpmCoreOptions { Seed = 3 }, source.Hw, timeProvider: source.Clock) { CredentialProvider = source.Provider };
        using var to = new VTpmManager(new VTpmCoreOptions { Seed = 4 }, destination.Hw, timeProvider: destination.Clock) { CredentialProvider = destination.Provider };
        var vm = from.Create().VmId;
        from.Start(vm);
        var atSource = source.Provider.Issued[vm];

        var inbox = new VTpmMigrationDestination(to);
        var policy = MigrationTrustPolicy.SameLayerAs(source.Hw, VmekPlatform.LayerPcrs, [inbox.AttestationKeyName]);
        var result = await new VTpmMigrationSource(from).MigrateAsync(vm, new InProcessMigrationTransport(inbox), policy);
        Assert.Equal(VTpmMigrationOutcome.Completed, result.Outcome);

        using var channel = to.OpenChannel(vm);
        var guest = new Tpm2(channel);
        var stored = ManufacturerCa.ReadCertificate(guest, TpmTemplates.EkCertificateNvIndexEccP256);
        var reissued = destination.Provider.Issued[vm];
        Assert.NotNull(stored);
        Assert.Equal(reissued.Certificate.RawData, stored.RawData);
        Assert.Equal(atSource.VEk.GetName(), reissued.VEk.GetName());
        Assert.Equal(destination.Vmek.Certificate!.RawData, reissued.Chain[1].RawData);

        var expect = new ChainExpectations
        {
            Profile = CertificateProfile.VEk,
            SubjectKey = reissued.VEk,
            VmId = vm,
            HardwareEkName = destination.Ek.EccEk!.GetName(),
            JunctionMeasurement = VmekCredentialProvider.JunctionMeasurement(vm, VTpmManager.CodeDigest.ToArray(), reissued.VEk),
        };
        var valid = destination.Verifier().Validate(reissued.Chain, expect);
        Assert.True(valid.IsValid, valid.ToString());

        // The certificate the vTPM carried from the source names the source's hardware EK: a verifier
        // expecting the destination refuses it.
        var stale = destination.Verifier().Validate(atSource.Chain, expect);
        Assert.False(stale.IsValid);
    }

    private sealed class InProcessMigrationTransport(VTpmMigrationDestination destination) : IMigrationTransport
    {
        public string Endpoint => "in-process";

        public ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(destination.Handle(request.Span));

        public void Dispose()
        {
        }
    }

    [Fact]
    public void Provision_NoVTpmCredentialsDefault_NvHasNoCertificate()
    {
        using var p = new VmekPlatform();
        using var manager = new VTpmManager(new VTpmCoreOptions { Seed = 3 }, p.Hw, timeProvider: p.Clock);
        var vm = manager.Create().VmId;
        manager.Start(vm);
        using var channel = manager.OpenChannel(vm);

        Assert.Null(ManufacturerCa.ReadCertificate(new Tpm2(channel), TpmTemplates.EkCertificateNvIndexEccP256));
    }

    [Fact]
    public async Task OpensslVerify_VEkChain_AcceptsItAndTpm2NvReadFindsTheVEkCertificate()
    {
        PeerTools.Require("openssl", "openssl");
        PeerTools.Require("tpm2_nvread", "tpm2-tools");
        using var p = new VmekPlatform(clock: new FixedTimeProvider(DateTimeOffset.UtcNow.AddMinutes(-5)));
        await using var manager = new VTpmManager(new VTpmCoreOptions { Seed = 4, AutoStartup = true }, p.Hw, timeProvider: p.Clock) { CredentialProvider = p.Provider };
        var vm = manager.Create().VmId;
        manager.Start(vm);
        var port = manager.Serve(vm, 0).Port!.Value;
        var chain = p.Provider.Issued[vm].Chain;
        File.WriteAllText(Path("root.pem"), p.Pca.Certificate.ExportCertificatePem());
        File.WriteAllText(Path("vmek.pem"), chain[1].ExportCertificatePem());
        File.WriteAllText(Path("vek.pem"), chain[0].ExportCertificatePem());

        var env = new Dictionary<string, string> { [PeerTools.TctiVariable] = string.Create(CultureInfo.InvariantCulture, $"swtpm:host=127.0.0.1,port={port}") };
        PeerTools.RunChecked("tpm2_nvread", ["0x01C0000A", "-o", Path("nv.der")], env);
        Assert.Equal(chain[0].RawData, File.ReadAllBytes(Path("nv.der")));

        var verify = PeerTools.RunChecked("openssl", ["verify", "-CAfile", Path("root.pem"), "-untrusted", Path("vmek.pem"), Path("vek.pem")]);
        Assert.Contains(": OK", verify, StringComparison.Ordinal);
        var text = PeerTools.RunChecked("openssl", ["x509", "-in", Path("vek.pem"), "-noout", "-text"]);
        Assert.Contains(VmekOids.VTpmBinding, text, StringComparison.Ordinal);
    }

    private string Path(string name) => System.IO.Path.Combine(_dir.FullName, name);
}
