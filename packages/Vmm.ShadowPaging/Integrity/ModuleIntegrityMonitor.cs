using System.Security.Cryptography;
using System.Text;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Vmm.ShadowPaging;

/// <summary>
/// Integrity of the MMU-vTPM module itself (book ch. 4): when the VMM loads the module its code
/// image is copied into machine frames and <em>statically</em> measured into a hardware-TPM PCR
/// with a TCG event-log entry; a backup of the image is encrypted under a key sealed by the
/// hardware TPM to that PCR (TPM2_Create of a KEYEDHASH sealed object with TPM2_PolicyPCR).
/// <see cref="Check"/> is the <em>dynamic</em> measurement: it re-hashes the in-memory code pages
/// against the reference; on mismatch it raises an alert, unseals the key (TPM2_Unseal in a
/// PolicyPCR session), restores the pages and records the restore.
/// </summary>
public sealed class ModuleIntegrityMonitor
{
    private const int KeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly Hypervisor _hypervisor;
    private readonly Tpm2 _tpm;
    private readonly IRandomSource _random;
    private readonly TimeProvider _time;
    private readonly List<IntegrityEvent> _events = [];
    private readonly TcgEventLogWriter _eventLog = new(TpmAlgId.Sha256);
    private ulong[] _codeFrames = [];
    private byte[][] _pageDigests = [];
    private byte[] _reference = [];
    private int _imageLength;
    private byte[] _backup = [];
    private byte[] _sealedPrivate = [];
    private TpmtPublic? _sealedPublic;

    /// <summary>Creates a monitor that measures into <paramref name="pcr"/> of the hardware TPM reached by <paramref name="tpm"/>.</summary>
    /// <param name="hypervisor">Whose machine memory holds the code pages.</param>
    /// <param name="tpm">The hardware TPM (the platform's, not a vTPM).</param>
    /// <param name="random">Randomness for the backup key and nonce.</param>
    /// <param name="pcr">The SHA-256 PCR for the static measurement (default 14).</param>
    /// <param name="timeProvider">Clock for the record.</param>
    /// <exception cref="ArgumentOutOfRangeException">The PCR is outside 0..23.</exception>
    public ModuleIntegrityMonitor(Hypervisor hypervisor, Tpm2 tpm, IRandomSource random, int pcr = 14, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(hypervisor);
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(pcr);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pcr, 23);
        _hypervisor = hypervisor;
        _tpm = tpm;
        _random = random;
        Pcr = pcr;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The PCR the static measurement goes into.</summary>
    public int Pcr { get; }

    /// <summary>Whether <see cref="Load"/> has run.</summary>
    public bool IsLoaded => _codeFrames.Length > 0;

    /// <summary>The machine frames that hold the module's code pages.</summary>
    public IReadOnlyList<ulong> CodeFrames => _codeFrames;

    /// <summary>SHA-256 of the code image as loaded (the reference).</summary>
    public ReadOnlyMemory<byte> ReferenceDigest => _reference;

    /// <summary>The integrity record, oldest first.</summary>
    public IReadOnlyList<IntegrityEvent> Events => _events;

    /// <summary>The TCG crypto-agile event log (SHA-256 bank) of the static measurement.</summary>
    public byte[] EventLog() => _eventLog.ToArray();

    /// <summary>
    /// Loads the module: copies <paramref name="codeImage"/> into fresh machine frames, extends
    /// SHA-256(image) into <see cref="Pcr"/> (EV_IPL event in the log), then seals the backup key to
    /// the PCR's new value.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already loaded.</exception>
    /// <exception cref="ArgumentException">The image is empty.</exception>
    /// <exception cref="TpmException">The hardware TPM refused a command.</exception>
    public void Load(string moduleName, ReadOnlySpan<byte> codeImage)
    {
        ArgumentException.ThrowIfNullOrEmpty(moduleName);
        if (IsLoaded)
        {
            throw new InvalidOperationException("The module is already loaded.");
        }

        if (codeImage.IsEmpty)
        {
            throw new ArgumentException("The code image is empty.", nameof(codeImage));
        }

        var pages = (codeImage.Length + MachineMemory.FrameSize - 1) / MachineMemory.FrameSize;
        var frames = new ulong[pages];
        var pageDigests = new byte[pages][];
        for (var i = 0; i < pages; i++)
        {
            frames[i] = _hypervisor.Memory.Allocate();
            var chunk = codeImage.Slice(i * MachineMemory.FrameSize, Math.Min(MachineMemory.FrameSize, codeImage.Length - (i * MachineMemory.FrameSize)));
            var frame = _hypervisor.Memory.Frame(frames[i]);
            chunk.CopyTo(frame);
            pageDigests[i] = SHA256.HashData(frame);
        }

        _codeFrames = frames;
        _pageDigests = pageDigests;
        _imageLength = codeImage.Length;
        _reference = SHA256.HashData(codeImage);

        // Static measurement.
        _tpm.PcrExtend((uint)Pcr, TpmAlgId.Sha256, _reference);
        var description = Encoding.UTF8.GetBytes($"MMU-vTPM module {moduleName} ({codeImage.Length} octets, {pages} pages)");
        _eventLog.AddMeasurement((uint)Pcr, TcgEventType.Ipl, codeImage, description);
        Record(IntegrityEventKind.StaticMeasurement, $"{moduleName}: {pages} code pages measured into PCR sha256:{Pcr}", _reference);

        SealBackup(codeImage);
        Record(IntegrityEventKind.BackupSealed, $"backup key sealed by the hardware TPM with PolicyPCR sha256:{Pcr}", _reference);
    }

