using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek;

/// <summary>The static properties of a vTPM credential scheme.</summary>
/// <param name="Name">Short name (the CLI's column).</param>
/// <param name="Summary">One sentence.</param>
/// <param name="HardwareKeys">Keys the hardware TPM needs beyond its EK.</param>
/// <param name="VerifierWork">What a verifier checks per attestation.</param>
/// <param name="VerifierSignatureChecks">Signature verifications per attestation.</param>
/// <param name="PcaPerAttestation">Whether every attestation involves the Privacy CA (hardware credentials checked each time).</param>
/// <param name="TcgRulesBroken">The TCG rules the scheme breaks; empty when none.</param>
public sealed record SchemeProfile(string Name, string Summary, int HardwareKeys, string VerifierWork, int VerifierSignatureChecks, bool PcaPerAttestation, IReadOnlyList<string> TcgRulesBroken);

/// <summary>What one vTPM received from a scheme.</summary>
/// <param name="VmId">The VM.</param>
/// <param name="VEk">The vEK public area.</param>
/// <param name="VEkChain">The vEK certificate chain (leaf first), empty when the scheme gives none.</param>
/// <param name="VAik">The vAIK and its certificate, or null when the scheme certifies none.</param>
public sealed record VTpmCredentials(Guid VmId, TpmtPublic VEk, IReadOnlyList<X509Certificate2> VEkChain, AttestationKeyCredential? VAik);

/// <summary>
/// A way to give vTPMs credentials (book ch. 3): the VMEK scheme and its rivals behind one
/// interface, so that one workload can compare them.
/// </summary>
public interface IVTpmCredentialScheme
{
    /// <summary>The scheme's static properties.</summary>
    SchemeProfile Profile { get; }

    /// <summary>One-time host set-up with the hardware TPM (keys, certificates).</summary>
    /// <param name="host">The host.</param>
    void Setup(SchemeHost host);

    /// <summary>Gives one new vTPM its credentials.</summary>
    /// <param name="host">The host.</param>
    /// <param name="vtpm">The vTPM.</param>
    /// <param name="vmId">Its VM.</param>
    /// <param name="codeDigest">The vTPM code identity.</param>
    /// <returns>The credentials.</returns>
    VTpmCredentials Credential(SchemeHost host, Tpm2 vtpm, Guid vmId, byte[] codeDigest);

    /// <summary>One attestation of the vTPM (a quote over its PCRs 0..7) and its verification as a verifier does it.</summary>
    /// <param name="host">The host.</param>
    /// <param name="vtpm">The vTPM.</param>
    /// <param name="credentials">Its credentials.</param>
    /// <param name="nonce">The verifier's nonce.</param>
    /// <returns>Whether the verifier accepts.</returns>
    bool Attest(SchemeHost host, Tpm2 vtpm, VTpmCredentials credentials, byte[] nonce);
}

/// <summary>
/// One host of the comparison: a hardware TPM (a seeded software TPM behind a counting
/// transport), its manufacturer CA and EK certificate, and a Privacy CA.
/// </summary>
public sealed class SchemeHost : IDisposable
{
    private readonly SoftwareTpm _engine;
    private readonly CountingTransport _counter;
    private AttestationKeyCredential? _aik;

