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
/// Unauthenticated offers are bounded (<see cref="VTpmMigrationDestinationOptions"/>: rate, count
/// of migrations in progress, and a timeout after which an offer without a prepare is forgotten).
/// Thread-safe: messages are handled one at a time.
/// </summary>
public sealed class VTpmMigrationDestination
{
    private readonly VTpmManager _manager;
    private readonly Tpm2 _hardware;
    private readonly MigrationJournal _journal;
    private readonly ILogger _logger;
    private readonly PcrSelectionList _quoteSelection;
    private readonly VTpmMigrationDestinationOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    /// <summary>Migrations in progress (offered, prepared, committed but not activated), with the time their current state began.</summary>
    private readonly Dictionary<Guid, (DestinationState State, Guid VmId, DateTimeOffset Since)> _inProgress = [];

    /// <summary>Offer request message id → migration id, to answer a duplicated request with the same offer.</summary>
    private readonly Dictionary<Guid, Guid> _offerRequests = [];
    private double _offerTokens;
    private DateTimeOffset _lastRefill;

    /// <summary>Creates the destination and recovers unfinished migrations from the manager's journal (a committed one is activated).</summary>
    /// <param name="manager">The destination's vTPM manager; it needs the hardware TPM.</param>
    /// <param name="junctionPcr">The junction PCR quoted with the layer (the trusted junction point's PCR).</param>
    /// <param name="options">Bounds on offers; default the manager's <see cref="VTpmCoreOptions.IncomingMigrations"/>.</param>
    /// <exception cref="ArgumentException">The manager has no hardware TPM.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public VTpmMigrationDestination(VTpmManager manager, uint junctionPcr = TrustedJunctionPoint.DefaultPcr, VTpmMigrationDestinationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(manager);
        _manager = manager;
        _hardware = manager.Hardware ?? throw new ArgumentException("A migration destination needs a vTPM manager with a hardware TPM.", nameof(manager));
        _options = options ?? manager.Options.IncomingMigrations;
        _options.Validate();
        _time = manager.Time;
        _offerTokens = _options.OfferBurst;
        _lastRefill = _time.GetUtcNow();
        _journal = new MigrationJournal(manager, "destination");
        _logger = manager.LoggerFactory.CreateLogger<VTpmMigrationDestination>();
        _quoteSelection = new MigrationTrustPolicy([], PcrValues.Empty, PcrSelectionList.Parse(manager.Options.VirtualizationLayerPcrs)) { JunctionPcr = junctionPcr }.QuoteSelection();
        manager.OpenStateKey(); // before any migration key occupies a hardware object slot
        Recover();
    }

    /// <summary>Raised after a migrated vTPM was activated here and runs (a host serves it now), on the thread that handled the commit; not for activations by the constructor's recovery (they are running when it returns).</summary>
    public event EventHandler<VTpmInstance>? Activated;

    /// <summary>Migrations in progress here (offered, prepared, or committed but not yet activated), which count against <see cref="VTpmMigrationDestinationOptions.MaxPendingMigrations"/>.</summary>
    public int InProgress
    {
        get
        {
            lock (_lock)
            {
                return _inProgress.Count;
            }
        }
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

    /// <summary>
    /// Forgets the offers that waited longer than <see cref="VTpmMigrationDestinationOptions.OfferTimeout"/>
    /// for their prepare (their journal entries are deleted; a late prepare is refused as unknown and
    /// its source rolls back). <see cref="Handle"/> does this before every message; a host may also call it from a timer.
    /// </summary>
    /// <returns>How many offers were forgotten.</returns>
    public int PruneExpiredOffers()
    {
        lock (_lock)
        {
            return PruneExpiredLocked();
        }
    }

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
                PruneExpiredLocked();
                return message.Kind switch
                {
                    MigrationMessageKind.OfferRequest => HandleOfferRequest(message),
                    MigrationMessageKind.Prepare => HandlePrepare(message),
                    MigrationMessageKind.Commit => HandleCommit(message),
                    MigrationMessageKind.Abort => HandleAbort(message),
                    _ => Refuse(message, MigrationErrorCode.Malformed, $"a destination does not accept {message.Kind} messages"),
                };
            }
            catch (Exception e) when (e is FormatException or TpmException or OverflowException)
            {
                return Refuse(message, MigrationErrorCode.Malformed, e.Message);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or CryptographicException or ArgumentException)
            {
                // A local fault (disk, damaged journal entry, a launch observer refusing the
                // activation): the message is answered, the process and the other migrations go on.
                _logger.LogError(e, "{Kind} of migration {MigrationId} failed here", message.Kind, message.MigrationId);
                return Refuse(message, MigrationErrorCode.Internal, $"the destination failed: {e.Message}");
            }
        }
    }

    private byte[] HandleOfferRequest(MigrationMessage message)
    {
        var request = OfferRequestBody.Decode(message.Body);
        if (_offerRequests.TryGetValue(message.MessageId, out var offered) && Load(offered) is { } existing)
        {
            return existing.OfferResponse; // a duplicated request gets the same offer
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

        // Anyone can ask for an offer, and each costs hardware-TPM work and a journal entry: bound both first.
        if (_inProgress.Count >= _options.MaxPendingMigrations)
        {
            return Refuse(message, MigrationErrorCode.Busy, $"{_inProgress.Count} migrations are in progress here (limit {_options.MaxPendingMigrations}); retry later");
        }

        if (!TakeOfferToken())
        {
            return Refuse(message, MigrationErrorCode.Busy, $"too many offer requests (limit {_options.OffersPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)} per second, burst {_options.OfferBurst}); retry later");
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
                _inProgress[migrationId] = (DestinationState.Offered, request.VmId, _time.GetUtcNow());
                _offerRequests[message.MessageId] = migrationId;
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
        _inProgress[message.MigrationId] = (DestinationState.Prepared, record.VmId, _time.GetUtcNow());
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
            _inProgress[message.MigrationId] = (DestinationState.Committed, record.VmId, _time.GetUtcNow());
            FaultHook?.Invoke("destination:commit-journaled");
        }

        if (record.State == DestinationState.Committed)
        {
            var activated = Activate(message.MigrationId, record);
            FaultHook?.Invoke("destination:activated");
            Activated?.Invoke(this, activated);
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
                // Nothing was stored: forget the offer rather than keep a tombstone (an abort of an
                // offer needs no secret, so tombstones would let anyone fill the journal). A late
                // prepare or a duplicated abort is then answered as unknown, which its source treats
                // as rolled back.
                Forget(message.MigrationId);
                break;
            case DestinationState.Prepared:
                Save(message.MigrationId, record with { State = DestinationState.Aborted });
                _inProgress.Remove(message.MigrationId);
                _manager.DiscardIncoming(record.VmId);
                _logger.LogInformation("Migration {MigrationId} of VM {VmId} aborted by the source", message.MigrationId, record.VmId);
                break;
        }

        return new MigrationMessage(MigrationMessageKind.AbortAck, message.MessageId, message.MigrationId, []).Encode();
    }

    private VTpmInstance Activate(Guid migrationId, DestinationRecord record)
    {
        var activated = _manager.ActivateIncoming(record.VmId);
        Save(migrationId, record with { State = DestinationState.Activated });
        _inProgress.Remove(migrationId);
        _logger.LogInformation("Migration {MigrationId} committed: the vTPM of VM {VmId} runs here", migrationId, record.VmId);
        return activated;
    }

    private void Recover()
    {
        var now = _time.GetUtcNow();
        var records = new List<(Guid Id, DestinationRecord Record)>();
        foreach (var id in _journal.List())
        {
            try
            {
                if (Load(id) is { } record)
                {
                    records.Add((id, record));
                }
            }
            catch (VTpmStateException e)
            {
                // One damaged entry must not keep the destination (and every vTPM of the host) down.
                _logger.LogError("Migration journal entry {Path} cannot be used and is ignored: {Reason}", e.Path, e.Message);
            }
        }

        var held = records.Where(r => r.Record.State is DestinationState.Prepared or DestinationState.Committed).Select(r => r.Record.VmId).ToHashSet();
        foreach (var (id, record) in records)
        {
            _offerRequests[record.OfferMessageId] = id;
            switch (record.State)
            {
                case DestinationState.Offered or DestinationState.Aborted when !held.Contains(record.VmId):
                    // A package stored before its journal entry (a crash between the two) is not prepared: drop it.
                    _manager.DiscardIncoming(record.VmId);
                    if (record.State == DestinationState.Offered)
                    {
                        // Its prepare may still come (a retried one after this restart): forgotten
                        // OfferTimeout from now unless it does.
                        _inProgress[id] = (DestinationState.Offered, record.VmId, now);
                    }

                    break;
                case DestinationState.Prepared:
                    _inProgress[id] = (DestinationState.Prepared, record.VmId, now);
                    break;
                case DestinationState.Committed:
                    _inProgress[id] = (DestinationState.Committed, record.VmId, now);
                    try
                    {
                        Activate(id, record);
                    }
                    catch (Exception e) when (e is VTpmLaunchRejectedException or VTpmStateException or TpmException or IOException)
                    {
                        _logger.LogError(e, "Migration {MigrationId} is committed but the vTPM of VM {VmId} cannot be activated yet", id, record.VmId);
                    }

                    break;
            }
        }
    }

    private int PruneExpiredLocked()
    {
        var now = _time.GetUtcNow();
        var expired = _inProgress.Where(p => p.Value.State == DestinationState.Offered && now - p.Value.Since >= _options.OfferTimeout).Select(p => (p.Key, p.Value.VmId)).ToList();
        foreach (var (id, vm) in expired)
        {
            Forget(id);
            _logger.LogInformation("Forgot migration offer {MigrationId} for VM {VmId}: no prepare within {Timeout}", id, vm, _options.OfferTimeout);
        }

        return expired.Count;
    }

    /// <summary>Deletes an offer that never got a package: its journal entry and its bookkeeping.</summary>
    private void Forget(Guid migrationId)
    {
        _journal.Delete(migrationId);
        _inProgress.Remove(migrationId);
        foreach (var request in _offerRequests.Where(p => p.Value == migrationId).Select(p => p.Key).ToList())
        {
            _offerRequests.Remove(request);
        }
    }

    /// <summary>Token bucket: <see cref="VTpmMigrationDestinationOptions.OfferBurst"/> tokens, refilled at <see cref="VTpmMigrationDestinationOptions.OffersPerSecond"/>.</summary>
    private bool TakeOfferToken()
    {
        var now = _time.GetUtcNow();
        var elapsed = (now - _lastRefill).TotalSeconds;
        if (elapsed > 0)
        {
            _offerTokens = Math.Min(_options.OfferBurst, _offerTokens + (elapsed * _options.OffersPerSecond));
            _lastRefill = now;
        }

        if (_offerTokens < 1)
        {
            return false;
        }

        _offerTokens -= 1;
        return true;
    }

    private DestinationRecord? Load(Guid id) => _journal.Load(id, static b => DestinationRecord.Decode(b));

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
