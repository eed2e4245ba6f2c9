using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Attestation.TvpPca;

/// <summary>
/// The Privacy CA role of TVP-PCA: a <see cref="Certs.Vmek.PrivacyCa"/> that also remembers, for
/// every attestation key it certified, the Name of the (v)EK it was certified through, so a
/// challenger can ask whether a vAIK and a hardware AIK lead to the same hardware EK.
/// </summary>
/// <param name="ca">The Privacy CA.</param>
/// <param name="random">Randomness of the endorsement responder key (the system source when null).</param>
public sealed class TvpPcaPrivacyCa(PrivacyCa ca, IRandomSource? random = null) : IEndorsementDirectory
{
    private readonly ConcurrentDictionary<string, byte[]> _endorsements = new(StringComparer.Ordinal);

    // Certified on first use, so building a platform in process issues no extra certificate (serials stay as they were).
    private readonly Lazy<EndorsementResponder> _responder = new(() => new EndorsementResponder(ca, random ?? SystemRandomSource.Instance));

    /// <summary>The underlying Privacy CA.</summary>
    public PrivacyCa Ca { get; } = ca ?? throw new ArgumentNullException(nameof(ca));

    /// <summary>Certifies the TPM's attestation key (AIK on a hardware TPM, vAIK on a vTPM) through its endorsement chain and records the endorsement.</summary>
    /// <param name="tpm">The (v)TPM.</param>
    /// <param name="endorsementChain">The EK certificate, or the vEK certificate and its VMEK certificate, leaf first.</param>
    /// <param name="endorsementKey">The (v)EK public area.</param>
    /// <returns>The attestation key and its certificate.</returns>
    /// <exception cref="CertificationRefusedException">The Privacy CA refused.</exception>
    public AttestationKeyCredential CertifyAttestationKey(Tpm2 tpm, IReadOnlyList<X509Certificate2> endorsementChain, TpmtPublic endorsementKey)
    {
        ArgumentNullException.ThrowIfNull(endorsementKey);
        var credential = AttestationKeys.Certify(tpm, Ca, endorsementChain, endorsementKey);
        _endorsements[Key(credential.Certificate)] = endorsementKey.GetName();
        return credential;
    }

    /// <summary>The Name of the (v)EK an attestation key certificate was issued through, or null when this CA did not issue it.</summary>
    /// <param name="attestationKeyCertificate">An AIK or vAIK certificate.</param>
    /// <returns>The EK Name or null.</returns>
    public byte[]? EndorsementOf(X509Certificate2 attestationKeyCertificate)
    {
        ArgumentNullException.ThrowIfNull(attestationKeyCertificate);
        return _endorsements.TryGetValue(Key(attestationKeyCertificate), out var name) ? (byte[])name.Clone() : null;
    }

    /// <summary>The certificate of the endorsement responder key that signs <see cref="Answer"/>s (issued by this Privacy CA on first use).</summary>
    public X509Certificate2 ResponderCertificate => _responder.Value.Certificate;

    /// <summary>Answers a remote challenger's endorsement query, signed by the endorsement responder key.</summary>
    /// <param name="query">The query.</param>
    /// <returns>The signed answer.</returns>
    /// <exception cref="ArgumentException">The nonce is empty or longer than 64 octets, or the digest is not 32 octets.</exception>
    public EndorsementAnswer Answer(EndorsementQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Nonce is null || query.Nonce.Length is 0 or > 64)
        {
            throw new ArgumentException("The query's nonce must have 1 to 64 octets.", nameof(query));
        }

        if (query.CertificateDigest is null || query.CertificateDigest.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException("The query's certificate digest must be a SHA-256 digest (32 octets).", nameof(query));
        }

        var name = _endorsements.TryGetValue(Convert.ToHexString(query.CertificateDigest), out var n) ? (byte[])n.Clone() : null;
        return _responder.Value.Answer(query, name);
    }

    private static string Key(X509Certificate2 certificate) => Convert.ToHexString(SHA256.HashData(certificate.RawData));
}

/// <summary>The Attestation Agent in a VM: answers the top-layer challenge on its vTPM.</summary>
/// <param name="vTpm">The VM's vTPM.</param>
/// <param name="vmId">The VM.</param>
/// <param name="guest">The guest's measurement (its event log).</param>
/// <param name="vek">The vEK credential (vEK and its certificate chain).</param>
/// <param name="vAik">The vAIK credential (re-created as a primary on demand).</param>
/// <param name="pcrs">The vPCRs quoted when a challenge asks for an empty selection.</param>
public sealed class AttestationAgent(Tpm2 vTpm, Guid vmId, GuestMeasurement guest, VEkCredential vek, AttestationKeyCredential vAik, PcrSelectionList pcrs)
{
    // One vTPM, one command at a time: concurrent challengers are served in turn.
    private readonly Lock _tpmLock = new();