    /// <summary>Creates a host.</summary>
    /// <param name="seed">Seed of the hardware TPM and the CAs.</param>
    /// <param name="timeProvider">The clock of the certificates.</param>
    public SchemeHost(ulong seed, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        Time = timeProvider;
        Random = DeterministicRandomSource.FromSeed(seed ^ 0x5EED);
        _engine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = seed }, null, timeProvider);
        _counter = new CountingTransport(_engine);
        Hardware = new Tpm2(_counter, DeterministicRandomSource.FromSeed(seed ^ 0xC11E));
        Manufacturer = new ManufacturerCa(DeterministicRandomSource.FromSeed(seed ^ 0x3A3A), timeProvider);
        Pca = new PrivacyCa([Manufacturer.Certificate], DeterministicRandomSource.FromSeed(seed ^ 0x9CA), timeProvider);
        Ek = Manufacturer.Manufacture(Hardware, rsa: false);
        Hardware.PcrExtend(4, TpmAlgId.Sha256, SHA256.HashData("measured vTPM manager"u8));
    }

    /// <summary>The virtualization-layer PCRs (SHA-256 bank, PCRs 0..7).</summary>
    public static PcrSelectionList VirtualizationLayer { get; } = PcrSelectionList.Parse("sha256:0,1,2,3,4,5,6,7");

    /// <summary>The hardware TPM.</summary>
    public Tpm2 Hardware { get; }

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>Host randomness (seeded).</summary>
    public IRandomSource Random { get; }

    /// <summary>The manufacturer CA.</summary>
    public ManufacturerCa Manufacturer { get; }

    /// <summary>The Privacy CA.</summary>
    public PrivacyCa Pca { get; }

    /// <summary>The hardware EK credentials (ECC).</summary>
    public EkCredentials Ek { get; }

    /// <summary>The hardware EK certificate.</summary>
    public X509Certificate2 EkCertificate => Ek.Ecc!;

    /// <summary>Signatures the hardware TPM made (TPM2_Sign, TPM2_Quote, TPM2_Certify).</summary>
    public int HardwareSignatures => _counter.Signatures;

    /// <summary>The hardware attestation key, certified by the Privacy CA on first use.</summary>
    public AttestationKeyCredential HardwareAik => _aik ??= AttestationKeys.Certify(Hardware, Pca, [EkCertificate], Ek.EccEk!);

    /// <summary>A verifier's validator: trusts the Privacy CA and the manufacturer, with the Privacy CA's current CRL.</summary>
    /// <returns>The validator.</returns>
    public CertificateChainValidator Verifier()
    {
        var v = new CertificateChainValidator([Pca.Certificate, Manufacturer.Certificate], Time);
        v.AddCrl(Pca.BuildCrl());
        return v;
    }

    /// <summary>Frees the hardware engine.</summary>
    public void Dispose() => _engine.Dispose();

    private sealed class CountingTransport(ITpmTransport inner) : ITpmTransport
    {
        public int Signatures { get; private set; }

        public byte[] Execute(ReadOnlySpan<byte> command)
        {
            if (command.Length >= 10 && (TpmCc)BinaryPrimitives.ReadUInt32BigEndian(command[6..]) is TpmCc.Sign or TpmCc.Quote or TpmCc.Certify)
            {
                Signatures++;
            }

            return inner.Execute(command);
        }

        public void Dispose()
        {
        }
    }
}

/// <summary>Shared steps of the schemes.</summary>
internal static class SchemeSteps
{
    public static readonly PcrSelectionList GuestPcrs = PcrSelectionList.Parse("sha256:0,1,2,3,4,5,6,7");

    public static TpmtPublic CreateVEk(Tpm2 vtpm)
    {
        var vek = vtpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        vtpm.FlushContext(vek.Handle);
        return vek.Public;
    }

    public static QuoteResult Quote(Tpm2 tpm, byte[] nonce, PcrSelectionList pcrs, out TpmtPublic ak)
    {
        var handle = tpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        try
        {
            ak = handle.Public;
            return tpm.Quote(handle.Handle, nonce, pcrs);
        }
        finally
        {
            tpm.FlushContext(handle.Handle);
        }
    }

    /// <summary>Quote by the certified vAIK; the verifier checks the signature and the vAIK certificate (2 signatures).</summary>
    public static bool AttestWithVAik(SchemeHost host, Tpm2 vtpm, VTpmCredentials c, byte[] nonce)
    {
        if (c.VAik is null)
        {
            return false;
        }

        var q = Quote(vtpm, nonce, GuestPcrs, out var ak);
        return ak.GetName().AsSpan().SequenceEqual(c.VAik.Key.GetName())
            && q.Attest.ExtraData.AsSpan().SequenceEqual(nonce)
            && TpmSignatureVerifier.VerifyMessage(c.VAik.Key, q.Quoted, q.Signature)
            && host.Verifier().Validate([c.VAik.Certificate], new ChainExpectations { Profile = CertificateProfile.AttestationKey, SubjectKey = ak }).IsValid;
    }

