using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// The destination side of vTPM migration (book ch. 1; Berger et al. 2006), over a
/// <see cref="VTpmManager"/> with a hardware TPM. It answers an offer request with a fresh
/// migration id, a quote of its virtualization layer and junction PCR and a migration key that
/// lives in its hardware TPM (a restricted decryption primary, fixedTPM) certified by its AK;
/// unwraps a package inside its TPM (TPM2_ActivateCredential), keeps the vTPM inactive and
/// returns a prepare-receipt signed by its AK; activates it (re-measured at the junction point)
/// only on the source's commit secret. Every message is idempotent; state is journaled before
/// each reply, and a restarted destination recovers from its journal (in the constructor).
/// Thread-safe: messages are handled one at a time.
/// </summary>
public sealed class VTpmMigrationDestination
{
    private readonly VTpmManager _manager;
    private readonly Tpm2 _hardware;
    private readonly MigrationJournal _journal;
    private readonly ILogger _logger;
    private readonly PcrSelectionList _quoteSelection;
    private readonly Lock _lock = new();

    /// <summary>Creates the destination and recovers unfinished migrations from the manager's journal (a committed one is activated).</summary>
    /// <param name="manager">The destination's vTPM manager; it needs the hardware TPM.</param>
    /// <param name="junctionPcr">The junction PCR quoted with the layer (the trusted junction point's PCR).</param>
    /// <exception cref="ArgumentException">The manager has no hardware TPM.</exception>
    public VTpmMigrationDestination(VTpmManager manager, uint junctionPcr = TrustedJunctionPoint.DefaultPcr)
    {
        ArgumentNullException.ThrowIfNull(manager);
        _manager = manager;
        _hardware = manager.Hardware ?? throw new ArgumentException("A migration destination needs a vTPM manager with a hardware TPM.", nameof(manager));
        _journal = new MigrationJournal(manager, "destination");
        _logger = manager.LoggerFactory.CreateLogger<VTpmMigrationDestination>();
        _quoteSelection = new MigrationTrustPolicy([], PcrValues.Empty, PcrSelectionList.Parse(manager.Options.VirtualizationLayerPcrs)) { JunctionPcr = junctionPcr }.QuoteSelection();
        manager.OpenStateKey(); // before any migration key occupies a hardware object slot
        Recover();
    }

    /// <summary>The Name of this platform's attestation key (TpmTemplates.AkEccP256 in the endorsement hierarchy), which a source's <see cref="MigrationTrustPolicy"/> lists.</summary>
    public byte[] AttestationKeyName
    {
        get
        {
            lock (_lock)
            {
                var ak = _hardware.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
                _hardware.FlushContext(ak.Handle);
                return ak.Name;
            }
        }
    }

    /// <summary>Test hook: called at each named step (README: crash points); throwing simulates a crash there.</summary>
    internal Action<string>? FaultHook { get; set; }

    /// <summary>Handles one protocol message and returns the response (an error message when refused; never throws for a bad message).</summary>
    /// <param name="request">The encoded message.</param>
    /// <returns>The encoded response.</returns>
    public byte[] Handle(ReadOnlySpan<byte> request)
    {
        MigrationMessage message;
        try
        {
            message = MigrationMessage.Decode(request);
        }
        catch (FormatException e)
        {
            return MigrationMessage.Error(Guid.Empty, Guid.Empty, MigrationErrorCode.Malformed, e.Message).Encode();
        }

        lock (_lock)
        {
            try
            {
                return message.Kind switch
                {
                    MigrationMessageKind.OfferRequest => HandleOfferRequest(message),
                    MigrationMessageKind.Prepare => HandlePrepare(message),
                    MigrationMessageKind.Commit => HandleCommit(message),
                    MigrationMessageKind.Abort => HandleAbort(message),
                    _ => Refuse(message, MigrationErrorCode.Malformed, $"a destination does not accept {message.Kind} messages"),
                };
            }
            catch (Exception e) when (e is FormatException or TpmException)
            {
                return Refuse(message, MigrationErrorCode.Malformed, e.Message);
            }
        }
    }

