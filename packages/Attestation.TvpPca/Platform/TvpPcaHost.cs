using System.Text;
using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Attestation.TvpPca;

/// <summary>How <see cref="TvpPcaHost"/> builds its platform.</summary>
public sealed class TvpPcaHostOptions
{
    /// <summary>Number of VMs (each with its own vTPM).</summary>
    public int VmCount { get; init; } = 3;

    /// <summary>Seed of the engines and the host's random source; one seed, one octet-exact run.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>The virtualization layer actually booted (default: <see cref="TvpQtDemo.PlatformProfile"/>).</summary>
    public PlatformBootProfile? PlatformProfile { get; init; }

    /// <summary>The guest chain actually booted in every VM (default: <see cref="TvpQtDemo.GuestProfile"/>).</summary>
    public GuestBootProfile? GuestProfile { get; init; }

    /// <summary>Indexes of VMs whose vTPM launch is not reported to the trusted junction point (no junction event).</summary>
    public IReadOnlyCollection<int> UnannouncedVms { get; init; } = [];

    /// <summary>Indexes of VMs that boot a tampered guest kernel (<see cref="TvpPcaHost.TamperedGuestProfile"/>): their guest reference values fail.</summary>
    public IReadOnlyCollection<int> TamperedVms { get; init; } = [];

    /// <summary>Runtime evidence the agents add to their top responses (null: none).</summary>
    public IRuntimeEvidenceSource? RuntimeEvidence { get; init; }
}

/// <summary>
/// A trusted virtual platform ready for TVP-PCA (book ch. 5): a seeded software hardware TPM with a
/// manufacturer EK certificate, the measured virtualization layer, the trusted junction point on
/// PCR 15, the initialization phase done (hardware AIK certificate, VMEK certificate, one vEK
/// certificate signed by the VMEK and one vAIK certificate per VM), the Attestation Service and
/// one Attestation Agent per VM, and an in-process transport to them.
/// </summary>
public sealed class TvpPcaHost : IDisposable
{
    private readonly List<SoftwareTpm> _engines = [];
    private readonly List<Tpm2> _clients = [];