    public static VTpmBinding Binding(SchemeHost host, Guid vmId, byte[] codeDigest, TpmtPublic vek) =>
        new(vmId, host.Ek.EccEk!.GetName(), SHA256.HashData(host.EkCertificate.RawData), VmekCredentialProvider.JunctionMeasurement(vmId, codeDigest, vek));
}

/// <summary>The VMEK scheme: a certified VMEK in the hardware TPM signs each vEK certificate; the Privacy CA certifies vAIKs through the vEK chain.</summary>
public sealed class VmekScheme : IVTpmCredentialScheme
{
    private VmekCredentialProvider? _provider;

    /// <inheritdoc/>
    public SchemeProfile Profile { get; } = new(
        "vmek",
        "A certified VMEK in the hardware TPM signs each vEK certificate (TPM2_Sign); the PCA certifies the vAIK through vEK -> VMEK -> PCA.",
        1,
        "vTPM quote + vAIK certificate (PCA root)",
        2,
        false,
        []);

    /// <inheritdoc/>
    public void Setup(SchemeHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var vmek = Vmek.Create(host.Hardware, SchemeHost.VirtualizationLayer, host.Random, host.Time);
        vmek.Certify(host.Pca, host.EkCertificate, host.Ek.EccEk!);
        _provider = new VmekCredentialProvider(vmek, host.EkCertificate, host.Ek.EccEk!);
    }

    /// <inheritdoc/>
    public VTpmCredentials Credential(SchemeHost host, Tpm2 vtpm, Guid vmId, byte[] codeDigest)
    {
        ArgumentNullException.ThrowIfNull(host);
        var provider = _provider ?? throw new InvalidOperationException("Set up the scheme first.");
        var vek = provider.Issue(vtpm, vmId, codeDigest);
        ManufacturerCa.WriteCertificate(vtpm, TpmTemplates.EkCertificateNvIndexEccP256, vek.Certificate.RawData);
        return new VTpmCredentials(vmId, vek.VEk, vek.Chain, AttestationKeys.Certify(vtpm, host.Pca, vek.Chain, vek.VEk));
    }

    /// <inheritdoc/>
    public bool Attest(SchemeHost host, Tpm2 vtpm, VTpmCredentials credentials, byte[] nonce) => SchemeSteps.AttestWithVAik(host, vtpm, credentials, nonce);
}

/// <summary>Rival 1: the hardware AIK signs each vEK certificate (through a TPM2_Hash ticket); the PCA must accept a non-CA, restricted issuer.</summary>
public sealed class HardwareAikScheme : IVTpmCredentialScheme
{
    private long _serial;

    /// <inheritdoc/>
    public SchemeProfile Profile { get; } = new(
        "hw-aik",
        "The hardware AIK signs each vEK certificate (TPM2_Hash ticket + TPM2_Sign); the PCA certifies the vAIK through vEK -> AIK -> PCA.",
        1,
        "vTPM quote + vAIK certificate (PCA root)",
        2,
        false,
        ["a restricted attestation key signs a non-TPM-generated structure (a certificate)", "a non-CA attestation key certificate issues certificates (basicConstraints)"]);

    /// <inheritdoc/>
    public void Setup(SchemeHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        _ = host.HardwareAik;
        host.Pca.ToleratedProblems.Add(ChainProblemKind.KeyUsage);
        host.Pca.ToleratedProblems.Add(ChainProblemKind.MissingBinding);
    }

