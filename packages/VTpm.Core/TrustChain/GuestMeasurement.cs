using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// Measured boot of a guest into its vTPM (the last layer of the TVP-QT chain): each component
/// is extended into its vPCR (every bank) and logged in the guest's own TCG crypto-agile log
/// before it runs, by its predecessor. Thread-safe.
/// </summary>
public sealed class GuestMeasurement
{
    /// <summary>The <c>measured-by</c> of the first guest component: the vTPM's virtual root of trust for measurement.</summary>
    public const string RootOfTrustName = "virtual-crtm";

    private readonly MeasurementLog _log;
    private readonly List<GuestComponent> _measured = [];

    /// <summary>Creates the measurement of a guest whose vTPM <paramref name="vTpm"/> reaches (started).</summary>
    /// <param name="vTpm">A client on the vTPM's transport.</param>
    /// <param name="banks">The banks; by default every allocated bank TrustStack can hash.</param>
    /// <exception cref="ArgumentException">A bank is repeated or unsupported.</exception>
    /// <exception cref="TpmException">The vTPM refused the capability read.</exception>
    public GuestMeasurement(Tpm2 vTpm, IEnumerable<TpmAlgId>? banks = null)
    {
        _log = new MeasurementLog(vTpm, banks);
    }

    /// <summary>The banks of the log.</summary>
    public IReadOnlyList<TpmAlgId> Banks => _log.Banks;

    /// <summary>The components measured so far.</summary>
    public IReadOnlyList<GuestComponent> Measured
    {
        get
        {
            lock (_log.SyncRoot)
            {
                return _measured.ToArray();
            }
        }
    }

    /// <summary>Measures <paramref name="component"/> before it runs; the last measured component is its measurer.</summary>
    /// <exception cref="ArgumentException">Its name repeats a measured one, has a line feed, its kind goes back in boot order, or its PCR is above 23.</exception>
    /// <exception cref="TpmException">The vTPM refused the extend.</exception>
    public void Measure(GuestComponent component)
    {
        ArgumentNullException.ThrowIfNull(component);
        lock (_log.SyncRoot)
        {
            // Validates name, PCR and order against what ran before.
            _ = new GuestBootProfile([.. _measured, component]);
            var measurer = _measured.Count == 0 ? RootOfTrustName : _measured[^1].Name;
            _log.Measure(component.PcrIndex, component.Content, TvpQtEventData.ForComponent(_measured.Count + 1, component.Name, component.Kind.ToString(), measurer));
            _measured.Add(component);
        }
    }

    /// <summary>Measures every component of <paramref name="profile"/> in order.</summary>
    /// <exception cref="ArgumentException">A component clashes with one measured before.</exception>
    /// <exception cref="TpmException">The vTPM refused an extend.</exception>
    public void MeasureBoot(GuestBootProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        foreach (var component in profile.Components)
        {
            Measure(component);
        }
    }

    /// <summary>The guest event log so far.</summary>
    public byte[] GetEventLog() => _log.ToArray();
}
