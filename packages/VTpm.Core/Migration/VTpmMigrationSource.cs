using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// The source side of vTPM migration: verifies the destination against a
/// <see cref="MigrationTrustPolicy"/> (refusing an untrusted one with reasons), locks the vTPM,
/// exports it in the neutral <see cref="VTpmStateFormat"/>, encrypts it (AES-256-GCM with a fresh
/// key wrapped to the destination's certified migration key), and destroys its copy only after
/// the destination's signed prepare-receipt, journaling each decision first. A failure before the
/// commit decision rolls back: the vTPM serves again here. The constructor recovers the local
/// part of unfinished migrations (a lock without a decision is rolled back, a committed vTPM is
/// destroyed) unless <see cref="VTpmMigrationSourceOptions.RecoverOnStart"/> is off;
/// <see cref="RecoverAsync"/> finishes the messages of all, <see cref="ResolveAsync"/> of one VM.
/// </summary>
public sealed class VTpmMigrationSource
{
    private readonly VTpmManager _manager;
    private readonly VTpmMigrationSourceOptions _options;
    private readonly MigrationJournal _journal;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>Creates the source and recovers the local part of unfinished migrations.</summary>
    /// <param name="manager">The source's vTPM manager.</param>
    /// <param name="options">Retry options.</param>
    /// <param name="timeProvider">Clock for retry pauses; default the system clock.</param>
    public VTpmMigrationSource(VTpmManager manager, VTpmMigrationSourceOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(manager);
        _manager = manager;
        _options = options ?? new VTpmMigrationSourceOptions();
        if (_options.MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.MaxAttempts, "MaxAttempts must be at least 1.");
        }