    /// <inheritdoc/>
    public VTpmCredentials Credential(SchemeHost host, Tpm2 vtpm, Guid vmId, byte[] codeDigest)
    {
        ArgumentNullException.ThrowIfNull(host);
        var vek = SchemeSteps.CreateVEk(vtpm);
        var aik = host.HardwareAik;
        var handle = host.Hardware.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256()).Handle;
        X509Certificate2 cert;
        try
        {
            cert = Vmek.IssueWith(aik.Certificate, TpmSignatureGenerator.ForRestrictedKey(host.Hardware, handle, aik.Key), vek, SchemeSteps.Binding(host, vmId, codeDigest, vek), VmekCredentialProvider.DefaultVTpmDescription, TimeSpan.FromDays(365), host.Time, 0x41, ref _serial);
        }
        finally
        {
            host.Hardware.FlushContext(handle);
        }

        X509Certificate2[] chain = [cert, aik.Certificate];
        ManufacturerCa.WriteCertificate(vtpm, TpmTemplates.EkCertificateNvIndexEccP256, cert.RawData);
        return new VTpmCredentials(vmId, vek, chain, AttestationKeys.Certify(vtpm, host.Pca, chain, vek));
    }

    /// <inheritdoc/>
    public bool Attest(SchemeHost host, Tpm2 vtpm, VTpmCredentials credentials, byte[] nonce) => SchemeSteps.AttestWithVAik(host, vtpm, credentials, nonce);
}

/// <summary>Rival 2: a software CA in the vTPM manager signs each vEK certificate; the PCA trusts the manager's root.</summary>
public sealed class LocalCaScheme : IVTpmCredentialScheme
{
    private SoftwareCertificateAuthority? _ca;

    /// <inheritdoc/>
    public SchemeProfile Profile { get; } = new(
        "local-ca",
        "A software CA in the vTPM manager signs each vEK certificate; the PCA trusts the manager's CA and certifies the vAIK.",
        0,
        "vTPM quote + vAIK certificate (PCA root)",
        2,
        false,
        ["the vEK certificate issuer key is not protected by a TPM (a software key, not hardware-bound)"]);

    /// <inheritdoc/>
    public void Setup(SchemeHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        _ca = new SoftwareCertificateAuthority("CN=TrustStack vTPM manager local CA", host.Random, host.Time, 0x44);
        host.Pca.Validator.AddTrustAnchor(_ca.Certificate);
        host.Pca.ToleratedProblems.Add(ChainProblemKind.KeyUsage);
        host.Pca.ToleratedProblems.Add(ChainProblemKind.MissingBinding);
    }

    /// <inheritdoc/>
    public VTpmCredentials Credential(SchemeHost host, Tpm2 vtpm, Guid vmId, byte[] codeDigest)
    {
        ArgumentNullException.ThrowIfNull(host);
        var ca = _ca ?? throw new InvalidOperationException("Set up the scheme first.");
        var vek = SchemeSteps.CreateVEk(vtpm);
        var cert = ca.Issue(new X500DistinguishedName(string.Empty), X509Signatures.PublicKeyOf(vek), Vmek.VEkExtensions(vek, SchemeSteps.Binding(host, vmId, codeDigest, vek), VmekCredentialProvider.DefaultVTpmDescription), TimeSpan.FromDays(365));
        X509Certificate2[] chain = [cert, ca.Certificate];
        ManufacturerCa.WriteCertificate(vtpm, TpmTemplates.EkCertificateNvIndexEccP256, cert.RawData);
        return new VTpmCredentials(vmId, vek, chain, AttestationKeys.Certify(vtpm, host.Pca, chain, vek));
    }

    /// <inheritdoc/>
    public bool Attest(SchemeHost host, Tpm2 vtpm, VTpmCredentials credentials, byte[] nonce) => SchemeSteps.AttestWithVAik(host, vtpm, credentials, nonce);
}

/// <summary>Rival 3, deep quote (Xen): no vEK certificate; every vTPM quote carries a hardware quote over it, and the verifier checks the hardware AIK with the PCA every time.</summary>
public sealed class DeepQuoteScheme : IVTpmCredentialScheme
{
    /// <inheritdoc/>
    public SchemeProfile Profile { get; } = new(
        "deep-quote",
        "No vEK certificate: each vTPM quote is accompanied by a hardware AIK quote over it; the verifier checks both and the hardware AIK certificate.",
        1,
        "vTPM quote + hardware quote + hardware AIK certificate (PCA root), per attestation",
        3,
        true,
        ["the vEK has no EK certificate (EK Credential Profile)", "the hardware TPM and PCA are loaded on every attestation"]);