    private TvpPcaHost(TvpPcaPrivacyCa pca, ManufacturerCa manufacturer, TimeProvider time, TvpPcaHostOptions options)
    {
        Pca = pca;
        Random = DeterministicRandomSource.FromSeed(options.Seed ^ 0x7C9CA);
        var engine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = options.Seed }, null, time);
        _engines.Add(engine);
        Hardware = new Tpm2(engine, Random);
        _clients.Add(Hardware);
        Ek = manufacturer.Manufacture(Hardware, rsa: false);
        Platform = new PlatformMeasurement(Hardware);
        Platform.MeasureBoot(options.PlatformProfile ?? TvpQtDemo.PlatformProfile());
        Junction = new TrustedJunctionPoint(Platform);

        // Initialization phase: hardware AIK, VMEK (bound by PolicyPCR to the measured layer), then per VM vEK and vAIK.
        var aik = pca.CertifyAttestationKey(Hardware, [Ek.Ecc!], Ek.EccEk!);
        Vmek = Vmek.Create(Hardware, VirtualizationLayerPcrs, Random, time);
        Vmek.Certify(pca.Ca, Ek.Ecc!, Ek.EccEk!);
        Credentials = new VmekCredentialProvider(Vmek, Ek.Ecc!, Ek.EccEk!);
        Service = new AttestationService(Hardware, Platform, aik, TvpQtDemo.HardwarePcrs);

        var agents = new List<AttestationAgent>();
        for (var i = 0; i < options.VmCount; i++)
        {
            var vEngine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = unchecked((options.Seed * 1000) + (ulong)i + 1) }, null, time);
            _engines.Add(vEngine);
            var vTpm = new Tpm2(vEngine, Random);
            _clients.Add(vTpm);
            var vmId = TvpQtDemo.NewUuid(Random);
            var vek = Credentials.Issue(vTpm, vmId, TvpQtDemo.VTpmCodeIdentity);
            if (!options.UnannouncedVms.Contains(i))
            {
                var name = vek.VEk.GetName();
                Junction.OnLaunch(new VTpmLaunch(vmId, TvpQtDemo.VTpmCodeIdentity, name[2..], name));
            }

            var guest = new GuestMeasurement(vTpm);
            guest.MeasureBoot(options.TamperedVms.Contains(i) ? TamperedGuestProfile() : options.GuestProfile ?? TvpQtDemo.GuestProfile());
            var vAik = pca.CertifyAttestationKey(vTpm, vek.Chain, vek.VEk);
            agents.Add(new AttestationAgent(vTpm, vmId, guest, vek, vAik, TvpQtDemo.GuestPcrs) { RuntimeEvidence = options.RuntimeEvidence });
        }

        Agents = agents;
        Transport = new InProcessTvpPcaTransport(Service, agents);
    }

    /// <summary>The virtualization layer's PCRs (SHA-256), which the VMEK's PolicyPCR covers; the junction PCR is not among them.</summary>
    public static PcrSelectionList VirtualizationLayerPcrs { get; } = PcrSelectionList.Create(TpmAlgId.Sha256,
        Enum.GetValues<PlatformComponentKind>().Select(k => (int)PlatformBootProfile.DefaultPcr(k)).Distinct().Order());

    /// <summary>
    /// The reference values of the demo platform (the unmodified demo profiles and vTPM build), for
    /// the demo and tests only: a challenger is given its references explicitly and never falls
    /// back to these. <c>truststack attest serve --references-out</c> writes them to a file.
    /// </summary>
    public static TvpQtReferenceValues ExpectedReferences { get; } =
        new(TvpQtReferenceValues.From(TvpQtDemo.PlatformProfile()), TvpQtReferenceValues.From(TvpQtDemo.GuestProfile()), [TvpQtDemo.VTpmCodeIdentity], []);

    /// <summary>The Privacy CA.</summary>
    public TvpPcaPrivacyCa Pca { get; }

    /// <summary>The host's seeded random source.</summary>
    public IRandomSource Random { get; }

    /// <summary>The hardware TPM.</summary>
    public Tpm2 Hardware { get; }

    /// <summary>The hardware EK and its certificate.</summary>
    public EkCredentials Ek { get; }

    /// <summary>The platform measurement (platform event log).</summary>
    public PlatformMeasurement Platform { get; }

    /// <summary>The trusted junction point.</summary>
    public TrustedJunctionPoint Junction { get; }

    /// <summary>The certified VMEK.</summary>
    public Vmek Vmek { get; }

    /// <summary>The vEK certificate issuer (signs with the VMEK).</summary>
    public VmekCredentialProvider Credentials { get; }

    /// <summary>The Attestation Service (VMM, hardware TPM).</summary>
    public AttestationService Service { get; }

    /// <summary>The Attestation Agents (one per VM, in launch order).</summary>
    public IReadOnlyList<AttestationAgent> Agents { get; }

    /// <summary>The in-process transport to the service and the agents.</summary>
    public ITvpPcaTransport Transport { get; }

    /// <summary>Builds a platform: manufactures its hardware TPM, measures it, and runs the initialization phase with <paramref name="pca"/>.</summary>
    /// <param name="pca">The Privacy CA (it must trust <paramref name="manufacturer"/>).</param>
    /// <param name="manufacturer">The TPM manufacturer CA.</param>
    /// <param name="time">The clock of the engines and certificates.</param>
    /// <param name="options">Options, or the defaults.</param>
    /// <returns>The host.</returns>
    /// <exception cref="TpmException">A TPM refused.</exception>
    /// <exception cref="CertificationRefusedException">The Privacy CA refused.</exception>
    public static TvpPcaHost Create(TvpPcaPrivacyCa pca, ManufacturerCa manufacturer, TimeProvider time, TvpPcaHostOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pca);
        ArgumentNullException.ThrowIfNull(manufacturer);
        ArgumentNullException.ThrowIfNull(time);
        return new TvpPcaHost(pca, manufacturer, time, options ?? new TvpPcaHostOptions());
    }

    /// <summary>The demo virtualization layer with one component's image replaced (a changed VMM layer, for instance).</summary>
    /// <param name="changed">The component to change.</param>
    /// <returns>The profile.</returns>
    public static PlatformBootProfile ChangedPlatformProfile(PlatformComponentKind changed) =>
        PlatformBootProfile.Create(k => Encoding.UTF8.GetBytes(k == changed
            ? $"TrustStack demo image: {PlatformBootProfile.DefaultName(k)} 1.0 (patched)"
            : $"TrustStack demo image: {PlatformBootProfile.DefaultName(k)} 1.0"));

    /// <summary>The demo guest chain with a patched kernel image (a tampered VM).</summary>
    /// <returns>The profile.</returns>
    public static GuestBootProfile TamperedGuestProfile() =>
        new([.. TvpQtDemo.GuestProfile().Components.Select(c => c.Kind == GuestComponentKind.Kernel ? c with { Content = Encoding.UTF8.GetBytes("TrustStack demo image: vmlinuz (patched: rootkit)") } : c)]);

    /// <summary>A challenger's verifier for platforms certified by <paramref name="pca"/>: trusts the Privacy CA, with its current CRL.</summary>
    /// <param name="pca">The Privacy CA.</param>
    /// <param name="time">The verifier's clock.</param>
    /// <param name="references">The reference values (required; the demo platform's are <see cref="ExpectedReferences"/>).</param>
    /// <returns>The verifier.</returns>
    public static TvpPcaVerifier CreateVerifier(TvpPcaPrivacyCa pca, TimeProvider time, TvpQtReferenceValues references)
    {
        ArgumentNullException.ThrowIfNull(pca);
        ArgumentNullException.ThrowIfNull(references);
        return new TvpPcaVerifier(pca, CreateValidator(pca, time), references);
    }

    internal static CertificateChainValidator CreateValidator(TvpPcaPrivacyCa pca, TimeProvider time)
    {
        var validator = new CertificateChainValidator([pca.Ca.Certificate], time);
        validator.AddCrl(pca.Ca.BuildCrl());
        return validator;
    }

    /// <summary>Disposes the TPM clients and engines.</summary>
    public void Dispose()
    {
        foreach (var c in _clients)
        {
            c.Dispose();
        }

        foreach (var e in _engines)
        {
            e.Dispose();
        }

        Vmek.Dispose();
    }
}
