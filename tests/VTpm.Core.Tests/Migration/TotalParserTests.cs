using System.Security.Cryptography;
using System.Text;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.Tests.Migration;

/// <summary>
/// Issue 19, total parsers in the manager and migration: every single-octet change and every
/// truncation of each message, state file, sealed key and journal entry the manager reads is
/// refused with its documented error (a reason, <see cref="VTpmStateException"/> naming the file,
/// an error message, <see cref="FormatException"/>) and nothing else escapes.
/// </summary>
public sealed class TotalParserTests
{
    /// <summary>Every single-octet change (each octet XOR 0xFF) and every truncation of <paramref name="original"/>.</summary>
    private static IEnumerable<(string What, byte[] Bytes)> Mutations(byte[] original, int stride = 1)
    {
        for (var i = 0; i < original.Length; i += stride)
        {
            var changed = original.ToArray();
            changed[i] ^= 0xFF;
            yield return ($"octet {i} changed", changed);
        }

        for (var length = 0; length < original.Length; length += stride)
        {
            yield return ($"truncated to {length}", original[..length]);
        }
    }

    [Fact]
    public async Task OfferResponse_EveryOctetChangedOrTruncated_SourceRefusesWithoutThrowing()
    {
        using var s = new MigrationScenario();
        var offer = s.Destination.Destination.Handle(MigrationFaultTests.ForgedOfferRequest());
        var source = new VTpmMigrationSource(s.Source.Manager, new VTpmMigrationSourceOptions { MaxAttempts = 1, RetryDelay = TimeSpan.Zero });
        var count = 0;
        foreach (var (what, bytes) in Mutations(offer))
        {
            using var hostile = new MigrationFaultTests.AnsweringTransport(request => Readdress(bytes, request.MessageId));
            var result = await source.MigrateAsync(s.Vm, hostile, s.Policy);
            Assert.True(result.Outcome == VTpmMigrationOutcome.Refused, $"{what}: {result}");
            Assert.NotEmpty(result.Reasons);
            count++;
        }

        Assert.True(count > 2000);
        Assert.Equal(VTpmInstanceState.Running, s.Source.Manager.StateOf(s.Vm));
    }

    [Fact]
    public async Task Receipt_EveryOctetChangedOrTruncated_RefusedWithAReason()
    {
        using var s = new MigrationScenario();
        using var capture = new CapturingTransport(s.Destination, MigrationMessageKind.PrepareReceipt, dropAfterCapture: true);
        var result = await s.Source.Source.MigrateAsync(s.Vm, capture, s.Policy);
        Assert.Equal(VTpmMigrationOutcome.RolledBack, result.Outcome);
        var prepare = MigrationMessage.Decode(capture.Requests.First(r => MigrationMessage.Decode(r).Kind == MigrationMessageKind.Prepare));
        var receipt = MigrationMessage.Decode(capture.Captured!);
        var ak = OfferBody.Decode(MigrationMessage.Decode(capture.Responses[0]).Body).AttestationKey;
        var digest = SHA256.HashData(prepare.Body);
        Assert.Null(MigrationOfferVerifier.CheckReceipt(receipt.Body, ak, receipt.MigrationId, s.Vm, digest));

        foreach (var (what, bytes) in Mutations(receipt.Body))
        {
            Assert.True(MigrationOfferVerifier.CheckReceipt(bytes, ak, receipt.MigrationId, s.Vm, digest) is not null, what);
        }
    }

    [Fact]
    public async Task Prepare_EveryOctetChangedOrTruncated_DestinationAnswersAnErrorAndStaysOffered()
    {
        using var s = new MigrationScenario();
        using var capture = new CapturingTransport(s.Destination, MigrationMessageKind.PrepareReceipt, deliverCaptured: false, dropAfterCapture: true);
        _ = await s.Source.Source.MigrateAsync(s.Vm, capture, s.Policy);
        var prepare = capture.Requests.First(r => MigrationMessage.Decode(r).Kind == MigrationMessageKind.Prepare);
        var message = MigrationMessage.Decode(prepare);

        // The whole header and key wrap region octet by octet, the ciphertext every 7th octet (each
        // reaching it costs an ActivateCredential in the hardware TPM).
        var mutations = Mutations(message.Body).Where(m => !m.What.StartsWith("octet ", StringComparison.Ordinal) || int.Parse(m.What.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) is var i && (i < 400 || i % 7 == 0));
        foreach (var (what, body) in mutations)
        {
            var answer = MigrationMessage.Decode(s.Destination.Destination.Handle((message with { Body = body }).Encode()));
            Assert.True(answer.Kind == MigrationMessageKind.Error, what);
        }

        Assert.Equal(1, s.Destination.Destination.InProgress);
        Assert.Null(s.Destination.Manager.StateOf(s.Vm));

        // The whole message, framing included. Allow-list: octets 7..22 are the message id, a
        // correlation id the protocol does not protect (a duplicate under a new message id is the
        // same message, answered the same), so a change there still prepares.
        foreach (var (what, bytes) in Mutations(prepare[..64]).Where(m => m.What is not ("octet 7 changed" or "octet 8 changed" or "octet 9 changed" or "octet 10 changed" or "octet 11 changed" or "octet 12 changed" or "octet 13 changed" or "octet 14 changed" or "octet 15 changed" or "octet 16 changed" or "octet 17 changed" or "octet 18 changed" or "octet 19 changed" or "octet 20 changed" or "octet 21 changed" or "octet 22 changed")))
        {
            var answer = MigrationMessage.Decode(s.Destination.Destination.Handle([.. bytes, .. prepare[64..]]));
            Assert.True(answer.Kind == MigrationMessageKind.Error, what);
        }
    }