    /// <inheritdoc/>
    public void Setup(SchemeHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        _ = host.HardwareAik;
    }

    /// <inheritdoc/>
    public VTpmCredentials Credential(SchemeHost host, Tpm2 vtpm, Guid vmId, byte[] codeDigest) =>
        new(vmId, SchemeSteps.CreateVEk(vtpm), [], null);

    /// <inheritdoc/>
    public bool Attest(SchemeHost host, Tpm2 vtpm, VTpmCredentials credentials, byte[] nonce)
    {
        ArgumentNullException.ThrowIfNull(host);
        var vq = SchemeSteps.Quote(vtpm, nonce, SchemeSteps.GuestPcrs, out var vak);
        var deep = SHA256.HashData([.. vq.Quoted, .. vak.GetName()]);
        var hq = SchemeSteps.Quote(host.Hardware, deep, SchemeHost.VirtualizationLayer, out var hak);
        var aik = host.HardwareAik;
        return TpmSignatureVerifier.VerifyMessage(vak, vq.Quoted, vq.Signature)
            && hak.GetName().AsSpan().SequenceEqual(aik.Key.GetName())
            && hq.Attest.ExtraData.AsSpan().SequenceEqual(deep)
            && TpmSignatureVerifier.VerifyMessage(aik.Key, hq.Quoted, hq.Signature)
            && host.Verifier().Validate([aik.Certificate], new ChainExpectations { Profile = CertificateProfile.AttestationKey, SubjectKey = hak }).IsValid;
    }
}

/// <summary>Rival 4: the PCA certifies each vEK from a hardware-AIK quote of the platform (junction PCR), then certifies the vAIK: two round trips per vTPM.</summary>
public sealed class PcaPerVEkScheme : IVTpmCredentialScheme
{
    /// <inheritdoc/>
    public SchemeProfile Profile { get; } = new(
        "pca-per-vek",
        "For each vTPM the hardware AIK quotes the platform and the PCA issues the vEK certificate, then certifies the vAIK.",
        1,
        "vTPM quote + vAIK certificate (PCA root)",
        2,
        false,
        []);

    /// <inheritdoc/>
    public void Setup(SchemeHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        _ = host.HardwareAik;
    }

    /// <inheritdoc/>
    public VTpmCredentials Credential(SchemeHost host, Tpm2 vtpm, Guid vmId, byte[] codeDigest)
    {
        ArgumentNullException.ThrowIfNull(host);
        var vek = SchemeSteps.CreateVEk(vtpm);
        var nonce = new byte[32];
        host.Random.Fill(nonce);
        var quote = SchemeSteps.Quote(host.Hardware, nonce, PcrSelectionList.Parse("sha256:15"), out _);
        var cert = host.Pca.IssueVEkCertificate(vek, VmekCredentialProvider.DefaultVTpmDescription, host.HardwareAik, quote, nonce);
        ManufacturerCa.WriteCertificate(vtpm, TpmTemplates.EkCertificateNvIndexEccP256, cert.RawData);
        return new VTpmCredentials(vmId, vek, [cert], AttestationKeys.Certify(vtpm, host.Pca, [cert], vek));
    }

    /// <inheritdoc/>
    public bool Attest(SchemeHost host, Tpm2 vtpm, VTpmCredentials credentials, byte[] nonce) => SchemeSteps.AttestWithVAik(host, vtpm, credentials, nonce);
}