    /// <summary>The VM.</summary>
    public Guid VmId { get; } = vmId;

    /// <summary>The vTPM.</summary>
    public Tpm2 VTpm { get; } = vTpm ?? throw new ArgumentNullException(nameof(vTpm));

    /// <summary>The vEK credential the agent presents.</summary>
    public VEkCredential VEk { get; } = vek ?? throw new ArgumentNullException(nameof(vek));

    /// <summary>The vAIK credential.</summary>
    public AttestationKeyCredential VAik { get; } = vAik ?? throw new ArgumentNullException(nameof(vAik));

    /// <summary>Optional runtime evidence for the top response (quoted over N1 on the vTPM); null: none is sent.</summary>
    public IRuntimeEvidenceSource? RuntimeEvidence { get; init; }

    /// <summary>Answers a top-layer challenge: a vTPM quote by the vAIK over N1 and the challenge's vPCR selection, the guest log, the vAIK chain.</summary>
    /// <param name="challenge">The challenge.</param>
    /// <returns>The response.</returns>
    /// <exception cref="ArgumentException">The challenge is for another VM or its nonce or vPCR selection is unusable.</exception>
    /// <exception cref="TpmException">The vTPM refused.</exception>
    public TopResponse Answer(TopChallenge challenge)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        if (challenge.VmId != VmId)
        {
            throw new ArgumentException($"The challenge is for VM {challenge.VmId}, this agent is in {VmId}.", nameof(challenge));
        }

        CheckNonce(challenge.Nonce, nameof(challenge));
        var selection = challenge.Pcrs is null || !challenge.Pcrs.Enumerate().Any() ? pcrs : challenge.Pcrs;
        lock (_tpmLock)
        {
            var quote = QuoteWithPrimaryAk(VTpm, challenge.Nonce, selection);
            var evidence = RuntimeEvidence?.Collect(VTpm, challenge.Nonce);
            return new TopResponse(VmId, quote, guest.GetEventLog(), VEk.VEk, [VAik.Certificate, .. VEk.Chain]) { RuntimeEvidence = evidence };
        }
    }

    internal static void CheckNonce(byte[]? nonce, string parameter)
    {
        // TPMS_ATTEST.extraData is a TPM2B_DATA: at most the size of the largest digest.
        if (nonce is null || nonce.Length is 0 or > 64)
        {
            throw new ArgumentException($"A nonce of {nonce?.Length ?? 0} octets: it must have 1 to 64.", parameter);
        }
    }

    internal static QuoteEvidence QuoteWithPrimaryAk(Tpm2 tpm, byte[] nonce, PcrSelectionList pcrs)
    {
        var ak = tpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        try
        {
            return TvpQtDemo.Quote(tpm, ak, nonce, pcrs);
        }
        finally
        {
            tpm.FlushContext(ak.Handle);
        }
    }
}

/// <summary>The Attestation Service in the VMM: answers the bottom-layer challenge on the hardware TPM.</summary>
/// <param name="hardwareTpm">The hardware TPM.</param>
/// <param name="platform">The platform measurement (its event log, junction events included).</param>
/// <param name="aik">The hardware AIK credential (re-created as a primary on demand).</param>
/// <param name="pcrs">The hardware PCRs to quote: the virtualization layer's and the junction PCR.</param>
public sealed class AttestationService(Tpm2 hardwareTpm, PlatformMeasurement platform, AttestationKeyCredential aik, PcrSelectionList pcrs)
{
    // The hardware TPM serves every VM's challengers: one command sequence at a time.
    private readonly Lock _tpmLock = new();

    /// <summary>The hardware AIK credential.</summary>
    public AttestationKeyCredential Aik { get; } = aik ?? throw new ArgumentNullException(nameof(aik));

    /// <summary>Answers a bottom-layer challenge: a hardware quote by the AIK over N2, the platform log, the AIK certificate.</summary>
    /// <param name="challenge">The challenge.</param>
    /// <returns>The response.</returns>
    /// <exception cref="ArgumentException">The nonce is unusable.</exception>
    /// <exception cref="TpmException">The hardware TPM refused.</exception>
    public BottomResponse Answer(BottomChallenge challenge)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        AttestationAgent.CheckNonce(challenge.Nonce, nameof(challenge));
        lock (_tpmLock)
        {
            var quote = AttestationAgent.QuoteWithPrimaryAk(hardwareTpm, challenge.Nonce, pcrs);
            return new BottomResponse(quote, platform.GetEventLog(), Aik.Certificate);
        }
    }
}

