using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// The trusted junction point of TVP-QT (book ch. 2): the last measured component of the
/// virtualization layer. Each time a VM's vTPM starts it extends the junction PCR with
/// H(code identity ‖ vEK public digest ‖ VM UUID) in every bank and logs an EV_EVENT_TAG event
/// (<see cref="TvpQtEventTag.VTpmLaunch"/>) naming the VM and the vEK, then hands control to the
/// vTPM. The junction PCR accumulates one event per launch, at any time; launches are serialized
/// with the platform log, so the log's order is the extend order. Thread-safe.
/// </summary>
/// <remarks>
/// The junction PCR defaults to 15: PC Client PFP §3.3.4 gives PCRs 8–15 to the static OS and no
/// firmware or boot loader extends 15, while 16 (debug) and 23 (application) can be reset at
/// locality 0, which would let anyone erase the launch history. Hosts whose management domain
/// already uses 15 (systemd ≥ 253 extends it with the machine id) choose another static-OS PCR.
/// </remarks>
public sealed class TrustedJunctionPoint : IVTpmLaunchObserver
{
    /// <summary>The default junction PCR (see remarks).</summary>
    public const uint DefaultPcr = 15;

    private readonly PlatformMeasurement _platform;
    private int _launches;

    /// <summary>Creates the junction point of <paramref name="platform"/>.</summary>
    /// <param name="platform">The platform whose log and hardware TPM receive the launch measurements.</param>
    /// <param name="pcr">The junction PCR.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pcr"/> is above 23, or is 16 or 23 (resettable at locality 0).</exception>
    public TrustedJunctionPoint(PlatformMeasurement platform, uint pcr = DefaultPcr)
    {
        ArgumentNullException.ThrowIfNull(platform);
        if (pcr > 23 || pcr is 16 or 23)
        {
            throw new ArgumentOutOfRangeException(nameof(pcr), pcr, "The junction PCR must be 0..22 and not resettable (16, 23).");
        }

        _platform = platform;
        Pcr = pcr;
    }

    /// <summary>The junction PCR.</summary>
    public uint Pcr { get; }

    /// <summary>How many launches have been measured.</summary>
    public int LaunchCount => Volatile.Read(ref _launches);

    /// <summary>
    /// The octets measured for a launch: code identity ‖ vEK public digest ‖ the VM UUID in RFC 4122
    /// (big-endian) order. The junction PCR is extended with H_bank of this.
    /// </summary>
    /// <exception cref="ArgumentException">The code or vEK public digest is empty.</exception>
    public static byte[] LaunchMeasurement(VTpmLaunch launch)
    {
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentNullException.ThrowIfNull(launch.CodeDigest);
        ArgumentNullException.ThrowIfNull(launch.EkPublicDigest);
        if (launch.CodeDigest.Length == 0 || launch.EkPublicDigest.Length == 0)
        {
            throw new ArgumentException("The launch needs a code identity and a vEK public digest.", nameof(launch));
        }

        return [.. launch.CodeDigest, .. launch.EkPublicDigest, .. launch.VmId.ToByteArray(bigEndian: true)];
    }

    /// <summary>Measures the launch of a vTPM into the junction PCR and the platform log.</summary>
    /// <exception cref="ArgumentException">The code identity or vEK public digest is not a SHA-256 digest, or the vEK Name is not SHA-256 ‖ vEK public digest.</exception>
    /// <exception cref="InvalidOperationException">The platform chain (up to this junction point) is not measured yet.</exception>
    /// <exception cref="TpmException">The hardware TPM refused the extend; the launch must stop.</exception>
    public void OnLaunch(VTpmLaunch launch)
    {
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentNullException.ThrowIfNull(launch.EkName);
        if (launch.CodeDigest?.Length != 32 || launch.EkPublicDigest?.Length != 32)
        {
            throw new ArgumentException("The code identity and the vEK public digest are SHA-256 digests.", nameof(launch));
        }

        if (launch.EkName.Length != 34 || launch.EkName[0] != 0x00 || launch.EkName[1] != 0x0b ||
            !CryptographicOperations.FixedTimeEquals(launch.EkName.AsSpan(2), launch.EkPublicDigest))
        {
            throw new ArgumentException("The vEK Name must be TPM_ALG_SHA256 ‖ the vEK public digest.", nameof(launch));
        }

        _platform.MeasureLaunch(Pcr, launch, () => Interlocked.Increment(ref _launches));
    }
}