    /// <summary>
    /// Dynamic measurement: re-hashes the code pages; if any differs, records an alert, restores the
    /// image from the sealed backup, verifies it and records the restore.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not loaded.</exception>
    public IntegrityCheckResult Check()
    {
        if (!IsLoaded)
        {
            throw new InvalidOperationException("Load the module first.");
        }

        var modified = new List<int>();
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var i = 0; i < _codeFrames.Length; i++)
        {
            var frame = _hypervisor.Memory.Frame(_codeFrames[i]);
            SHA256.HashData(frame, digest);
            if (!CryptographicOperations.FixedTimeEquals(digest, _pageDigests[i]))
            {
                modified.Add(i);
            }

            whole.AppendData(frame[..Math.Min(MachineMemory.FrameSize, _imageLength - (i * MachineMemory.FrameSize))]);
        }

        var measured = whole.GetHashAndReset();
        if (modified.Count == 0)
        {
            Record(IntegrityEventKind.Verified, "code pages match the reference", measured);
            return new IntegrityCheckResult(true, false, [], measured);
        }

        Record(IntegrityEventKind.Alert, $"code pages {string.Join(',', modified)} differ from the reference", measured);
        try
        {
            Restore();
        }
        catch (Exception e) when (e is TpmException or CryptographicException or InvalidOperationException)
        {
            Record(IntegrityEventKind.RestoreFailed, e.Message, measured);
            return new IntegrityCheckResult(false, false, modified, measured);
        }

        Record(IntegrityEventKind.Restored, $"{modified.Count} page(s) restored from the sealed backup and verified", _reference);
        return new IntegrityCheckResult(false, true, modified, measured);
    }

    private void SealBackup(ReadOnlySpan<byte> image)
    {
        var key = new byte[KeySize];
        _random.Fill(key);
        try
        {
            var nonce = new byte[NonceSize];
            _random.Fill(nonce);
            var backup = new byte[NonceSize + TagSize + image.Length];
            nonce.CopyTo(backup, 0);
            using (var aes = new AesGcm(key, TagSize))
            {
                aes.Encrypt(nonce, image, backup.AsSpan(NonceSize + TagSize), backup.AsSpan(NonceSize, TagSize), _reference);
            }

            var selection = PcrSelectionList.Create(TpmAlgId.Sha256, Pcr);
            var values = _tpm.PcrReadAll(selection);
            var policy = PolicyDigest.PolicyPcr(TpmAlgId.Sha256, PolicyDigest.Initial(TpmAlgId.Sha256), selection, [values[(TpmAlgId.Sha256, Pcr)]]);
            var srk = _tpm.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
            try
            {
                var sealedObject = _tpm.Create(srk.Handle, TpmTemplates.SealedData(policy), new TpmsSensitiveCreate([], key));
                _sealedPrivate = sealedObject.Private;
                _sealedPublic = sealedObject.Public;
            }
            finally
            {
                _tpm.FlushContext(srk.Handle);
            }

            _backup = backup;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private void Restore()
    {
        var key = Unseal();
        var image = new byte[_imageLength];
        try
        {
            using (var aes = new AesGcm(key, TagSize))
            {
                aes.Decrypt(_backup.AsSpan(0, NonceSize), _backup.AsSpan(NonceSize + TagSize), _backup.AsSpan(NonceSize, TagSize), image, _reference);
            }

            if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(image), _reference))
            {
                throw new InvalidOperationException("The decrypted backup does not match the reference measurement.");
            }

            for (var i = 0; i < _codeFrames.Length; i++)
            {
                var frame = _hypervisor.Memory.Frame(_codeFrames[i]);
                frame.Clear();
                var start = i * MachineMemory.FrameSize;
                image.AsSpan(start, Math.Min(MachineMemory.FrameSize, _imageLength - start)).CopyTo(frame);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(image);
        }
    }

    private byte[] Unseal()
    {
        var srk = _tpm.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        try
        {
            var handle = _tpm.Load(srk.Handle, _sealedPrivate, _sealedPublic!).Handle;
            try
            {
                var session = _tpm.StartAuthSession(TpmSe.Policy);
                try
                {
                    _tpm.PolicyPcr(session, PcrSelectionList.Create(TpmAlgId.Sha256, Pcr));
                    return _tpm.Unseal(handle, TpmAuthorization.Session(session));
                }
                finally
                {
                    if (!session.IsClosed)
                    {
                        _tpm.FlushContext(session);
                    }

                    session.Dispose();
                }
            }
            finally
            {
                _tpm.FlushContext(handle);
            }
        }
        finally
        {
            _tpm.FlushContext(srk.Handle);
        }
    }

    private void Record(IntegrityEventKind kind, string detail, byte[] digest) =>
        _events.Add(new IntegrityEvent(_events.Count + 1, _time.GetUtcNow(), kind, detail, digest));
}
