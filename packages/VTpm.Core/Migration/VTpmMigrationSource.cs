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
/// destroyed); <see cref="RecoverAsync"/> finishes the messages.
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
        RecoverLocal();
    }

    /// <summary>Migrations whose messages are unfinished (a commit or an abort not yet acknowledged): migration id, VM and destination.</summary>
    public IReadOnlyList<(Guid MigrationId, Guid VmId, string Endpoint)> Pending =>
        [.. _journal.List().Select(id => (id, Load(id))).Where(p => p.Item2 is not null).Select(p => (p.id, p.Item2!.VmId, p.Item2.Endpoint))];

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

        var reasons = MigrationOfferVerifier.Verify(offer, migrationId, vmId, nonce, policy);
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
        var receiptProblem = receiptMessage.Kind switch
        {
            MigrationMessageKind.Error => $"the destination refused the package: {receiptMessage.ReadError().Reason}",
            MigrationMessageKind.PrepareReceipt => MigrationOfferVerifier.CheckReceipt(receiptMessage.Body, offer.AttestationKey, migrationId, vmId, SHA256.HashData(package)),
            _ => $"the destination answered {receiptMessage.Kind} to the package",
        };
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
            if (Load(id) is not { } record)
            {
                continue;
            }

            using var transport = connect(record.Endpoint);
            results.Add(record.State == SourceState.Committed
                ? await FinishCommitAsync(transport, id, record, cancellationToken).ConfigureAwait(false)
                : await FinishAbortAsync(transport, id, record, "rolled back after a restart", cancellationToken).ConfigureAwait(false));
        }

        return results;
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
        try
        {
            var answer = await ExchangeAsync(destination, new MigrationMessage(MigrationMessageKind.Abort, NewId(), migrationId, record.AbortSecret), cancellationToken).ConfigureAwait(false);
            if (answer.Kind == MigrationMessageKind.AbortAck || (answer.Kind == MigrationMessageKind.Error && answer.ReadError().Code is MigrationErrorCode.UnknownMigration))
            {
                _journal.Delete(migrationId);
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

        return new VTpmMigrationResult(record.VmId, migrationId, VTpmMigrationOutcome.RolledBack, reasons);
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
            return new VTpmMigrationResult(record.VmId, migrationId, VTpmMigrationOutcome.CommitPending, [$"the destination did not accept the commit: {why}"]);
        }
        catch (Exception e) when (e is MigrationExchangeException or OperationCanceledException)
        {
            _logger.LogWarning("Migration {MigrationId}: commit not confirmed yet ({Reason}); RecoverAsync resends it", migrationId, e.Message);
            return new VTpmMigrationResult(record.VmId, migrationId, VTpmMigrationOutcome.CommitPending, [$"the commit is not confirmed yet: {e.Message}"]);
        }
    }

    /// <summary>The local half of recovery: undecided locks roll back, committed vTPMs are destroyed.</summary>
    private void RecoverLocal()
    {
        foreach (var id in _journal.List())
        {
            if (Load(id) is not { } record)
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

    private SourceRecord? Load(Guid id)
    {
        var bytes = _journal.Load(id);
        if (bytes is null)
        {
            return null;
        }

        try
        {
            return SourceRecord.Decode(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
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