/// <summary>The measured cost of one scheme on one workload.</summary>
/// <param name="Profile">The scheme.</param>
/// <param name="VTpms">vTPMs credentialed.</param>
/// <param name="PcaRoundTripsPerVTpm">Privacy CA round trips per vTPM (credentialing).</param>
/// <param name="PcaSignaturesPerVTpm">Privacy CA signatures per vTPM (credentialing).</param>
/// <param name="HardwareSignaturesPerVTpm">Hardware TPM signatures per vTPM (credentialing).</param>
/// <param name="HardwareSignaturesPerAttestation">Hardware TPM signatures per attestation.</param>
/// <param name="AttestationsAccepted">Attestations the verifier accepted (one per vTPM).</param>
/// <param name="CredentialTime">Wall time to credential the vTPMs (set-up excluded).</param>
/// <param name="AttestationTime">Wall time of the attestations.</param>
public sealed record SchemeMeasurement(SchemeProfile Profile, int VTpms, double PcaRoundTripsPerVTpm, double PcaSignaturesPerVTpm, double HardwareSignaturesPerVTpm, double HardwareSignaturesPerAttestation, int AttestationsAccepted, TimeSpan CredentialTime, TimeSpan AttestationTime);

/// <summary>Runs the schemes on the same workload: N fresh vTPMs credentialed, then attested once each.</summary>
public static class SchemeComparison
{
    /// <summary>The VMEK scheme and the four rivals of the design.</summary>
    /// <returns>New scheme instances.</returns>
    public static IReadOnlyList<IVTpmCredentialScheme> All() =>
        [new VmekScheme(), new HardwareAikScheme(), new LocalCaScheme(), new DeepQuoteScheme(), new PcaPerVEkScheme()];

    /// <summary>Measures one scheme on a fresh host.</summary>
    /// <param name="scheme">The scheme.</param>
    /// <param name="vtpms">How many vTPMs.</param>
    /// <param name="seed">Seed of the host and vTPMs.</param>
    /// <param name="certificateTime">The clock of the certificates (fixed for reproducible certificates).</param>
    /// <param name="progress">Told the number of vTPMs done.</param>
    /// <param name="stopwatch">The clock that measures; the system clock by default.</param>
    /// <returns>The measurement.</returns>
    public static SchemeMeasurement Measure(IVTpmCredentialScheme scheme, int vtpms, ulong seed, TimeProvider certificateTime, IProgress<int>? progress = null, TimeProvider? stopwatch = null)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vtpms);
        var clock = stopwatch ?? TimeProvider.System;
        using var host = new SchemeHost(seed, certificateTime);
        scheme.Setup(host);
        var (trips0, sigs0, hw0) = (host.Pca.RoundTrips, host.Pca.Signatures, host.HardwareSignatures);
        var engines = new List<(SoftwareTpm Engine, Tpm2 Client, VTpmCredentials? Credentials)>();
        var codeDigest = SHA256.HashData("TrustStack vTPM"u8);
        try
        {
            var start = clock.GetTimestamp();
            for (var i = 0; i < vtpms; i++)
            {
                var vseed = seed * 1_000_003UL + (ulong)i;
                var engine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = vseed }, null, certificateTime);
                var client = new Tpm2(engine, DeterministicRandomSource.FromSeed(vseed));
                var id = new byte[16];
                host.Random.Fill(id);
                var credentials = scheme.Credential(host, client, new Guid(id), codeDigest);
                engines.Add((engine, client, credentials));
                progress?.Report(i + 1);
            }

            var credentialTime = clock.GetElapsedTime(start);
            var (trips1, sigs1, hw1) = (host.Pca.RoundTrips, host.Pca.Signatures, host.HardwareSignatures);
            var accepted = 0;
            start = clock.GetTimestamp();
            foreach (var (_, client, credentials) in engines)
            {
                var nonce = new byte[16];
                host.Random.Fill(nonce);
                accepted += scheme.Attest(host, client, credentials!, nonce) ? 1 : 0;
            }

            var attestationTime = clock.GetElapsedTime(start);
            double n = vtpms;
            return new SchemeMeasurement(
                scheme.Profile,
                vtpms,
                (trips1 - trips0) / n,
                (sigs1 - sigs0) / n,
                (hw1 - hw0) / n,
                (host.HardwareSignatures - hw1) / n,
                accepted,
                credentialTime,
                attestationTime);
        }
        finally
        {
            foreach (var (engine, _, _) in engines)
            {
                engine.Dispose();
            }
        }
    }
}
