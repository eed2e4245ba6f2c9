using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// A TPM and its event log kept in step: every extend and its log entry happen under one lock,
/// so the log's order is the order of the extends and a replay always matches the PCRs.
/// </summary>
internal sealed class MeasurementLog
{
    private readonly Lock _lock = new();
    private readonly Tpm2 _tpm;
    private readonly TcgEventLogWriter _writer;

    public MeasurementLog(Tpm2 tpm, IEnumerable<TpmAlgId>? banks)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        _tpm = tpm;
        var chosen = banks?.ToArray() ?? AllocatedBanks(tpm);
        _writer = new TcgEventLogWriter(chosen);
    }

    public IReadOnlyList<TpmAlgId> Banks => _writer.Banks;

    public Lock SyncRoot => _lock;

    /// <summary>Extends H_bank(<paramref name="measured"/>) into <paramref name="pcr"/> of every bank and logs it as EV_EVENT_TAG with <paramref name="data"/>.</summary>
    public void Measure(uint pcr, byte[] measured, TvpQtEventData data)
    {
        var digests = Banks.Select(b => new TpmtHa(b, TpmHash.Hash(b, measured))).ToArray();
        var eventData = data.ToBytes();
        lock (_lock)
        {
            _tpm.PcrExtend(pcr, digests);
            _writer.AddEventWithDigests(pcr, TcgEventType.EventTag, digests, eventData);
        }
    }

    public byte[] ToArray()
    {
        lock (_lock)
        {
            return _writer.ToArray();
        }
    }

    private static TpmAlgId[] AllocatedBanks(Tpm2 tpm)
    {
        // TPM2_GetCapability(TPM_CAP_PCRS): measure into every allocated bank we can hash, so no
        // bank is left at its reset value for an attacker to extend as he likes.
        var assigned = tpm.GetCapability(TpmCap.Pcrs, 0, 1).AssignedPcrs;
        var banks = assigned.Selections.Where(s => s.Pcrs.Any() && TpmHash.IsSupported(s.Hash)).Select(s => s.Hash).Distinct().ToArray();
        if (banks.Length == 0)
        {
            throw new InvalidOperationException("The TPM has no allocated PCR bank with a hash TrustStack supports.");
        }

        return banks;
    }
}