        _time = timeProvider ?? TimeProvider.System;
        _journal = new MigrationJournal(manager, "source");
        _logger = manager.LoggerFactory.CreateLogger<VTpmMigrationSource>();
        if (_options.RecoverOnStart)
        {
            RecoverLocal();
        }
    }

    /// <summary>
    /// Unfinished migrations (a lock without a decision, or a commit or abort not yet acknowledged),
    /// as the journal records them; an entry that cannot be read is listed as
    /// <see cref="VTpmPendingMigrationState.Unreadable"/> with the reason, naming its file.
    /// </summary>
    public IReadOnlyList<VTpmPendingMigration> Pending
    {
        get
        {
            var pending = new List<VTpmPendingMigration>();
            foreach (var id in _journal.List())
            {
                try
                {
                    if (Load(id) is { } record)
                    {
                        pending.Add(new VTpmPendingMigration(id, record.VmId, record.Endpoint, record.State switch
                        {
                            SourceState.Locked => VTpmPendingMigrationState.Locked,
                            SourceState.Aborting => VTpmPendingMigrationState.Aborting,
                            _ => VTpmPendingMigrationState.Committed,
                        }));
                    }
                }
                catch (VTpmStateException e)
                {
                    pending.Add(new VTpmPendingMigration(id, Guid.Empty, string.Empty, VTpmPendingMigrationState.Unreadable) { Problem = e.Message });
                }
            }

            return pending;
        }
    }

    /// <summary>Test hook: called at each named step (README: crash points); throwing simulates a crash there.</summary>
    internal Action<string>? FaultHook { get; set; }

    /// <summary>
    /// Migrates the vTPM of <paramref name="vmId"/> to the destination behind <paramref name="destination"/>.
    /// </summary>
    /// <param name="vmId">The VM; its vTPM must be stopped, running or suspended here.</param>
    /// <param name="destination">The channel to the destination.</param>
    /// <param name="policy">What the destination must prove.</param>
    /// <param name="cancellationToken">Cancels between steps (before the commit decision a cancellation rolls back).</param>
    /// <returns>How it ended, with reasons.</returns>
    /// <exception cref="KeyNotFoundException">No such vTPM.</exception>
    /// <exception cref="InvalidOperationException">The vTPM is already migrating or incoming.</exception>
    public async Task<VTpmMigrationResult> MigrateAsync(Guid vmId, IMigrationTransport destination, MigrationTrustPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(policy);
        var state = _manager.Inspect(vmId).State;
        if (state is VTpmInstanceState.Migrating or VTpmInstanceState.Incoming)
        {
            throw new InvalidOperationException($"The vTPM of VM {vmId} is {state.ToString().ToLowerInvariant()}; it cannot migrate now.");
        }

        _logger.LogInformation("Migrating the vTPM of VM {VmId} to {Endpoint}", vmId, destination.Endpoint);

        // 1. Offer: the destination proves its platform and its migration key.
        var nonce = _manager.Random.GetBytes(32);
        var offerRequest = new MigrationMessage(MigrationMessageKind.OfferRequest, NewId(), Guid.Empty, new OfferRequestBody(vmId, nonce, VTpmStateFormat.MinimumVersion, VTpmStateFormat.CurrentVersion).Encode());
        MigrationMessage offerResponse;
        try
        {
            offerResponse = await ExchangeAsync(destination, offerRequest, cancellationToken).ConfigureAwait(false);
        }
        catch (MigrationExchangeException e)
        {
            return Refused(vmId, Guid.Empty, $"the destination did not answer the offer request: {e.Message}");
        }

        if (offerResponse.Kind == MigrationMessageKind.Error)
        {
            return Refused(vmId, offerResponse.MigrationId, $"the destination refused: {offerResponse.ReadError().Reason}");
        }

        if (offerResponse.Kind != MigrationMessageKind.Offer)
        {
            return Refused(vmId, offerResponse.MigrationId, $"the destination answered {offerResponse.Kind} to an offer request");
        }

        var migrationId = offerResponse.MigrationId;
        OfferBody offer;
        try
        {
            offer = OfferBody.Decode(offerResponse.Body);
        }
        catch (Exception e) when (e is FormatException or TpmException)
        {
            return Refused(vmId, migrationId, $"the offer is malformed: {e.Message}");
        }

        IReadOnlyList<string> reasons;
        try
        {
            reasons = MigrationOfferVerifier.Verify(offer, migrationId, vmId, nonce, policy);
        }
        catch (Exception e) when (e is FormatException or TpmException or CryptographicException or ArgumentException or OverflowException)
        {
            // A hostile offer (an off-curve key, absurd parameters) is refused, never thrown.
            reasons = [$"the offer cannot be verified: {e.Message}"];
        }

        if (reasons.Count > 0)
        {
            _logger.LogWarning("Refusing destination {Endpoint} for VM {VmId}: {Reasons}", destination.Endpoint, vmId, string.Join("; ", reasons));
            return new VTpmMigrationResult(vmId, migrationId, VTpmMigrationOutcome.Refused, reasons);
        }

        FaultHook?.Invoke("source:offer-verified");

        // 2. Lock (journaled first, so that a crash rolls back), export, encrypt.
        var record = new SourceRecord(SourceState.Locked, vmId, destination.Endpoint, _manager.Random.GetBytes(32), _manager.Random.GetBytes(32));
        _journal.Save(migrationId, record.Encode());
        FaultHook?.Invoke("source:lock-journaled");
        byte[] package;
        try
        {
            var (image, live) = _manager.LockForMigration(vmId);
            try
            {
                FaultHook?.Invoke("source:locked");
                package = BuildPackage(offer, migrationId, vmId, record, image, live);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(image);
            }
        }
        catch (Exception e) when (e is not SimulatedFault)
        {
            return await RollBackAsync(destination, migrationId, record, $"the vTPM could not be exported: {e.Message}", cancellationToken).ConfigureAwait(false);
        }

        _logger.LogInformation("Locked the vTPM of VM {VmId} for migration {MigrationId} ({Size} octets encrypted)", vmId, migrationId, package.Length);

        // 3. Prepare: the destination stores it inactive and signs a receipt.
        var prepare = new MigrationMessage(MigrationMessageKind.Prepare, NewId(), migrationId, package);
        MigrationMessage receiptMessage;
        try
        {
            receiptMessage = await ExchangeAsync(destination, prepare, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MigrationExchangeException or OperationCanceledException)
        {
            return await RollBackAsync(destination, migrationId, record, $"no prepare-receipt: {e.Message}", CancellationToken.None).ConfigureAwait(false);
        }

        FaultHook?.Invoke("source:receipt-received");
        string? receiptProblem;
        try
        {
            receiptProblem = receiptMessage.Kind switch
            {
                MigrationMessageKind.Error => $"the destination refused the package: {receiptMessage.ReadError().Reason}",
                MigrationMessageKind.PrepareReceipt => MigrationOfferVerifier.CheckReceipt(receiptMessage.Body, offer.AttestationKey, migrationId, vmId, SHA256.HashData(package)),
                _ => $"the destination answered {receiptMessage.Kind} to the package",
            };
        }
        catch (Exception e) when (e is FormatException or TpmException or CryptographicException or ArgumentException or OverflowException)
        {
            receiptProblem = $"the prepare-receipt cannot be verified: {e.Message}";
        }

        if (receiptProblem is not null)
        {
            return await RollBackAsync(destination, migrationId, record, receiptProblem, CancellationToken.None).ConfigureAwait(false);
        }

        // 4. Commit: decided (journaled), then destroy here, then reveal the commit secret.
        record = record with { State = SourceState.Committed };
        _journal.Save(migrationId, record.Encode());
        FaultHook?.Invoke("source:commit-journaled");
        _manager.ReleaseMigrated(vmId);
        _logger.LogInformation("Migration {MigrationId}: signed receipt verified; the local vTPM of VM {VmId} is destroyed", migrationId, vmId);
        FaultHook?.Invoke("source:destroyed");
        return await FinishCommitAsync(destination, migrationId, record, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Finishes unfinished migrations after a restart or a lost confirmation: resends the commit
    /// (or the abort) of each pending migration through <paramref name="connect"/>(endpoint).
    /// </summary>
    /// <param name="connect">Opens a channel to a destination endpoint.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <returns>One result per pending migration.</returns>
    public async Task<IReadOnlyList<VTpmMigrationResult>> RecoverAsync(Func<string, IMigrationTransport> connect, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connect);
        RecoverLocal();
        var results = new List<VTpmMigrationResult>();
        foreach (var id in _journal.List())
        {
            if (TryLoad(id) is not { } record)
            {
                continue;
            }

            results.Add(await FinishAsync(id, record, connect, "rolled back after a restart", cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    /// <summary>
    /// Resolves the unfinished migration of one VM as its journal entry says (what
    /// <c>truststack vtpm migrate --resolve</c> runs): <see cref="VTpmPendingMigrationState.Locked"/>
    /// rolls back (the destination cannot activate without the commit secret, which was never
    /// revealed) and sends the abort; <see cref="VTpmPendingMigrationState.Aborting"/> unlocks and
    /// resends the abort; <see cref="VTpmPendingMigrationState.Committed"/> destroys the local copy
    /// (if not yet) and resends the commit. The result says whether a message is still owed
    /// (<see cref="VTpmMigrationResult.AwaitsDestination"/>): then resolving again later finishes it.
    /// </summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="connect">Opens a channel to the destination endpoint recorded in the journal.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <returns>RolledBack (the vTPM is live here again), Completed, or CommitPending.</returns>
    /// <exception cref="InvalidOperationException">The journal has no unfinished migration of the VM, or only an unreadable entry (the message names the files).</exception>
    public async Task<VTpmMigrationResult> ResolveAsync(Guid vmId, Func<string, IMigrationTransport> connect, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connect);
        var unreadable = new List<string>();
        foreach (var id in _journal.List())
        {
            SourceRecord? record;
            try
            {
                record = Load(id);
            }
            catch (VTpmStateException e)
            {
                unreadable.Add(e.Message);
                continue;
            }

            if (record is null || record.VmId != vmId)
            {
                continue;
            }

            switch (record.State)
            {
                case SourceState.Locked:
                    record = record with { State = SourceState.Aborting };
                    _journal.Save(id, record.Encode());
                    _manager.UnlockMigration(vmId);
                    _logger.LogWarning("Migration {MigrationId} of VM {VmId} was interrupted before its commit: rolled back", id, vmId);
                    break;
                case SourceState.Aborting:
                    _manager.UnlockMigration(vmId);
                    break;
                case SourceState.Committed:
                    _manager.ReleaseMigrated(vmId);
                    break;
            }

            return await FinishAsync(id, record, connect, "rolled back: the migration was interrupted before its commit", cancellationToken).ConfigureAwait(false);
        }

        var locked = _manager.StateOf(vmId) == VTpmInstanceState.Migrating;
        throw new InvalidOperationException(unreadable.Count > 0
            ? $"The migration journal has no readable entry for VM {vmId}{(locked ? ", which stays locked" : string.Empty)}: {string.Join("; ", unreadable)}. Only the journal says whether its commit secret was revealed; compare with the destination before deleting anything."
            : $"The migration journal has no unfinished migration of VM {vmId}{(locked ? " (it is locked, but no journal entry says why; compare with the destination)" : string.Empty)}.");
    }

    private async Task<VTpmMigrationResult> FinishAsync(Guid id, SourceRecord record, Func<string, IMigrationTransport> connect, string abortReason, CancellationToken cancellationToken)
    {
        using var transport = connect(record.Endpoint);
        return record.State == SourceState.Committed
            ? await FinishCommitAsync(transport, id, record, cancellationToken).ConfigureAwait(false)
            : await FinishAbortAsync(transport, id, record, abortReason, cancellationToken).ConfigureAwait(false);
    }

    private byte[] BuildPackage(OfferBody offer, Guid migrationId, Guid vmId, SourceRecord record, byte[] image, bool live)
    {
        var version = offer.MaxVersion;
        var plaintext = VTpmStateFormat.Encode(new MigrationStatePayload(vmId, live, _manager.Options.VTpmPcrBanks, image, _manager.Inspect(vmId).EkName, version), version);
        var key = _manager.Random.GetBytes(PackageBody.KeySize);
        try
        {
            var keyName = offer.MigrationKey.GetName();
            var wrapped = Tpm2.MakeCredentialOffline(offer.MigrationKey, key, keyName, _manager.Random);
            var header = new PackageBody(version, migrationId, vmId, SHA256.HashData(record.CommitSecret), SHA256.HashData(record.AbortSecret), keyName, wrapped.CredentialBlob, wrapped.Secret, _manager.Random.GetBytes(PackageBody.NonceSize), new byte[plaintext.Length], new byte[PackageBody.TagSize]);
            using (var aes = new AesGcm(key, PackageBody.TagSize))
            {
                aes.Encrypt(header.Nonce, plaintext, header.Ciphertext, header.Tag, header.Header());
            }

            return header.Encode();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private async Task<VTpmMigrationResult> RollBackAsync(IMigrationTransport destination, Guid migrationId, SourceRecord record, string reason, CancellationToken cancellationToken)
    {
        record = record with { State = SourceState.Aborting };
        _journal.Save(migrationId, record.Encode());
        FaultHook?.Invoke("source:abort-journaled");
        _manager.UnlockMigration(record.VmId);
        _logger.LogWarning("Migration {MigrationId} of VM {VmId} rolled back, the vTPM serves here again: {Reason}", migrationId, record.VmId, reason);
        return await FinishAbortAsync(destination, migrationId, record, reason, cancellationToken).ConfigureAwait(false);
    }

    private async Task<VTpmMigrationResult> FinishAbortAsync(IMigrationTransport destination, Guid migrationId, SourceRecord record, string reason, CancellationToken cancellationToken)
    {
        var reasons = new List<string> { reason };
        var acknowledged = false;
        try
        {
            var answer = await ExchangeAsync(destination, new MigrationMessage(MigrationMessageKind.Abort, NewId(), migrationId, record.AbortSecret), cancellationToken).ConfigureAwait(false);
            if (answer.Kind == MigrationMessageKind.AbortAck || (answer.Kind == MigrationMessageKind.Error && answer.ReadError().Code is MigrationErrorCode.UnknownMigration))
            {
                _journal.Delete(migrationId);
                acknowledged = true;
            }
            else
            {
                reasons.Add($"the destination did not acknowledge the abort: {(answer.Kind == MigrationMessageKind.Error ? answer.ReadError().Reason : answer.Kind.ToString())}");
            }
        }
        catch (Exception e) when (e is MigrationExchangeException or OperationCanceledException)
        {
            // The destination's inactive copy can never activate without the commit secret; the abort is resent by RecoverAsync.
            reasons.Add($"the abort is not acknowledged yet: {e.Message}");
        }

        return new VTpmMigrationResult(record.VmId, migrationId, VTpmMigrationOutcome.RolledBack, reasons) { AwaitsDestination = !acknowledged };
    }

    private async Task<VTpmMigrationResult> FinishCommitAsync(IMigrationTransport destination, Guid migrationId, SourceRecord record, CancellationToken cancellationToken)
    {
        try
        {
            var ack = await ExchangeAsync(destination, new MigrationMessage(MigrationMessageKind.Commit, NewId(), migrationId, record.CommitSecret), cancellationToken).ConfigureAwait(false);
            if (ack.Kind == MigrationMessageKind.CommitAck)
            {
                _journal.Delete(migrationId);
                FaultHook?.Invoke("source:commit-acknowledged");
                _logger.LogInformation("Migration {MigrationId} completed: the vTPM of VM {VmId} runs at {Endpoint}", migrationId, record.VmId, destination.Endpoint);
                return new VTpmMigrationResult(record.VmId, migrationId, VTpmMigrationOutcome.Completed, []);
            }

            var why = ack.Kind == MigrationMessageKind.Error ? ack.ReadError().Reason : ack.Kind.ToString();
            _logger.LogError("Migration {MigrationId}: the destination did not accept the commit: {Reason}", migrationId, why);
            return new VTpmMigrationResult(record.VmId, migrationId, VTpmMigrationOutcome.CommitPending, [$"the destination did not accept the commit: {why}"]) { AwaitsDestination = true };
        }
        catch (Exception e) when (e is MigrationExchangeException or OperationCanceledException)
        {
            _logger.LogWarning("Migration {MigrationId}: commit not confirmed yet ({Reason}); RecoverAsync resends it", migrationId, e.Message);
            return new VTpmMigrationResult(record.VmId, migrationId, VTpmMigrationOutcome.CommitPending, [$"the commit is not confirmed yet: {e.Message}"]) { AwaitsDestination = true };
        }
    }

    /// <summary>The local half of recovery: undecided locks roll back, committed vTPMs are destroyed.</summary>
    private void RecoverLocal()
    {
        foreach (var id in _journal.List())
        {
            if (TryLoad(id) is not { } record)
            {
                continue;
            }

            switch (record.State)
            {
                case SourceState.Locked:
                    _journal.Save(id, (record with { State = SourceState.Aborting }).Encode());
                    _manager.UnlockMigration(record.VmId);
                    _logger.LogWarning("Migration {MigrationId} of VM {VmId} was interrupted before its commit: rolled back", id, record.VmId);
                    break;
                case SourceState.Aborting:
                    _manager.UnlockMigration(record.VmId);
                    break;
                case SourceState.Committed:
                    _manager.ReleaseMigrated(record.VmId);
                    break;
            }
        }
    }

    private async Task<MigrationMessage> ExchangeAsync(IMigrationTransport transport, MigrationMessage message, CancellationToken cancellationToken)
    {
        var bytes = message.Encode();
        string last = "no attempt";
        for (var attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var response = MigrationMessage.Decode(await transport.ExchangeAsync(bytes, cancellationToken).ConfigureAwait(false));
                if (response.MessageId == message.MessageId && (message.MigrationId == Guid.Empty || response.MigrationId == message.MigrationId))
                {
                    return response;
                }

                last = "a response to another message (stale or replayed)";
            }
            catch (Exception e) when (e is IOException or TimeoutException or FormatException or System.Net.Sockets.SocketException)
            {
                last = e.Message;
            }

            _logger.LogDebug("{Kind} of migration {MigrationId}: attempt {Attempt} failed ({Reason})", message.Kind, message.MigrationId, attempt, last);
            if (attempt < _options.MaxAttempts && _options.RetryDelay > TimeSpan.Zero)
            {
                await Task.Delay(_options.RetryDelay, _time, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new MigrationExchangeException($"{message.Kind} failed {_options.MaxAttempts} times; last: {last}");
    }

    /// <exception cref="VTpmStateException">The entry is damaged.</exception>
    private SourceRecord? Load(Guid id) => _journal.Load(id, static b => SourceRecord.Decode(b));

    /// <summary>Loads an entry; a damaged one is logged (naming its file) and skipped: its VM stays locked, since only the entry says whether the commit secret was revealed.</summary>
    private SourceRecord? TryLoad(Guid id)
    {
        try
        {
            return Load(id);
        }
        catch (VTpmStateException e)
        {
            _logger.LogError("Migration journal entry {Path} cannot be used; its VM stays locked: {Reason}", e.Path, e.Message);
            return null;
        }
    }

    private Guid NewId() => new(_manager.Random.GetBytes(16));

    private static VTpmMigrationResult Refused(Guid vmId, Guid migrationId, string reason) => new(vmId, migrationId, VTpmMigrationOutcome.Refused, [reason]);

    private sealed class MigrationExchangeException(string message) : Exception(message);
}

/// <summary>Thrown by test fault hooks to simulate a crash; never caught by the protocol code.</summary>
internal sealed class SimulatedFault(string point) : Exception($"simulated crash at {point}")
{
    public string Point { get; } = point;
}
