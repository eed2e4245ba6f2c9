using System.Buffers.Binary;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Writes a TCG PC Client crypto-agile event log that <see cref="TcgEventLog.Parse"/>, Linux and
/// tpm2_eventlog read: the Spec ID event, then one TCG_PCR_EVENT2 per added event with a digest
/// for every bank. For the engine's measured-boot demo and for tests.
/// </summary>
public sealed class TcgEventLogWriter
{
    private readonly TpmAlgId[] _banks;
    private readonly List<byte> _events = [];

    /// <summary>Creates a writer for a log with digests in <paramref name="banks"/> (in that order).</summary>
    /// <exception cref="ArgumentException">No bank, a repeated bank, or a hash TrustStack cannot compute.</exception>
    public TcgEventLogWriter(params IEnumerable<TpmAlgId> banks)
    {
        ArgumentNullException.ThrowIfNull(banks);
        _banks = banks.ToArray();
        if (_banks.Length == 0 || _banks.Distinct().Count() != _banks.Length || !_banks.All(TpmHash.IsSupported))
        {
            throw new ArgumentException("Give one or more distinct supported hash algorithms.", nameof(banks));
        }
    }

    /// <summary>The banks of the log.</summary>
    public IReadOnlyList<TpmAlgId> Banks => _banks;

    /// <summary>
    /// Adds an event whose digests are H_bank(<paramref name="eventData"/>), as firmware logs
    /// EV_SEPARATOR, EV_EFI_ACTION, EV_S_CRTM_VERSION and friends. EV_NO_ACTION events get
    /// all-zero digests (they are never extended).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The PCR index exceeds 31.</exception>
    public TcgEventLogWriter AddEvent(uint pcrIndex, TcgEventType eventType, ReadOnlySpan<byte> eventData) =>
        AddMeasurement(pcrIndex, eventType, eventData, eventData);

    /// <summary>
    /// Adds an event whose digests are H_bank(<paramref name="measured"/>) while the log carries
    /// <paramref name="eventData"/> (for example a firmware blob measured and described by its address).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The PCR index exceeds 31.</exception>
    public TcgEventLogWriter AddMeasurement(uint pcrIndex, TcgEventType eventType, ReadOnlySpan<byte> measured, ReadOnlySpan<byte> eventData)
    {
        var digests = new List<TpmtHa>(_banks.Length);
        foreach (var bank in _banks)
        {
            digests.Add(new TpmtHa(bank, eventType == TcgEventType.NoAction ? new byte[TpmHash.DigestSize(bank)] : TpmHash.Hash(bank, measured)));
        }

        return AddEventWithDigests(pcrIndex, eventType, digests, eventData);
    }

    /// <summary>Adds an event with the given digests (one per bank, any order; the log keeps the order given).</summary>
    /// <exception cref="ArgumentException">A digest is for another bank, has the wrong size, or a bank is missing or repeated.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The PCR index exceeds 31.</exception>
    public TcgEventLogWriter AddEventWithDigests(uint pcrIndex, TcgEventType eventType, IReadOnlyList<TpmtHa> digests, ReadOnlySpan<byte> eventData)
    {
        ArgumentNullException.ThrowIfNull(digests);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pcrIndex, (uint)PcrValues.MaxPcr);
        if (digests.Count != _banks.Length || digests.Select(d => d.HashAlg).Distinct().Count() != digests.Count ||
            !digests.All(d => _banks.Contains(d.HashAlg) && d.Digest.Length == TpmHash.DigestSize(d.HashAlg)))
        {
            throw new ArgumentException("Give exactly one digest of the right size for each bank of the log.", nameof(digests));
        }

        AddU32(_events, pcrIndex);
        AddU32(_events, (uint)eventType);
        AddU32(_events, (uint)digests.Count);
        Span<byte> alg = stackalloc byte[2];
        foreach (var d in digests)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(alg, (ushort)d.HashAlg);
            _events.AddRange(alg);
            _events.AddRange(d.Digest);
        }

        AddU32(_events, (uint)eventData.Length);
        _events.AddRange(eventData);
        return this;
    }

    /// <summary>
    /// Adds the StartupLocality event (EV_NO_ACTION in PCR 0, data "StartupLocality\0" ‖ locality,
    /// PC Client PFP §10.4.5.3): the TPM was started from <paramref name="locality"/> (3 for a
    /// D-CRTM-less locality-3 startup), so PCR 0 starts with that value in its last octet. Add it
    /// before any PCR 0 measurement.
    /// </summary>
    public TcgEventLogWriter AddStartupLocality(byte locality)
    {
        var data = new byte[TcgEventLog.StartupLocalitySignature.Length + 1];
        TcgEventLog.StartupLocalitySignature.CopyTo(data);
        data[^1] = locality;
        return AddEvent(0, TcgEventType.NoAction, data);
    }

    /// <summary>The log: the Spec ID event (SHA-1 TCG_PCR_EVENT format) and every event added so far.</summary>
    public byte[] ToArray()
    {
        // TCG_EfiSpecIDEvent: signature, platformClass 0 (client), spec 2.0 errata 0, UINTN 64-bit,
        // the algorithm table, no vendor info.
        var spec = new List<byte>(TcgSpecIdEvent.Signature.ToArray());
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, 0);
        spec.AddRange(buffer);
        spec.AddRange([0, 2, 0, 2]);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)_banks.Length);
        spec.AddRange(buffer);
        foreach (var bank in _banks)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(buffer, (ushort)bank);
            BinaryPrimitives.WriteUInt16LittleEndian(buffer[2..], (ushort)TpmHash.DigestSize(bank));
            spec.AddRange(buffer);
        }

        spec.Add(0);

        var log = new List<byte>(32 + spec.Count + _events.Count);
        log.AddRange(new byte[4]);                                    // pcrIndex 0
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)TcgEventType.NoAction);
        log.AddRange(buffer);
        log.AddRange(new byte[20]);                                   // SHA-1 digest, zero
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)spec.Count);
        log.AddRange(buffer);
        log.AddRange(spec);
        log.AddRange(_events);
        return [.. log];
    }

    private static void AddU32(List<byte> output, uint value)
    {
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, value);
        output.AddRange(buffer);
    }
}