/// <summary>How the challenger reaches the Attestation Agents and the Attestation Service.</summary>
public interface ITvpPcaTransport
{
    /// <summary>Sends a top-layer challenge to the VM's Attestation Agent.</summary>
    /// <param name="challenge">The challenge.</param>
    /// <returns>The agent's response.</returns>
    TopResponse RequestTop(TopChallenge challenge);

    /// <summary>Sends a bottom-layer challenge to the Attestation Service of the VM's platform.</summary>
    /// <param name="challenge">The challenge.</param>
    /// <returns>The service's response.</returns>
    BottomResponse RequestBottom(BottomChallenge challenge);
}

/// <summary>An in-process transport: every message goes through <see cref="TvpPcaCodec"/> both ways, as it would on a wire.</summary>
/// <param name="service">The platform's Attestation Service.</param>
/// <param name="agents">The agents of the platform's VMs.</param>
public sealed class InProcessTvpPcaTransport(AttestationService service, IEnumerable<AttestationAgent> agents) : ITvpPcaTransport
{
    private readonly Dictionary<Guid, AttestationAgent> _agents = agents.ToDictionary(a => a.VmId);

    /// <inheritdoc/>
    /// <exception cref="KeyNotFoundException">No agent of that VM.</exception>
    public TopResponse RequestTop(TopChallenge challenge)
    {
        var c = TvpPcaCodec.DecodeTopChallenge(TvpPcaCodec.Encode(challenge));
        var agent = _agents.TryGetValue(c.VmId, out var a) ? a : throw new KeyNotFoundException($"No attestation agent of VM {c.VmId}.");
        return TvpPcaCodec.DecodeTopResponse(TvpPcaCodec.Encode(agent.Answer(c)));
    }

    /// <inheritdoc/>
    public BottomResponse RequestBottom(BottomChallenge challenge) =>
        TvpPcaCodec.DecodeBottomResponse(TvpPcaCodec.Encode(service.Answer(TvpPcaCodec.DecodeBottomChallenge(TvpPcaCodec.Encode(challenge)))));
}

/// <summary>One attestation: what was sent, what came back, and the verdict.</summary>
/// <param name="TopChallenge">The top challenge (N1).</param>
/// <param name="TopResponse">The agent's response.</param>
/// <param name="BottomChallenge">The bottom challenge (N2).</param>
/// <param name="BottomResponse">The service's response.</param>
/// <param name="Result">The verdict.</param>
public sealed record TvpPcaAttestation(TopChallenge TopChallenge, TopResponse TopResponse, BottomChallenge BottomChallenge, BottomResponse BottomResponse, TvpPcaResult Result);

/// <summary>The Challenger: runs the top-down protocol (top layer, then bottom layer with the chained nonce) and decides.</summary>
/// <param name="transport">How to reach the agents and the service.</param>
/// <param name="verifier">The verifier.</param>
/// <param name="random">Source of N1.</param>
public sealed class Challenger(ITvpPcaTransport transport, TvpPcaVerifier verifier, IRandomSource random)
{
    /// <summary>The size of N1 in octets.</summary>
    public const int NonceSize = 32;

    /// <summary>N2 = SHA-256(N1 ‖ top quote's TPMS_ATTEST bytes): the bottom nonce tied to this very top quote.</summary>
    /// <param name="n1">N1.</param>
    /// <param name="topQuoteAttest">The top quote's signed TPMS_ATTEST.</param>
    /// <returns>N2.</returns>
    public static byte[] ChainNonce(ReadOnlySpan<byte> n1, ReadOnlySpan<byte> topQuoteAttest)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(n1);
        h.AppendData(topQuoteAttest);
        return h.GetHashAndReset();
    }

    /// <summary>The vPCR selection the challenger asks the agent to quote (default <see cref="TopChallenge.DefaultPcrs"/>).</summary>
    public PcrSelectionList Pcrs { get; init; } = TopChallenge.DefaultPcrs;

    /// <summary>Attests one VM top-down.</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>The transcript and the verdict.</returns>
    public TvpPcaAttestation Attest(Guid vmId)
    {
        var top = new TopChallenge(vmId, random.GetBytes(NonceSize), Pcrs);
        var topResponse = transport.RequestTop(top);
        var bottom = new BottomChallenge(vmId, ChainNonce(top.Nonce, topResponse.Quote.Attest));
        var bottomResponse = transport.RequestBottom(bottom);
        return new TvpPcaAttestation(top, topResponse, bottom, bottomResponse, verifier.Verify(top, topResponse, bottomResponse));
    }
}