    [Fact]
    public void MessageDecoders_EveryOctetChangedOrTruncated_ThrowOnlyFormatException()
    {
        using var s = new MigrationScenario();
        var offer = s.Destination.Destination.Handle(MigrationFaultTests.ForgedOfferRequest());
        var offerBody = MigrationMessage.Decode(offer).Body;
        foreach (var (what, bytes) in Mutations(offer).Concat(Mutations(offerBody)))
        {
            try
            {
                var message = MigrationMessage.Decode(bytes);
                _ = message.ReadError();
                _ = OfferBody.Decode(message.Body);
            }
            catch (Exception e) when (e is FormatException or TpmException)
            {
                // The documented errors of the internal decoders (callers turn them into reasons).
            }
            catch (Exception e)
            {
                Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    [Fact]
    public void StateFile_EveryOctetChangedOrTruncated_StartRefusedNamingTheFile()
    {
        using var platform = new TestPlatform();
        using var manager = platform.Manager();
        var vm = manager.Create().VmId;
        var path = manager.Start(vm).StatePath!;
        manager.Stop(vm);
        var original = File.ReadAllBytes(path);
        foreach (var (what, bytes) in Mutations(original))
        {
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<VTpmStateException>(() => manager.Start(vm));
            Assert.True(e.Path == path, what);
            Assert.Equal(VTpmInstanceState.Stopped, manager.Inspect(vm).State);
        }

        File.WriteAllBytes(path, original);
        Assert.Equal(VTpmInstanceState.Running, manager.Start(vm).State);
    }

    [Fact]
    public void SealedKey_EveryOctetChangedOrTruncated_RefusedWithADocumentedError()
    {
        using var platform = new TestPlatform();
        Guid vm;
        using (var manager = platform.Manager())
        {
            vm = manager.Create().VmId;
            manager.Start(vm);
        }

        var path = Path.Combine(platform.Directory, "vtpm-state-key.sealed");
        var original = File.ReadAllBytes(path);
        var opened = new List<string>();
        foreach (var (what, bytes) in Mutations(original))
        {
            File.WriteAllBytes(path, bytes);
            using var manager = platform.Manager();
            try
            {
                manager.Start(vm);
                opened.Add(what);
            }
            catch (VTpmStateException e)
            {
                Assert.True(e.Path.EndsWith(".sealed", StringComparison.Ordinal) || e.Path.EndsWith(".vtpm", StringComparison.Ordinal), what);
            }
            catch (VirtualizationLayerChangedException)
            {
                // A changed PCR selection: the policy no longer matches.
            }
            catch (Exception e)
            {
                Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}");
            }
        }

        // Allow-list: the recorded PCR values (only used to name the PCRs that changed, never trusted)
        // are not covered by the hardware TPM's policy check, so a change there still opens.
        var recorded = RecordedValueOctets(original);
        Assert.All(opened, what => Assert.Contains(int.Parse(what.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), recorded));
    }

    [Fact]
    public async Task JournalEntry_EveryOctetChangedOrTruncated_ListedUnreadableNamingTheFile()
    {
        using var s = new MigrationScenario();
        using var capture = new CapturingTransport(s.Destination, MigrationMessageKind.PrepareReceipt, deliverCaptured: false, dropAfterCapture: true);
        var result = await s.Source.Source.MigrateAsync(s.Vm, capture, s.Policy);
        Assert.True(result.AwaitsDestination);
        var entry = Assert.Single(s.Source.JournalFiles);
        var original = File.ReadAllBytes(entry);
        foreach (var (what, bytes) in Mutations(original))
        {
            File.WriteAllBytes(entry, bytes);
            var pending = Assert.Single(s.Source.Source.Pending);
            Assert.True(pending.State == VTpmPendingMigrationState.Unreadable && pending.Problem!.Contains(entry, StringComparison.Ordinal), what);
        }
    }

    [Fact]
    public void ControlMessages_EveryOctetChangedOrTruncated_ThrowOnlyFormatException()
    {
        var request = VTpmControlProtocol.Encode(new VTpmControlRequest(VTpmControlCommand.Migrate) { VmId = Guid.NewGuid(), Destination = "127.0.0.1:2600", TrustedAttestationKeyNames = [[1, 2, 3]] });
        var response = VTpmControlProtocol.Encode(new VTpmControlResponse
        {
            Migration = new VTpmMigrationResult(Guid.NewGuid(), Guid.NewGuid(), VTpmMigrationOutcome.RolledBack, ["why"]) { AwaitsDestination = true },
            Instances = [new VTpmControlInstance(Guid.NewGuid(), VTpmInstanceState.Running, 2421)],
        });
        foreach (var (what, bytes) in Mutations(request).Concat(Mutations(response)).Append(("not UTF-8", new byte[] { 0xC0, 0x80 })).Append(("deep", Encoding.UTF8.GetBytes(new string('[', 100)))))
        {
            try
            {
                VTpmControlProtocol.DecodeRequest(bytes);
                VTpmControlProtocol.DecodeResponse(bytes);
            }
            catch (FormatException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    [Fact]
    public void ControlMessages_RoundTrip()
    {
        var vm = Guid.NewGuid();
        var request = new VTpmControlRequest(VTpmControlCommand.Migrate) { VmId = vm, Destination = "127.0.0.1:2600", TrustedAttestationKeyNames = [[0xAB, 0xCD]] };
        var decoded = VTpmControlProtocol.DecodeRequest(VTpmControlProtocol.Encode(request));
        Assert.Equal(request.Command, decoded.Command);
        Assert.Equal(vm, decoded.VmId);
        Assert.Equal(request.Destination, decoded.Destination);
        Assert.Equal([0xAB, 0xCD], Assert.Single(decoded.TrustedAttestationKeyNames));

        var response = VTpmControlProtocol.DecodeResponse(VTpmControlProtocol.Encode(new VTpmControlResponse
        {
            Migration = new VTpmMigrationResult(vm, vm, VTpmMigrationOutcome.CommitPending, ["a", "b"]) { AwaitsDestination = true },
            Instances = [new VTpmControlInstance(vm, VTpmInstanceState.Suspended, null)],
        }));
        Assert.Equal(VTpmMigrationOutcome.CommitPending, response.Migration!.Outcome);
        Assert.True(response.Migration.AwaitsDestination);
        Assert.Equal(["a", "b"], response.Migration.Reasons);
        Assert.Equal(new VTpmControlInstance(vm, VTpmInstanceState.Suspended, null), Assert.Single(response.Instances!));
    }

    /// <summary>The octets of the recorded PCR values in a sealed key file (magic, version, selection, count, then TPM2B values).</summary>
    private static HashSet<int> RecordedValueOctets(byte[] file)
    {
        var r = new TpmReader(file);
        r.ReadBytes(8);
        r.ReadU16();
        var selection = PcrSelectionList.Unmarshal(ref r);
        var count = r.ReadU32();
        var octets = new HashSet<int>();
        for (var i = 0; i < count; i++)
        {
            var start = file.Length - r.Remaining + 2; // after the TPM2B size
            var value = r.ReadTpm2b();
            octets.UnionWith(Enumerable.Range(start, value.Length));
        }

        Assert.NotNull(selection);
        return octets;
    }

    private static byte[] Readdress(byte[] response, Guid messageId)
    {
        // A stored answer to another request: give it this request's message id (octets 7..22),
        // unless the mutation is there (then it stays an answer to another message).
        var copy = response.ToArray();
        if (copy.Length >= 23 && copy.AsSpan(0, 4).SequenceEqual("TSMG"u8))
        {
            messageId.TryWriteBytes(copy.AsSpan(7, 16), bigEndian: true, out _);
        }

        return copy;
    }

    /// <summary>Delivers messages and records them; the first response of <paramref name="kind"/> is captured and replaced by a lost link.</summary>
    private sealed class CapturingTransport(MigrationHost destination, MigrationMessageKind kind, bool deliverCaptured = true, bool dropAfterCapture = false) : IMigrationTransport
    {
        public List<byte[]> Requests { get; } = [];

        public List<byte[]> Responses { get; } = [];

        public byte[]? Captured { get; private set; }

        public string Endpoint => destination.Name;

        public ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default)
        {
            var bytes = request.ToArray();
            Requests.Add(bytes);
            if (Captured is not null && dropAfterCapture)
            {
                throw new IOException("link down");
            }

            var isPrepare = MigrationMessage.Decode(bytes).Kind == MigrationMessageKind.Prepare;
            if (Captured is null && isPrepare && !deliverCaptured)
            {
                Captured = [];
                throw new IOException("link down before the prepare arrived");
            }

            var response = destination.Destination.Handle(bytes);
            Responses.Add(response);
            if (Captured is null && MigrationMessage.Decode(response).Kind == kind)
            {
                Captured = response;
                throw new IOException("link down after the receipt");
            }

            return ValueTask.FromResult(response);
        }

        public void Dispose()
        {
        }
    }
}
