using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.Tests.Migration;

public sealed class VTpmMigrationSourceTests
{
    public static TheoryData<string, string> MessageFaults()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in new[] { MigrationMessageKind.OfferRequest, MigrationMessageKind.Prepare, MigrationMessageKind.Commit })
        {
            foreach (var fault in Enum.GetValues<MessageFault>().Where(f => f != MessageFault.None))
            {
                data.Add(kind.ToString(), fault.ToString());
            }
        }

        return data;
    }

    public static TheoryData<string, bool> SourceCrashPoints() => new()
    {
        // Before the commit decision the vTPM stays (rolls back) at the source; from the decision on it moves.
        { "source:offer-verified", false },
        { "source:lock-journaled", false },
        { "source:locked", false },
        { "source:receipt-received", false },
        { "source:commit-journaled", true },
        { "source:destroyed", true },
        { "source:commit-acknowledged", true },
    };

    public static TheoryData<string> DestinationCrashPoints() => new()
    {
        "destination:offer-journaled",
        "destination:prepare-stored",
        "destination:prepare-journaled",
        "destination:commit-journaled",
        "destination:activated",
    };

    [Fact]
    public async Task MigrateAsync_TrustedDestination_MovesTheVTpmWithItsKeysAndValues()
    {
        using var s = new MigrationScenario();
        var launchesBefore = s.Destination.Junction.LaunchCount;
        using var transport = s.Destination.Transport();

        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        Assert.Equal(VTpmMigrationOutcome.Completed, result.Outcome);
        Assert.Empty(result.Reasons);
        Assert.False(s.Source.Manager.Contains(s.Vm));
        Assert.Equal(VTpmInstanceState.Running, s.Destination.Manager.Inspect(s.Vm).State);
        Assert.Same(s.Destination, s.AssertExactlyOneLive());
        Assert.Empty(s.Source.Source.Pending);

        // Re-measured at the destination's junction point: one launch event naming the VM.
        Assert.Equal(launchesBefore + 1, s.Destination.Junction.LaunchCount);
        var launch = TcgEventLog.Parse(s.Destination.Platform.GetEventLog()).Events.Select(TvpQtEventData.TryParse).Last(e => e?.Tag == TvpQtEventTag.VTpmLaunch);
        Assert.Equal(s.Vm.ToString("D"), launch!["vm"]);
        Assert.Equal(Convert.ToHexStringLower(s.Destination.Manager.Inspect(s.Vm).EkName!), launch["vek-name"]);
    }

    [Fact]
    public async Task MigrateAsync_ThenDestinationRestarts_VTpmIsStillThere()
    {
        using var s = new MigrationScenario();
        using var transport = s.Destination.Transport();
        await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        s.Destination.Crash();

        Assert.Equal(VTpmInstanceState.Stopped, s.Destination.Manager.Inspect(s.Vm).State);
        Assert.Contains(s.Vm, s.Destination.Manager.List().Select(i => i.VmId));
        s.AssertExactlyOneLive(pcrsKept: false);
    }

    [Theory]
    [MemberData(nameof(MessageFaults))]
    public async Task MigrateAsync_MessageFault_ExactlyOneLiveInstanceAndIntactState(string kind, string fault)
    {
        using var s = new MigrationScenario();
        using var transport = new FaultyTransport(s.Destination, Enum.Parse<MigrationMessageKind>(kind), Enum.Parse<MessageFault>(fault));

        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);
        await s.Source.Source.RecoverAsync(_ => new FaultyTransport(s.Destination));

        Assert.True(result.Moved, result.ToString());
        Assert.Same(s.Destination, s.AssertExactlyOneLive());

        // Afterwards every message ever sent is replayed: nothing changes.
        foreach (var message in transport.Sent.ToArray())
        {
            transport.Deliver(message);
        }

        Assert.Same(s.Destination, s.AssertExactlyOneLive());
    }

    [Theory]
    [MemberData(nameof(SourceCrashPoints))]
    public async Task MigrateAsync_SourceCrashes_RecoversToExactlyOneLiveInstance(string point, bool moves)
    {
        using var s = new MigrationScenario();
        s.Source.Source.FaultHook = p =>
        {
            if (p == point)
            {
                throw new SimulatedFault(p);
            }
        };
        using var transport = new FaultyTransport(s.Destination);

        await Assert.ThrowsAsync<SimulatedFault>(() => s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy));
        s.Source.Crash();
        await s.Source.Source.RecoverAsync(_ => new FaultyTransport(s.Destination));

        Assert.Same(moves ? s.Destination : s.Source, s.AssertExactlyOneLive());
        Assert.Empty(s.Source.Source.Pending);
        foreach (var message in transport.Sent.ToArray())
        {
            transport.Deliver(message);
        }

        Assert.Same(moves ? s.Destination : s.Source, s.AssertExactlyOneLive());
    }

    [Theory]
    [MemberData(nameof(DestinationCrashPoints))]
    public async Task MigrateAsync_DestinationCrashes_RecoversToExactlyOneLiveInstance(string point)
    {
        using var s = new MigrationScenario();
        var crashed = false;
        s.Destination.Destination.FaultHook = p =>
        {
            if (p == point && !crashed)
            {
                crashed = true;
                throw new SimulatedFault(p);
            }
        };
        using var transport = new FaultyTransport(s.Destination);

        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        Assert.True(crashed);
        Assert.Equal(1, s.Destination.Crashes);
        Assert.Equal(VTpmMigrationOutcome.Completed, result.Outcome);

        // A restart after the activation is a power cycle of the running vTPM: its PCRs reset (as documented for any restart).
        Assert.Same(s.Destination, s.AssertExactlyOneLive(pcrsKept: point != "destination:activated"));
    }

    [Fact]
    public async Task MigrateAsync_DestinationUnreachableAfterLock_RollsBackAndSourceServesAgain()
    {
        using var s = new MigrationScenario();
        using var transport = new DropAfterOffer(s.Destination);

        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        Assert.Equal(VTpmMigrationOutcome.RolledBack, result.Outcome);
        Assert.Contains(result.Reasons, r => r.Contains("no prepare-receipt", StringComparison.Ordinal));
        Assert.Equal(VTpmInstanceState.Running, s.Source.Manager.Inspect(s.Vm).State);
        Assert.Same(s.Source, s.AssertExactlyOneLive());

        // The abort is still owed to the destination; once it is reachable the abort goes through.
        Assert.Single(s.Source.Source.Pending);
        var recovered = await s.Source.Source.RecoverAsync(_ => s.Destination.Transport());
        Assert.Equal(VTpmMigrationOutcome.RolledBack, Assert.Single(recovered).Outcome);
        Assert.Empty(s.Source.Source.Pending);
        Assert.Same(s.Source, s.AssertExactlyOneLive());
    }

    [Fact]
    public async Task MigrateAsync_SourceCrashesWhileAborting_RecoversAtTheSource()
    {
        using var s = new MigrationScenario();
        s.Source.Source.FaultHook = p =>
        {
            if (p == "source:abort-journaled")
            {
                throw new SimulatedFault(p);
            }
        };
        using var transport = new DropAfterOffer(s.Destination);

        await Assert.ThrowsAsync<SimulatedFault>(() => s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy));
        s.Source.Crash();
        await s.Source.Source.RecoverAsync(_ => s.Destination.Transport());

        Assert.Same(s.Source, s.AssertExactlyOneLive());
    }

    [Fact]
    public async Task MigrateAsync_UntrustedVirtualizationLayer_RefusedWithPcrReasonAndNothingSent()
    {
        using var s = new MigrationScenario();
        s.Destination.Hardware.PcrExtend(4, TpmAlgId.Sha256, SHA256.HashData("patched VMM"u8));
        using var transport = new FaultyTransport(s.Destination);

        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        Assert.Equal(VTpmMigrationOutcome.Refused, result.Outcome);
        Assert.Contains(result.Reasons, r => r.Contains("virtualization layer is not trusted: PCR sha256:4", StringComparison.Ordinal));
        Assert.DoesNotContain(transport.Sent, m => MigrationMessage.Decode(m).Kind == MigrationMessageKind.Prepare);
        Assert.Equal(VTpmInstanceState.Running, s.Source.Manager.Inspect(s.Vm).State);
        Assert.Same(s.Source, s.AssertExactlyOneLive());
    }

    [Fact]
    public async Task MigrateAsync_UntrustedAttestationKey_Refused()
    {
        using var s = new MigrationScenario();
        s.Policy = s.Policy with { TrustedAttestationKeyNames = [s.Source.Destination.AttestationKeyName] };
        using var transport = s.Destination.Transport();

        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        Assert.Equal(VTpmMigrationOutcome.Refused, result.Outcome);
        Assert.Contains(result.Reasons, r => r.Contains("attestation key", StringComparison.Ordinal) && r.Contains("is not trusted", StringComparison.Ordinal));
        Assert.Same(s.Source, s.AssertExactlyOneLive());
    }

    [Fact]
    public async Task MigrateAsync_MigrationKeyNotCertifiedByDestinationTpm_Refused()
    {
        using var s = new MigrationScenario();

        // A man in the middle swaps in a key of its own (a software key it holds), keeping the genuine quote.
        using var attacker = new SoftwareTpm(new SoftwareTpmOptions { Seed = 666, AutoStartup = true });
        var attackerKey = new Tpm2(attacker).CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Public;
        using var transport = new RewritingTransport(s.Destination, offer => offer with { MigrationKey = attackerKey });

        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        Assert.Equal(VTpmMigrationOutcome.Refused, result.Outcome);
        Assert.Contains(result.Reasons, r => r.StartsWith("the migration key is not certified by the destination's TPM", StringComparison.Ordinal));
        Assert.Same(s.Source, s.AssertExactlyOneLive());
    }

    [Fact]
    public async Task MigrateAsync_OfferedVersionRangeTampered_RefusedAsNotBoundToTheQuote()
    {
        using var s = new MigrationScenario();
        using var transport = new RewritingTransport(s.Destination, offer => offer with { MinVersion = 0, MaxVersion = 0 });

        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        Assert.Equal(VTpmMigrationOutcome.Refused, result.Outcome);
        Assert.Contains(result.Reasons, r => r.Contains("platform attestation: Nonce", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Prepare_TamperedCiphertext_RejectedAndSourceRollsBack()
    {
        using var s = new MigrationScenario();
        using var transport = new PackageTamperingTransport(s.Destination, body => body[^40] ^= 0x01);

        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        Assert.Equal(VTpmMigrationOutcome.RolledBack, result.Outcome);
        Assert.Contains(result.Reasons, r => r.Contains("does not authenticate", StringComparison.Ordinal));
        Assert.Null(s.Destination.Manager.StateOf(s.Vm));
        Assert.Same(s.Source, s.AssertExactlyOneLive());
    }

    [Fact]
    public async Task Prepare_StateFormatDowngrade_Rejected()
    {
        using var s = new MigrationScenario();

        // The header's version is the AEAD's associated data: lowering it in transit breaks authentication.
        using var transport = new PackageTamperingTransport(s.Destination, body => body[9] = 0);
        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        Assert.Equal(VTpmMigrationOutcome.RolledBack, result.Outcome);
        Assert.Contains(result.Reasons, r => r.Contains("downgrade refused", StringComparison.Ordinal));
        Assert.Same(s.Source, s.AssertExactlyOneLive());
    }

    [Fact]
    public async Task Prepare_PackageReplayedToSecondDestination_Rejected()
    {
        using var s = new MigrationScenario();
        using var third = new MigrationHost("third", 300);
        using var transport = new FaultyTransport(s.Destination);
        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);
        Assert.True(result.Moved);
        var prepare = transport.Sent.Select(m => MigrationMessage.Decode(m)).First(m => m.Kind == MigrationMessageKind.Prepare);

        // Replayed as is (unknown migration id there), and under a migration id the second destination did offer.
        var asIs = MigrationMessage.Decode(third.Destination.Handle(prepare.Encode()));
        var offer = MigrationMessage.Decode(third.Destination.Handle(new MigrationMessage(MigrationMessageKind.OfferRequest, Guid.NewGuid(), Guid.Empty, new OfferRequestBody(s.Vm, new byte[32], 1, 1).Encode()).Encode()));
        var rebound = MigrationMessage.Decode(third.Destination.Handle((prepare with { MigrationId = offer.MigrationId }).Encode()));

        Assert.Equal(MigrationErrorCode.UnknownMigration, asIs.ReadError().Code);
        Assert.Equal(MigrationErrorCode.Format, rebound.ReadError().Code);
        Assert.Null(third.Manager.StateOf(s.Vm));
        Assert.Same(s.Destination, s.AssertExactlyOneLive());
    }

    [Fact]
    public async Task Commit_ForgedSecret_DoesNotActivate()
    {
        using var s = new MigrationScenario();
        using var transport = new FaultyTransport(s.Destination, MigrationMessageKind.Commit, MessageFault.DropRequest);
        var source = new VTpmMigrationSource(s.Source.Manager, new VTpmMigrationSourceOptions { MaxAttempts = 1, RetryDelay = TimeSpan.Zero });
        var result = await source.MigrateAsync(s.Vm, transport, s.Policy);
        Assert.Equal(VTpmMigrationOutcome.CommitPending, result.Outcome);
        Assert.Equal(VTpmInstanceState.Incoming, s.Destination.Manager.StateOf(s.Vm));

        var forged = MigrationMessage.Decode(s.Destination.Destination.Handle(new MigrationMessage(MigrationMessageKind.Commit, Guid.NewGuid(), result.MigrationId, new byte[32]).Encode()));

        Assert.Equal(MigrationErrorCode.Unauthorized, forged.ReadError().Code);
        Assert.Equal(VTpmInstanceState.Incoming, s.Destination.Manager.StateOf(s.Vm));
        var recovered = await source.RecoverAsync(_ => s.Destination.Transport());
        Assert.Equal(VTpmMigrationOutcome.Completed, Assert.Single(recovered).Outcome);
        Assert.Same(s.Destination, s.AssertExactlyOneLive());
    }

    [Fact]
    public async Task MigrateAsync_VmAlreadyAtDestination_RefusedWithReason()
    {
        using var s = new MigrationScenario();
        s.Destination.Manager.Create(s.Vm);
        using var transport = s.Destination.Transport();

        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        Assert.Equal(VTpmMigrationOutcome.Refused, result.Outcome);
        Assert.Contains(result.Reasons, r => r.Contains("already has a vTPM here", StringComparison.Ordinal));
        Assert.Equal(VTpmInstanceState.Running, s.Source.Manager.Inspect(s.Vm).State);
    }

    [Fact]
    public async Task MigrateAsync_Transcript_MatchesSnapshot()
    {
        using var s = new MigrationScenario(seed: 7);
        using var transport = new FaultyTransport(s.Destination);

        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        var transcript = transport.Sent.Select((m, i) =>
        {
            var message = MigrationMessage.Decode(m);
            return $"{i}: {message.Kind} migration={message.MigrationId} size={m.Length} sha256={Convert.ToHexStringLower(SHA256.HashData(m))[..16]}";
        }).Concat(transport.Transcript).Append($"result: {result}").Append($"vEK at destination: {Convert.ToHexStringLower(s.Destination.Manager.Inspect(s.Vm).EkName!)}");
        Snapshooter.Xunit.Snapshot.Match(string.Join('\n', transcript));
    }

    /// <summary>Delivers offers; every later message is lost.</summary>
    private sealed class DropAfterOffer(MigrationHost destination) : IMigrationTransport
    {
        public string Endpoint => destination.Name;

        public ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default) =>
            MigrationMessage.Decode(request.Span).Kind == MigrationMessageKind.OfferRequest
                ? ValueTask.FromResult(destination.Destination.Handle(request.Span))
                : throw new IOException("link down");

        public void Dispose()
        {
        }
    }

    /// <summary>A man in the middle that rewrites the offer.</summary>
    private sealed class RewritingTransport(MigrationHost destination, Func<OfferBody, OfferBody> rewrite) : IMigrationTransport
    {
        public string Endpoint => destination.Name;

        public ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default)
        {
            var response = MigrationMessage.Decode(destination.Destination.Handle(request.Span));
            return ValueTask.FromResult(response.Kind == MigrationMessageKind.Offer
                ? (response with { Body = rewrite(OfferBody.Decode(response.Body)).Encode() }).Encode()
                : response.Encode());
        }

        public void Dispose()
        {
        }
    }

    /// <summary>A man in the middle that alters the package.</summary>
    private sealed class PackageTamperingTransport(MigrationHost destination, Action<byte[]> tamper) : IMigrationTransport
    {
        public string Endpoint => destination.Name;

        public ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default)
        {
            var message = MigrationMessage.Decode(request.Span);
            if (message.Kind == MigrationMessageKind.Prepare)
            {
                var body = message.Body.ToArray();
                tamper(body);
                message = message with { Body = body };
            }

            return ValueTask.FromResult(destination.Destination.Handle(message.Encode()));
        }

        public void Dispose()
        {
        }
    }
}