    private byte[] HandleOfferRequest(MigrationMessage message)
    {
        var request = OfferRequestBody.Decode(message.Body);
        foreach (var id in _journal.List())
        {
            var existing = Load(id);
            if (existing?.OfferMessageId == message.MessageId)
            {
                return existing.OfferResponse; // a duplicated request gets the same offer
            }
        }

        if (_manager.StateOf(request.VmId) is { } state)
        {
            return Refuse(message, MigrationErrorCode.VmExists, $"VM {request.VmId} already has a vTPM here ({state.ToString().ToLowerInvariant()})");
        }

        var min = Math.Max(request.MinVersion, VTpmStateFormat.MinimumVersion);
        var max = Math.Min(request.MaxVersion, VTpmStateFormat.CurrentVersion);
        if (min > max)
        {
            return Refuse(message, MigrationErrorCode.Format, $"no common state-format version (source {request.MinVersion}..{request.MaxVersion}, destination {VTpmStateFormat.MinimumVersion}..{VTpmStateFormat.CurrentVersion})");
        }

        var migrationId = NewGuid();
        var ak = _hardware.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        try
        {
            var key = _hardware.CreatePrimary(TpmRh.Owner, MigrationBinding.MigrationKeyTemplate(migrationId));
            try
            {
                var binding = MigrationBinding.Offer(request.Nonce, migrationId, request.VmId, (ushort)min, (ushort)max, key.Name);
                var values = _hardware.PcrReadAll(_quoteSelection);
                var quote = _hardware.Quote(ak.Handle, binding, _quoteSelection);
                var certify = _hardware.Certify(key.Handle, ak.Handle, binding);
                var pcrs = PcrValues.Create(values.Select(kv => (kv.Key.Bank, kv.Key.Pcr, kv.Value))).ToSerializedFormat(_quoteSelection);
                var body = new OfferBody(request.VmId, request.Nonce, (ushort)min, (ushort)max, ak.Public, key.Public, quote.Quoted, quote.Signature, pcrs, certify.CertifyInfo, certify.Signature);
                var response = new MigrationMessage(MigrationMessageKind.Offer, message.MessageId, migrationId, body.Encode()).Encode();
                Save(migrationId, new DestinationRecord(DestinationState.Offered, request.VmId, message.MessageId, response, [], [], [], []));
                _logger.LogInformation("Offered migration {MigrationId} for the vTPM of VM {VmId}", migrationId, request.VmId);
                FaultHook?.Invoke("destination:offer-journaled");
                return response;
            }
            finally
            {
                _hardware.FlushContext(key.Handle);
            }
        }
        finally
        {
            _hardware.FlushContext(ak.Handle);
        }
    }

