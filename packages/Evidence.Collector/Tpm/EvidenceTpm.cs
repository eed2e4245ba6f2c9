using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector;

/// <summary>A TPM2_Create'd sealed data object: the private blob (wrapped by the storage key) and its public area.</summary>
/// <param name="Private">TPM2B_PRIVATE contents.</param>
/// <param name="Public">The public area (with the PolicyPCR authPolicy).</param>
public sealed record SealedBlob(byte[] Private, TpmtPublic Public);

/// <summary>
/// The TPM operations of the agent, over Tpm.Hardware's <see cref="Tpm2"/> client: reset and
/// extend the evidence PCR, an attestation key (an ECC P-256 restricted signing primary in the
/// endorsement hierarchy, so the same TPM always re-derives the same AK), quotes, and sealing
/// to platform PCRs under a storage primary (ECC P-256 SRK in the owner hierarchy).
/// </summary>
public sealed class EvidenceTpm : IDisposable
{
    private readonly bool _ownsClient;
    private uint? _ak;
    private TpmtPublic? _akPublic;
    private uint? _srk;

    /// <summary>Wraps a client.</summary>
    /// <param name="client">The TPM client (started up).</param>
    /// <param name="ownsClient">Dispose the client with this object.</param>
    public EvidenceTpm(Tpm2 client, bool ownsClient = false)
    {
        ArgumentNullException.ThrowIfNull(client);
        Client = client;
        _ownsClient = ownsClient;
    }

    /// <summary>The client.</summary>
    public Tpm2 Client { get; }

    /// <summary>The attestation key's public area (created on first use).</summary>
    public TpmtPublic AttestationKey
    {
        get
        {
            EnsureAk();
            return _akPublic!;
        }
    }

    /// <summary>TPM2_PCR_Reset of <paramref name="pcr"/> (PC Client: 16 and 23 at locality 0).</summary>
    /// <exception cref="TpmException">TPM_RC_LOCALITY when the PCR may not be reset.</exception>
    public void ResetPcr(int pcr) => Client.PcrReset((uint)pcr);

    /// <summary>TPM2_PCR_Extend of one bank.</summary>
    public void Extend(int pcr, TpmAlgId bank, byte[] digest) => Client.PcrExtend((uint)pcr, bank, digest);

    /// <summary>TPM2_PCR_Read of one PCR.</summary>
    public byte[] ReadPcr(int pcr, TpmAlgId bank) =>
        Client.PcrReadAll(PcrSelectionList.Create(bank, pcr)).TryGetValue((bank, pcr), out var v) ? v
        : throw new InvalidOperationException($"The TPM has no {bank} bank for PCR {pcr}.");

    /// <summary>TPM2_Quote of <paramref name="selection"/> with <paramref name="nonce"/> by the attestation key.</summary>
    public QuoteResult Quote(byte[] nonce, PcrSelectionList selection)
    {
        EnsureAk();
        return Client.Quote(_ak!.Value, nonce, selection);
    }

    /// <summary>
    /// Seals <paramref name="secret"/> under the storage primary with a PolicyPCR policy over the
    /// current values of <paramref name="pcrs"/>: it unseals only while those PCRs hold them.
    /// </summary>
    public SealedBlob Seal(ReadOnlySpan<byte> secret, PcrSelectionList pcrs)
    {
        ArgumentNullException.ThrowIfNull(pcrs);
        var values = Client.PcrReadAll(pcrs);
        var ordered = pcrs.Enumerate().Select(p => values[p]).ToArray();
        var policy = PolicyDigest.PolicyPcr(TpmAlgId.Sha256, PolicyDigest.Initial(TpmAlgId.Sha256), pcrs, ordered);
        var created = Client.Create(EnsureSrk(), TpmTemplates.SealedData(policy), new TpmsSensitiveCreate([], secret.ToArray()));
        return new SealedBlob(created.Private, created.Public);
    }

    /// <summary>Unseals a blob from <see cref="Seal"/> through a policy session with TPM2_PolicyPCR.</summary>
    /// <exception cref="TpmException">TPM_RC_POLICY_FAIL when the PCRs changed; integrity errors when the blob was altered.</exception>
    public byte[] Unseal(SealedBlob blob, PcrSelectionList pcrs)
    {
        ArgumentNullException.ThrowIfNull(blob);
        var loaded = Client.Load(EnsureSrk(), blob.Private, blob.Public);
        try
        {
            using var session = Client.StartAuthSession(TpmSe.Policy);
            try
            {
                Client.PolicyPcr(session, pcrs);
                return Client.Unseal(loaded.Handle, TpmAuthorization.Session(session, default, TpmaSession.None));
            }
            catch
            {
                Client.FlushContext(session);
                throw;
            }
        }
        finally
        {
            Client.FlushContext(loaded.Handle);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var handle in new[] { _ak, _srk })
        {
            if (handle is { } h)
            {
                try
                {
                    Client.FlushContext(h);
                }
                catch (Exception e) when (e is TpmException or IOException or ObjectDisposedException)
                {
                }
            }
        }

        _ak = _srk = null;
        if (_ownsClient)
        {
            Client.Dispose();
        }
    }

    private void EnsureAk()
    {
        if (_ak is null)
        {
            var ak = Client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
            _ak = ak.Handle;
            _akPublic = ak.Public;
        }
    }

    private uint EnsureSrk() => _srk ??= Client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle;
}
