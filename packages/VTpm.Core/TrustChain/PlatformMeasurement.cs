using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// Measured boot of the virtualization layer into the hardware TPM (TVP-QT, book ch. 2): each
/// component of a <see cref="PlatformBootProfile"/> is extended into its PCR (every bank) and
/// logged in a TCG crypto-agile event log before it runs, by its predecessor; the log records
/// who measured whom (<see cref="TvpQtEventData"/>). The same log then receives the trusted
/// junction point's launch events. Thread-safe.
/// </summary>
public sealed class PlatformMeasurement
{
    /// <summary>The <c>measured-by</c> of the first component: the core root of trust for measurement.</summary>
    public const string RootOfTrustName = "crtm";

    private readonly MeasurementLog _log;
    private readonly List<PlatformComponent> _measured = [];
    private PlatformBootProfile? _profile;

    /// <summary>Creates the measurement of a platform whose hardware TPM <paramref name="hardwareTpm"/> reaches (started, PCRs at reset).</summary>
    /// <param name="hardwareTpm">The hardware TPM client.</param>
    /// <param name="banks">The banks to measure into; by default every allocated bank TrustStack can hash (TPM2_GetCapability).</param>
    /// <exception cref="ArgumentException">A bank is repeated or unsupported.</exception>
    /// <exception cref="TpmException">The TPM refused the capability read.</exception>
    public PlatformMeasurement(Tpm2 hardwareTpm, IEnumerable<TpmAlgId>? banks = null)
    {
        _log = new MeasurementLog(hardwareTpm, banks);
    }

    /// <summary>The banks of the log (and the banks extended).</summary>
    public IReadOnlyList<TpmAlgId> Banks => _log.Banks;

    /// <summary>The profile being measured, or null before <see cref="Begin"/>.</summary>
    public PlatformBootProfile? Profile
    {
        get
        {
            lock (_log.SyncRoot)
            {
                return _profile;
            }
        }
    }

    /// <summary>The components measured so far, in order.</summary>
    public IReadOnlyList<PlatformComponent> Measured
    {
        get
        {
            lock (_log.SyncRoot)
            {
                return _measured.ToArray();
            }
        }
    }

    /// <summary>True once every component of the profile, the junction point included, has been measured.</summary>
    public bool IsComplete
    {
        get
        {
            lock (_log.SyncRoot)
            {
                return _profile is not null && _measured.Count == _profile.Components.Count;
            }
        }
    }

    /// <summary>Starts measuring <paramref name="profile"/>; then call <see cref="MeasureNext"/> once per component.</summary>
    /// <exception cref="InvalidOperationException">A profile was already begun.</exception>
    public void Begin(PlatformBootProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        lock (_log.SyncRoot)
        {
            if (_profile is not null)
            {
                throw new InvalidOperationException("This platform has already begun measuring its boot profile.");
            }

            _profile = profile;
        }
    }

    /// <summary>
    /// The running component measures its successor: extends the next component's digest and logs
    /// it, naming the measurer. Only after this returns may that component run.
    /// </summary>
    /// <returns>The component just measured.</returns>
    /// <exception cref="InvalidOperationException">No profile was begun, or every component is already measured.</exception>
    /// <exception cref="TpmException">The TPM refused the extend.</exception>
    public PlatformComponent MeasureNext()
    {
        lock (_log.SyncRoot)
        {
            if (_profile is null || _measured.Count == _profile.Components.Count)
            {
                throw new InvalidOperationException(_profile is null ? "Call Begin first." : "Every component of the profile is already measured.");
            }

            var next = _profile.Components[_measured.Count];
            var measurer = _measured.Count == 0 ? RootOfTrustName : _measured[^1].Name;
            _log.Measure(next.PcrIndex, next.Content, TvpQtEventData.ForComponent(_measured.Count + 1, next.Name, next.Kind.ToString(), measurer));
            _measured.Add(next);
            return next;
        }
    }

    /// <summary>Measures the whole profile in order (<see cref="Begin"/>, then <see cref="MeasureNext"/> for each component).</summary>
    /// <exception cref="InvalidOperationException">A profile was already begun.</exception>
    /// <exception cref="TpmException">The TPM refused an extend.</exception>
    public void MeasureBoot(PlatformBootProfile profile)
    {
        Begin(profile);
        while (!IsComplete)
        {
            MeasureNext();
        }
    }

    /// <summary>The event log so far (a TCG crypto-agile log, <see cref="TcgEventLog.Parse"/> reads it).</summary>
    public byte[] GetEventLog() => _log.ToArray();

    /// <summary>Measures and logs a junction-point launch event under the platform's lock.</summary>
    internal int MeasureLaunch(uint pcr, VTpmLaunch launch, Func<int> nextSequence)
    {
        lock (_log.SyncRoot)
        {
            if (_profile is null || _measured.Count != _profile.Components.Count)
            {
                throw new InvalidOperationException("The trusted junction point has not been measured yet: the platform chain must be complete before any vTPM launches.");
            }

            var sequence = nextSequence();
            _log.Measure(pcr, TrustedJunctionPoint.LaunchMeasurement(launch), TvpQtEventData.ForLaunch(sequence, launch, _profile.JunctionPoint.Name));
            return sequence;
        }
    }
}
