using System.Security.Cryptography;

namespace TrustStack.VTpm.Core.Tests.Migration;

/// <summary>Issue 19, finding 12: unauthenticated offers are bounded and pruned; an interrupted migration is resolvable; hostile answers are refused, not thrown.</summary>
public sealed class MigrationFaultTests
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public void Destination_FloodOfForgedOffers_BoundedByTheCountAndLeavesNoFilesBehind()
    {
        using var host = new MigrationHost("flooded", 900);
        var limit = new VTpmMigrationDestinationOptions().MaxPendingMigrations;

        var answers = Enumerable.Range(0, 60).Select(_ => MigrationMessage.Decode(host.Destination.Handle(ForgedOfferRequest()))).ToList();

        // At most MaxPendingMigrations offers (each ~53 ms of hardware-TPM work and a journal entry); the rest are refused.
        Assert.Equal(limit, answers.Count(a => a.Kind == MigrationMessageKind.Offer));
        Assert.All(answers.Where(a => a.Kind != MigrationMessageKind.Offer), a => Assert.Equal(MigrationErrorCode.Busy, a.ReadError().Code));
        Assert.Equal(limit, host.JournalFiles.Count);

        // None of them is ever prepared: once the offer timeout passes, the next message finds them forgotten.
        host.Clock.Advance(new VTpmMigrationDestinationOptions().OfferTimeout);
        var late = MigrationMessage.Decode(host.Destination.Handle(new MigrationMessage(MigrationMessageKind.Commit, Guid.NewGuid(), answers[0].MigrationId, new byte[32]).Encode()));

        Assert.Equal(MigrationErrorCode.UnknownMigration, late.ReadError().Code);
        Assert.Empty(host.JournalFiles);
        Assert.DoesNotContain(System.IO.Directory.EnumerateFiles(System.IO.Path.Combine(host.Directory, "vtpms")), f => !f.EndsWith("index", StringComparison.Ordinal));
    }

    [Fact]
    public void Destination_FloodOfForgedOffers_BoundedByTheRate()
    {
        var options = new VTpmMigrationDestinationOptions { OffersPerSecond = 2, OfferBurst = 3, MaxPendingMigrations = 1000 };
        using var host = new MigrationHost("rate", 901, destinationOptions: options);

        var first = Enumerable.Range(0, 6).Count(_ => MigrationMessage.Decode(host.Destination.Handle(ForgedOfferRequest())).Kind == MigrationMessageKind.Offer);
        host.Clock.Advance(TimeSpan.FromSeconds(1));
        var second = Enumerable.Range(0, 6).Count(_ => MigrationMessage.Decode(host.Destination.Handle(ForgedOfferRequest())).Kind == MigrationMessageKind.Offer);

        Assert.Equal(3, first);   // the burst
        Assert.Equal(2, second);  // one second of refill
    }

    [Fact]
    public void Destination_RestartWithUnpreparedOffers_ForgetsThemAfterTheTimeout()
    {
        using var host = new MigrationHost("restarted", 902);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(MigrationMessageKind.Offer, MigrationMessage.Decode(host.Destination.Handle(ForgedOfferRequest())).Kind);
        }

        host.Crash();
        Assert.Equal(3, host.Destination.InProgress);
        host.Clock.Advance(new VTpmMigrationDestinationOptions().OfferTimeout);

        Assert.Equal(3, host.Destination.PruneExpiredOffers());
        Assert.Empty(host.JournalFiles);
        Assert.Equal(0, host.Destination.InProgress);
    }

    [Fact]
    public void Destination_AbortOfAnOffer_LeavesNoJournalEntry()
    {
        using var host = new MigrationHost("aborted", 903);
        var offer = MigrationMessage.Decode(host.Destination.Handle(ForgedOfferRequest()));

        // An abort of a mere offer needs no secret: keeping a tombstone for it would let anyone fill the journal.
        var ack = MigrationMessage.Decode(host.Destination.Handle(new MigrationMessage(MigrationMessageKind.Abort, Guid.NewGuid(), offer.MigrationId, []).Encode()));

        Assert.Equal(MigrationMessageKind.AbortAck, ack.Kind);
        Assert.Empty(host.JournalFiles);
    }

    [Fact]
    public async Task MigrateAsync_OfferForgottenBeforeThePrepare_RollsBack()
    {
        using var s = new MigrationScenario();
        using var transport = new ClockAdvancingTransport(s.Destination, MigrationMessageKind.Prepare, new VTpmMigrationDestinationOptions().OfferTimeout);

        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        Assert.Equal(VTpmMigrationOutcome.RolledBack, result.Outcome);
        Assert.Contains(result.Reasons, r => r.Contains("was not offered", StringComparison.Ordinal));
        Assert.Empty(s.Source.Source.Pending);
        Assert.Same(s.Source, s.AssertExactlyOneLive());
    }

    [Fact]
    public async Task ResolveAsync_InterruptedWhileLocked_RollsBackAndTheDestinationForgetsIt()
    {
        using var s = new MigrationScenario();
        s.Source.Source.FaultHook = p =>
        {
            if (p == "source:locked")
            {
                throw new SimulatedFault(p);
            }
        };
        using var transport = s.Destination.Transport();
        await Assert.ThrowsAsync<SimulatedFault>(() => s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy));

        // The process dies; the restarted host leaves the decision to an operator.
        s.Source.RecoverOnStart = false;
        s.Source.Crash();
        Assert.Equal(VTpmInstanceState.Migrating, s.Source.Manager.StateOf(s.Vm));
        Assert.Equal(VTpmPendingMigrationState.Locked, Assert.Single(s.Source.Source.Pending).State);

        var result = await s.Source.Source.ResolveAsync(s.Vm, _ => s.Destination.Transport());

        Assert.Equal(VTpmMigrationOutcome.RolledBack, result.Outcome);
        Assert.False(result.AwaitsDestination);
        Assert.Empty(s.Source.Source.Pending);
        Assert.Same(s.Source, s.AssertExactlyOneLive());
        Assert.Empty(s.Destination.JournalFiles);
    }

    [Fact]
    public async Task ResolveAsync_CommittedButNotConfirmed_DeliversTheCommit()
    {
        using var s = new MigrationScenario();
        s.Source.Source.FaultHook = p =>
        {
            if (p == "source:commit-journaled")
            {
                throw new SimulatedFault(p);
            }
        };
        using var transport = s.Destination.Transport();
        await Assert.ThrowsAsync<SimulatedFault>(() => s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy));
        s.Source.RecoverOnStart = false;
        s.Source.Crash();
        Assert.Equal(VTpmPendingMigrationState.Committed, Assert.Single(s.Source.Source.Pending).State);

        var result = await s.Source.Source.ResolveAsync(s.Vm, _ => s.Destination.Transport());

        Assert.Equal(VTpmMigrationOutcome.Completed, result.Outcome);
        Assert.Null(s.Source.Manager.StateOf(s.Vm));
        Assert.Same(s.Destination, s.AssertExactlyOneLive());
    }

    [Fact]
    public async Task ResolveAsync_NothingPending_ThrowsNamingTheVm()
    {
        using var s = new MigrationScenario();

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => s.Source.Source.ResolveAsync(s.Vm, _ => s.Destination.Transport()));

        Assert.Contains(s.Vm.ToString(), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pending_DamagedJournalEntry_ListedAsUnreadableNamingItsFile()
    {
        using var s = new MigrationScenario();
        using var drop = new DropPrepare(s.Destination);
        var result = await s.Source.Source.MigrateAsync(s.Vm, drop, s.Policy);
        Assert.True(result.AwaitsDestination);
        var entry = Assert.Single(s.Source.JournalFiles);
        var bytes = File.ReadAllBytes(entry);
        bytes[^1] ^= 1;
        File.WriteAllBytes(entry, bytes);

        s.Source.Crash(); // recovery skips the damaged entry instead of failing the host
        var pending = Assert.Single(s.Source.Source.Pending);

        Assert.Equal(VTpmPendingMigrationState.Unreadable, pending.State);
        Assert.Contains(entry, pending.Problem, StringComparison.Ordinal);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => s.Source.Source.ResolveAsync(s.Vm, _ => s.Destination.Transport()));
        Assert.Contains(entry, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Destination_DamagedJournalEntry_RestartsAndAnswersMessages()
    {
        using var host = new MigrationHost("damaged", 904);
        var offer = MigrationMessage.Decode(host.Destination.Handle(ForgedOfferRequest()));
        var entry = Assert.Single(host.JournalFiles);
        File.WriteAllBytes(entry, [1, 2, 3]);

        host.Crash();
        var answer = MigrationMessage.Decode(host.Destination.Handle(new MigrationMessage(MigrationMessageKind.Commit, Guid.NewGuid(), offer.MigrationId, new byte[32]).Encode()));

        Assert.Equal(MigrationMessageKind.Error, answer.Kind);
        Assert.Contains(entry, answer.ReadError().Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateAsync_HostileErrorBody_RefusedNotThrown()
    {
        using var s = new MigrationScenario();
        using var hostile = new AnsweringTransport(m => new MigrationMessage(MigrationMessageKind.Error, m.MessageId, m.MigrationId, [0, 1, 0xFF]).Encode());

        var result = await s.Source.Source.MigrateAsync(s.Vm, hostile, s.Policy);

        Assert.Equal(VTpmMigrationOutcome.Refused, result.Outcome);
        Assert.Contains(result.Reasons, r => r.Contains("unreadable error message", StringComparison.Ordinal));
    }

    [Fact]
    public async Task JournalAndMarkers_AreOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var s = new MigrationScenario();
        using var drop = new DropPrepare(s.Destination);
        await s.Source.Source.MigrateAsync(s.Vm, drop, s.Policy);
        Assert.NotEmpty(s.Source.JournalFiles);
        Assert.NotEmpty(s.Destination.JournalFiles);

        foreach (var dir in new[] { s.Source.Directory, s.Destination.Directory })
        {
            Assert.Equal(OwnerReadWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(System.IO.Path.Combine(dir, "migrations")));
            foreach (var file in System.IO.Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
            {
                Assert.True(File.GetUnixFileMode(file) == OwnerReadWrite, $"{file} is {File.GetUnixFileMode(file)}");
            }
        }
    }

    internal static byte[] ForgedOfferRequest() =>
        new MigrationMessage(MigrationMessageKind.OfferRequest, Guid.NewGuid(), Guid.Empty, new OfferRequestBody(Guid.NewGuid(), RandomNumberGenerator.GetBytes(32), VTpmStateFormat.MinimumVersion, VTpmStateFormat.CurrentVersion).Encode()).Encode();

    /// <summary>Delivers every message, but lets the destination's clock pass <paramref name="delay"/> before the first of one kind.</summary>
    private sealed class ClockAdvancingTransport(MigrationHost destination, MigrationMessageKind kind, TimeSpan delay) : IMigrationTransport
    {
        private bool _done;

        public string Endpoint => destination.Name;

        public ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default)
        {
            if (!_done && MigrationMessage.Decode(request.Span).Kind == kind)
            {
                _done = true;
                destination.Clock.Advance(delay);
            }

            return ValueTask.FromResult(destination.Destination.Handle(request.Span));
        }

        public void Dispose()
        {
        }
    }

    /// <summary>Delivers the prepare but loses its answer and every later message: the source rolls back with its abort owed.</summary>
    private sealed class DropPrepare(MigrationHost destination) : IMigrationTransport
    {
        public string Endpoint => destination.Name;

        public ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default)
        {
            var kind = MigrationMessage.Decode(request.Span).Kind;
            if (kind == MigrationMessageKind.OfferRequest)
            {
                return ValueTask.FromResult(destination.Destination.Handle(request.Span));
            }

            if (kind == MigrationMessageKind.Prepare)
            {
                destination.Destination.Handle(request.Span);
            }

            throw new IOException("link down");
        }

        public void Dispose()
        {
        }
    }

    /// <summary>A hostile destination: answers every request with <paramref name="answer"/>.</summary>
    internal sealed class AnsweringTransport(Func<MigrationMessage, byte[]> answer) : IMigrationTransport
    {
        public string Endpoint => "hostile";

        public ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(answer(MigrationMessage.Decode(request.Span)));

        public void Dispose()
        {
        }
    }
}