    private byte[] HandlePrepare(MigrationMessage message)
    {
        var record = Load(message.MigrationId);
        if (record is null)
        {
            return Refuse(message, MigrationErrorCode.UnknownMigration, $"migration {message.MigrationId} was not offered by this destination");
        }

        var packageDigest = SHA256.HashData(message.Body);
        switch (record.State)
        {
            case DestinationState.Aborted:
                return Refuse(message, MigrationErrorCode.Aborted, $"migration {message.MigrationId} was aborted");
            case DestinationState.Prepared or DestinationState.Committed or DestinationState.Activated:
                return CryptographicOperations.FixedTimeEquals(packageDigest, record.PackageDigest)
                    ? Reply(message, record.ReceiptResponse) // duplicated prepare: the same receipt
                    : Refuse(message, MigrationErrorCode.WrongState, $"migration {message.MigrationId} is already prepared with another package");
        }

        var package = PackageBody.Decode(message.Body);
        var template = MigrationBinding.MigrationKeyTemplate(message.MigrationId);
        if (package.MigrationId != message.MigrationId || package.VmId != record.VmId)
        {
            return Refuse(message, MigrationErrorCode.Format, $"the package is bound to migration {package.MigrationId} of VM {package.VmId}, not migration {message.MigrationId} of VM {record.VmId}");
        }

        if (package.FormatVersion is < VTpmStateFormat.MinimumVersion or > VTpmStateFormat.CurrentVersion)
        {
            return Refuse(message, MigrationErrorCode.Format, $"state format version {package.FormatVersion} is outside {VTpmStateFormat.MinimumVersion}..{VTpmStateFormat.CurrentVersion} (downgrade refused)");
        }

        if (_manager.StateOf(record.VmId) is { } existing)
        {
            return Refuse(message, MigrationErrorCode.VmExists, $"VM {record.VmId} already has a vTPM here ({existing.ToString().ToLowerInvariant()})");
        }

        byte[] key;
        var migrationKey = _hardware.CreatePrimary(TpmRh.Owner, template);
        try
        {
            if (!package.MigrationKeyName.AsSpan().SequenceEqual(migrationKey.Name))
            {
                return Refuse(message, MigrationErrorCode.Decryption, "the package is wrapped to another migration key");
            }

            // The AES key is unwrapped inside the hardware TPM (TPM 2.0 Part 3 §12.5).
            key = _hardware.ActivateCredential(migrationKey.Handle, migrationKey.Handle, package.CredentialBlob, package.EncryptedSecret, TpmAuthorization.EmptyPassword, TpmAuthorization.EmptyPassword);
        }
        catch (TpmException e)
        {
            return Refuse(message, MigrationErrorCode.Decryption, $"the wrapped key does not open with this destination's migration key ({e.Message})");
        }
        finally
        {
            _hardware.FlushContext(migrationKey.Handle);
        }

        var plaintext = new byte[package.Ciphertext.Length];
        try
        {
            try
            {
                using var aes = new AesGcm(key, PackageBody.TagSize);
                aes.Decrypt(package.Nonce, package.Ciphertext, package.Tag, plaintext, package.Header());
            }
            catch (Exception e) when (e is AuthenticationTagMismatchException or ArgumentException or CryptographicException)
            {
                return Refuse(message, MigrationErrorCode.Decryption, "the package does not authenticate (tampered ciphertext or header)");
            }

            MigrationStatePayload payload;
            try
            {
                payload = VTpmStateFormat.Decode(plaintext);
            }
            catch (FormatException e)
            {
                return Refuse(message, MigrationErrorCode.Format, e.Message);
            }

            if (payload.VmId != record.VmId || payload.Version != package.FormatVersion)
            {
                return Refuse(message, MigrationErrorCode.Format, "the state inside the package is of another VM or version than its header");
            }

            if (!payload.PcrBanks.SequenceEqual(_manager.Options.VTpmPcrBanks))
            {
                return Refuse(message, MigrationErrorCode.Format, $"the vTPM has PCR banks {string.Join(',', payload.PcrBanks)}; this manager runs {string.Join(',', _manager.Options.VTpmPcrBanks)}");
            }

            _manager.StoreIncoming(record.VmId, payload.TpmState, payload.Live);
            CryptographicOperations.ZeroMemory(payload.TpmState);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            CryptographicOperations.ZeroMemory(key);
        }

        FaultHook?.Invoke("destination:prepare-stored");
        var receiptQuote = _hardware.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        QuoteResult quote;
        try
        {
            quote = _hardware.Quote(receiptQuote.Handle, MigrationBinding.Receipt(message.MigrationId, record.VmId, packageDigest), _quoteSelection);
        }
        finally
        {
            _hardware.FlushContext(receiptQuote.Handle);
        }

        var receipt = new MigrationMessage(MigrationMessageKind.PrepareReceipt, message.MessageId, message.MigrationId, new ReceiptBody(record.VmId, packageDigest, quote.Quoted, quote.Signature).Encode()).Encode();
        Save(message.MigrationId, record with { State = DestinationState.Prepared, PackageDigest = packageDigest, CommitDigest = package.CommitDigest, AbortDigest = package.AbortDigest, ReceiptResponse = receipt });
        _logger.LogInformation("Prepared migration {MigrationId}: the vTPM of VM {VmId} is stored inactive; receipt signed", message.MigrationId, record.VmId);
        FaultHook?.Invoke("destination:prepare-journaled");
        return receipt;
    }

    private byte[] HandleCommit(MigrationMessage message)
    {
        var record = Load(message.MigrationId);
        if (record is null)
        {
            return Refuse(message, MigrationErrorCode.UnknownMigration, $"migration {message.MigrationId} is unknown here");
        }

        if (record.State is DestinationState.Offered or DestinationState.Aborted)
        {
            return Refuse(message, record.State == DestinationState.Aborted ? MigrationErrorCode.Aborted : MigrationErrorCode.WrongState, $"migration {message.MigrationId} is {record.State.ToString().ToLowerInvariant()}, not prepared");
        }

        if (!DestinationRecord.Opens(record.CommitDigest, message.Body))
        {
            return Refuse(message, MigrationErrorCode.Unauthorized, "the commit secret does not match the package");
        }

        if (record.State == DestinationState.Prepared)
        {
            record = record with { State = DestinationState.Committed };
            Save(message.MigrationId, record);
            FaultHook?.Invoke("destination:commit-journaled");
        }

        if (record.State == DestinationState.Committed)
        {
            Activate(message.MigrationId, record);
            FaultHook?.Invoke("destination:activated");
        }

        return Reply(message, new MigrationMessage(MigrationMessageKind.CommitAck, message.MessageId, message.MigrationId, record.VmId.ToByteArray(bigEndian: true)).Encode());
    }

    private byte[] HandleAbort(MigrationMessage message)
    {
        var record = Load(message.MigrationId);
        if (record is null)
        {
            return Refuse(message, MigrationErrorCode.UnknownMigration, $"migration {message.MigrationId} is unknown here");
        }

        switch (record.State)
        {
            case DestinationState.Committed or DestinationState.Activated:
                return Refuse(message, MigrationErrorCode.WrongState, $"migration {message.MigrationId} is already committed");
            case DestinationState.Prepared when !DestinationRecord.Opens(record.AbortDigest, message.Body):
                return Refuse(message, MigrationErrorCode.Unauthorized, "the abort secret does not match the package");
            case DestinationState.Offered:
                Save(message.MigrationId, record with { State = DestinationState.Aborted });
                break;
            case DestinationState.Prepared:
                Save(message.MigrationId, record with { State = DestinationState.Aborted });
                _manager.DiscardIncoming(record.VmId);
                _logger.LogInformation("Migration {MigrationId} of VM {VmId} aborted by the source", message.MigrationId, record.VmId);
                break;
        }

        return new MigrationMessage(MigrationMessageKind.AbortAck, message.MessageId, message.MigrationId, []).Encode();
    }

    private void Activate(Guid migrationId, DestinationRecord record)
    {
        _manager.ActivateIncoming(record.VmId);
        Save(migrationId, record with { State = DestinationState.Activated });
        _logger.LogInformation("Migration {MigrationId} committed: the vTPM of VM {VmId} runs here", migrationId, record.VmId);
    }

    private void Recover()
    {
        var records = _journal.List().Select(id => (Id: id, Record: Load(id))).Where(r => r.Record is not null).ToList();
        var held = records.Where(r => r.Record!.State is DestinationState.Prepared or DestinationState.Committed).Select(r => r.Record!.VmId).ToHashSet();
        foreach (var (id, record) in records)
        {
            switch (record!.State)
            {
                case DestinationState.Offered or DestinationState.Aborted when !held.Contains(record.VmId):
                    // A package stored before its journal entry (a crash between the two) is not prepared: drop it.
                    _manager.DiscardIncoming(record.VmId);
                    break;
                case DestinationState.Committed:
                    try
                    {
                        Activate(id, record);
                    }
                    catch (Exception e) when (e is VTpmLaunchRejectedException or VTpmStateException or TpmException)
                    {
                        _logger.LogError(e, "Migration {MigrationId} is committed but the vTPM of VM {VmId} cannot be activated yet", id, record.VmId);
                    }

                    break;
            }
        }
    }

    private DestinationRecord? Load(Guid id)
    {
        var bytes = _journal.Load(id);
        if (bytes is null)
        {
            return null;
        }

        try
        {
            return DestinationRecord.Decode(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private void Save(Guid id, DestinationRecord record) => _journal.Save(id, record.Encode());

    private static byte[] Reply(MigrationMessage request, byte[] stored)
    {
        // A stored response answers a duplicate that may carry a new message id: re-address it.
        var response = MigrationMessage.Decode(stored);
        return response.MessageId == request.MessageId ? stored : (response with { MessageId = request.MessageId }).Encode();
    }

    private byte[] Refuse(MigrationMessage message, MigrationErrorCode code, string reason)
    {
        _logger.LogWarning("Refused {Kind} of migration {MigrationId}: {Reason}", message.Kind, message.MigrationId, reason);
        return MigrationMessage.Error(message.MessageId, message.MigrationId, code, reason).Encode();
    }

    private Guid NewGuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        _manager.Random.Fill(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
