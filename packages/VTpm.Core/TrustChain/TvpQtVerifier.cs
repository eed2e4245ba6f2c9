using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// Verifies a guest on a TVP-QT platform without a TPM (book ch. 2, the verifier of the waterfall
/// chain): both quotes, both logs against their quoted PCRs, measure-before-run order in both
/// chains, the junction event that links the vTPM (its vEK) and the VM to the platform, the
/// vTPM's code identity, reference values, and nonce freshness. Every check gives its reason;
/// an untrusted guest is a result, never an exception.
/// </summary>
/// <remarks>
/// The platform log may have grown after the quote (more VMs launched): the verifier uses the
/// longest prefix of the log that replays to the quoted PCRs and ignores later events. That the
/// vAK lives in the vTPM with this vEK is the caller's to establish (credential activation with
/// the vEK, or a vAK certificate): the verifier takes the vAK in the evidence as the vTPM's.
/// </remarks>
public static class TvpQtVerifier
{
    /// <summary>Runs every check.</summary>
    /// <exception cref="ArgumentNullException">An argument or a member of one is null.</exception>
    public static TvpQtVerificationResult Verify(TvpQtEvidence evidence, TvpQtChallenge challenge, TvpQtReferenceValues references)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        ArgumentNullException.ThrowIfNull(challenge);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(evidence.VEkPublic);
        ArgumentNullException.ThrowIfNull(evidence.HardwareQuote);
        ArgumentNullException.ThrowIfNull(evidence.VTpmQuote);
        ArgumentNullException.ThrowIfNull(evidence.PlatformEventLog);
        ArgumentNullException.ThrowIfNull(evidence.GuestEventLog);
        ArgumentNullException.ThrowIfNull(challenge.HardwareNonce);
        ArgumentNullException.ThrowIfNull(challenge.VTpmNonce);
        ArgumentNullException.ThrowIfNull(references.Platform);
        ArgumentNullException.ThrowIfNull(references.Guest);
        ArgumentNullException.ThrowIfNull(references.TrustedVTpmCode);
        ArgumentNullException.ThrowIfNull(references.TrustedHardwareAks);

        var checks = new List<TvpQtCheck>();

        // Platform layer.
        var akName = evidence.HardwareQuote.SigningKey.GetName();
        checks.Add(references.TrustedHardwareAks.Any(n => n.AsSpan().SequenceEqual(akName))
            ? Pass(TvpQtCheckKind.HardwareAk, $"hardware AK {Hex(akName)} is trusted")
            : Fail(TvpQtCheckKind.HardwareAk, $"hardware AK {Hex(akName)} is not among the {references.TrustedHardwareAks.Count} trusted hardware AKs"));
        var hwQuote = VerifyQuote(evidence.HardwareQuote, challenge.HardwareNonce);
        checks.Add(QuoteCheck(TvpQtCheckKind.HardwareQuote, "hardware", hwQuote));
        checks.Add(NonceCheck(TvpQtCheckKind.HardwareNonce, "hardware", hwQuote));
        var platform = Replay(TvpQtCheckKind.PlatformLogReplay, "platform", evidence.PlatformEventLog, hwQuote, evidence.HardwareQuote.PcrValues);
        checks.Add(platform.Check);
        var junctionName = references.Platform.Count > 0 ? references.Platform[^1].Name : TrustedJunctionPointName;
        checks.Add(CheckOrder(TvpQtCheckKind.PlatformMeasureBeforeRun, "platform", PlatformMeasurement.RootOfTrustName, platform.Events, junctionName));
        checks.Add(CheckReferences(TvpQtCheckKind.PlatformReferenceValues, "platform", platform.Events, references.Platform));

        // The junction point.
        var (junction, launch) = FindJunctionEvent(evidence, platform.Events, references.JunctionPcr, junctionName);
        checks.Add(junction);
        checks.Add(launch is null
            ? Fail(TvpQtCheckKind.VTpmCodeIdentity, "no junction event to read the vTPM's code identity from")
            : references.TrustedVTpmCode.Any(c => Hex(c) == launch["code"])
                ? Pass(TvpQtCheckKind.VTpmCodeIdentity, $"vTPM code {launch["code"]} is a trusted build")
                : Fail(TvpQtCheckKind.VTpmCodeIdentity, $"vTPM code {launch["code"]} is not among the {references.TrustedVTpmCode.Count} trusted vTPM builds"));

        // Guest layer.
        var vQuote = VerifyQuote(evidence.VTpmQuote, challenge.VTpmNonce);
        checks.Add(QuoteCheck(TvpQtCheckKind.VTpmQuote, "vTPM", vQuote));
        checks.Add(NonceCheck(TvpQtCheckKind.VTpmNonce, "vTPM", vQuote));
        var guest = Replay(TvpQtCheckKind.GuestLogReplay, "guest", evidence.GuestEventLog, vQuote, evidence.VTpmQuote.PcrValues);
        checks.Add(guest.Check);
        checks.Add(CheckOrder(TvpQtCheckKind.GuestMeasureBeforeRun, "guest", GuestMeasurement.RootOfTrustName, guest.Events, null));
        checks.Add(CheckReferences(TvpQtCheckKind.GuestReferenceValues, "guest", guest.Events, references.Guest));
        return new TvpQtVerificationResult(evidence.VmId, checks);
    }

    private const string TrustedJunctionPointName = "trusted-junction-point";

    private sealed record LoggedEvent(int Index, TcgEvent Event, TvpQtEventData? Data);

    private sealed record ReplayOutcome(TvpQtCheck Check, IReadOnlyList<LoggedEvent> Events);

    private static QuoteVerificationResult VerifyQuote(QuoteEvidence quote, byte[] nonce)
    {
        ArgumentNullException.ThrowIfNull(quote.Attest);
        ArgumentNullException.ThrowIfNull(quote.Signature);
        ArgumentNullException.ThrowIfNull(quote.SigningKey);
        ArgumentNullException.ThrowIfNull(quote.PcrValues);
        return QuoteVerifier.Verify(new QuoteVerificationRequest(quote.SigningKey, quote.Attest, quote.Signature, nonce, quote.PcrValues));
    }

    private static TvpQtCheck QuoteCheck(TvpQtCheckKind kind, string layer, QuoteVerificationResult result)
    {
        var failed = result.FailedChecks.Where(c => c.Kind != QuoteCheckKind.Nonce).ToArray();
        return result.Attest is not null && failed.Length == 0
            ? Pass(kind, $"the {layer} quote is TPM-made, its signature verifies with the key, its PCR digest matches the reported values")
            : Fail(kind, $"the {layer} quote does not verify: {string.Join("; ", failed.Select(c => $"{c.Kind}: {c.Detail}"))}");
    }

    private static TvpQtCheck NonceCheck(TvpQtCheckKind kind, string layer, QuoteVerificationResult result)
    {
        var nonce = result.Checks.FirstOrDefault(c => c.Kind == QuoteCheckKind.Nonce);
        return nonce is { Status: QuoteCheckStatus.Passed }
            ? Pass(kind, $"the {layer} quote carries this challenge's nonce")
            : Fail(kind, nonce is null ? $"the {layer} quote did not parse, so its nonce is unknown" : $"stale or replayed {layer} quote: {nonce.Detail}");
    }

    private static ReplayOutcome Replay(TvpQtCheckKind kind, string layer, byte[] log, QuoteVerificationResult quote, PcrValues reported)
    {
        TcgEventLog parsed;
        try
        {
            parsed = TcgEventLog.Parse(log);
        }
        catch (EventLogFormatException e)
        {
            return new(Fail(kind, $"the {layer} event log is malformed: {e.Message}"), []);
        }

        var events = parsed.Events.Select((e, i) => new LoggedEvent(i + 1, e, TvpQtEventData.TryParse(e))).ToArray();
        if (quote.QuoteInfo is not { } info)
        {
            return new(Fail(kind, $"the {layer} quote did not parse, so there are no quoted PCRs to replay against"), []);
        }

        var targets = info.PcrSelect.Enumerate().ToArray();
        var logBanks = parsed.SpecId.DigestSizes.Select(d => d.Algorithm).ToHashSet();
        var noBank = targets.Select(t => t.Bank).Distinct().Where(b => !logBanks.Contains(b)).ToArray();
        if (noBank.Length > 0)
        {
            return new(Fail(kind, $"the {layer} log has no {string.Join(", ", noBank.Select(PcrValues.BankName))} digests for the quoted PCRs"), []);
        }

        var missing = targets.Where(t => !reported.TryGetValue(t.Bank, t.Pcr, out _)).ToArray();
        if (missing.Length > 0)
        {
            return new(Fail(kind, $"no reported value for quoted PCR(s) {Describe(missing)}"), []);
        }

        // Replay event by event; keep the longest prefix whose state equals the quoted values.
        var locality = parsed.Events.Select(e => e.StartupLocality).FirstOrDefault(l => l is not null) ?? 0;
        var state = targets.ToDictionary(t => t, t => Initial(t.Bank, t.Pcr, locality));
        var matched = Matches(state, reported) ? 0 : -1;
        for (var i = 0; i < events.Length; i++)
        {
            var e = events[i].Event;
            if (e.EventType != TcgEventType.NoAction)
            {
                foreach (var t in targets.Where(t => t.Pcr == (int)e.PcrIndex))
                {
                    if (e.DigestFor(t.Bank) is { } digest)
                    {
                        state[t] = TpmHash.Extend(t.Bank, state[t], digest);
                    }
                }
            }

            if (Matches(state, reported))
            {
                matched = i + 1;
            }
        }

        if (matched < 0)
        {
            var wrong = targets.Where(t => !state[t].AsSpan().SequenceEqual(reported[t.Bank, t.Pcr])).ToArray();
            return new(Fail(kind, $"no prefix of the {layer} log ({events.Length} events) replays to the quoted PCRs; after all events {Describe(wrong)} differ" +
                $" ({string.Join(", ", wrong.Select(t => $"{PcrValues.BankName(t.Bank)}:{t.Pcr} log {Hex(state[t])} quoted {Hex(reported[t.Bank, t.Pcr])}"))})"), []);
        }

        var attested = events.Take(matched).ToArray();
        var quotedPcrs = targets.Select(t => t.Pcr).ToHashSet();
        var uncovered = attested.Where(e => e.Event.EventType != TcgEventType.NoAction && !quotedPcrs.Contains((int)e.Event.PcrIndex)).ToArray();
        if (uncovered.Length > 0)
        {
            return new(Fail(kind, $"{layer} log events {string.Join(", ", uncovered.Select(e => $"#{e.Index} (PCR {e.Event.PcrIndex})"))} extend PCRs the quote does not cover"), []);
        }

        var ignored = events.Length - matched;
        return new(Pass(kind, $"events 1..{matched} of the {layer} log replay to the quoted PCRs {Describe(targets)}" +
            (ignored > 0 ? $"; {ignored} later event(s) are not covered by the quote and are ignored" : string.Empty)), attested);
    }

    private static byte[] Initial(TpmAlgId bank, int pcr, byte locality)
    {
        var value = new byte[TpmHash.DigestSize(bank)];
        if (pcr == 0)
        {
            value[^1] = locality;
        }

        return value;
    }

    private static bool Matches(Dictionary<(TpmAlgId Bank, int Pcr), byte[]> state, PcrValues reported) =>
        state.All(kv => CryptographicOperations.FixedTimeEquals(kv.Value, reported[kv.Key.Bank, kv.Key.Pcr]));

    private static TvpQtCheck CheckOrder(TvpQtCheckKind kind, string layer, string root, IReadOnlyList<LoggedEvent> events, string? junctionName)
    {
        var problems = new List<string>();
        var components = events.Where(e => e.Data?.Tag == TvpQtEventTag.Component).ToArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < components.Length; i++)
        {
            var data = components[i].Data!;
            var name = data["name"];
            var expected = i == 0 ? root : components[i - 1].Data!["name"];
            if (data.Sequence != i + 1)
            {
                problems.Add($"'{name}' (event #{components[i].Index}) has seq {data.Sequence}, expected {i + 1}");
            }

            if (!seen.Add(name))
            {
                problems.Add($"'{name}' is measured twice");
            }

            if (data.MeasuredBy != expected)
            {
                problems.Add($"'{name}' was measured by '{data.MeasuredBy}', but '{expected}' ran before it: not measured by its predecessor before it ran");
            }
        }

        var launches = events.Where(e => e.Data?.Tag == TvpQtEventTag.VTpmLaunch).ToArray();
        if (junctionName is not null)
        {
            var junction = components.FirstOrDefault(c => c.Data!["name"] == junctionName);
            foreach (var l in launches)
            {
                if (junction is null || l.Index < junction.Index)
                {
                    problems.Add($"launch event #{l.Index} precedes the measurement of '{junctionName}'");
                }

                if (l.Data!.MeasuredBy != junctionName)
                {
                    problems.Add($"launch event #{l.Index} was measured by '{l.Data.MeasuredBy}', not '{junctionName}'");
                }
            }

            if (launches.Length > 0 && components.FirstOrDefault(c => c.Index > launches[0].Index) is { } late)
            {
                problems.Add($"component '{late.Data!["name"]}' was measured after a vTPM launch");
            }
        }
        else if (launches.Length > 0)
        {
            problems.Add($"the {layer} log holds {launches.Length} launch event(s)");
        }

        if (components.Length == 0)
        {
            problems.Add($"the {layer} log holds no component events");
        }

        return problems.Count == 0
            ? Pass(kind, $"{components.Length} {layer} components each measured by its predecessor before it ran: {root} → {string.Join(" → ", components.Select(c => c.Data!["name"]))}" +
                (launches.Length > 0 ? $"; {launches.Length} launch event(s) after '{junctionName}'" : string.Empty))
            : Fail(kind, string.Join("; ", problems));
    }

    private static TvpQtCheck CheckReferences(TvpQtCheckKind kind, string layer, IReadOnlyList<LoggedEvent> events, IReadOnlyList<ReferenceMeasurement> references)
    {
        var problems = new List<string>();
        var components = events.Where(e => e.Data?.Tag == TvpQtEventTag.Component).ToArray();
        var names = components.Select(c => c.Data!["name"]).ToArray();
        var expectedNames = references.Select(r => r.Name).ToArray();
        foreach (var c in components)
        {
            var name = c.Data!["name"];
            var reference = references.FirstOrDefault(r => r.Name == name);
            var measured = c.Event.DigestFor(TpmAlgId.Sha256);
            if (reference is null)
            {
                problems.Add($"'{name}' has no reference value");
            }
            else if (measured is null)
            {
                problems.Add($"'{name}' has no SHA-256 digest in the log");
            }
            else if (!CryptographicOperations.FixedTimeEquals(measured, reference.Sha256))
            {
                problems.Add($"'{name}' measured {Hex(measured)}, reference {Hex(reference.Sha256)}");
            }
        }

        var absent = expectedNames.Except(names, StringComparer.Ordinal).ToArray();
        if (absent.Length > 0)
        {
            problems.Add($"not measured: {string.Join(", ", absent.Select(n => $"'{n}'"))}");
        }
        else if (!names.SequenceEqual(expectedNames, StringComparer.Ordinal))
        {
            problems.Add($"measured in the order {string.Join(", ", names)}, the reference order is {string.Join(", ", expectedNames)}");
        }

        return problems.Count == 0
            ? Pass(kind, $"all {components.Length} {layer} components match their reference values")
            : Fail(kind, string.Join("; ", problems));
    }

    private static (TvpQtCheck Check, TvpQtEventData? Launch) FindJunctionEvent(TvpQtEvidence evidence, IReadOnlyList<LoggedEvent> events, uint junctionPcr, string junctionName)
    {
        const TvpQtCheckKind kind = TvpQtCheckKind.JunctionEvent;
        var vekName = evidence.VEkPublic.GetName();
        var vekHex = Hex(vekName);
        var vm = evidence.VmId.ToString("D");
        var launches = events.Where(e => e.Data?.Tag == TvpQtEventTag.VTpmLaunch && e.Event.PcrIndex == junctionPcr).ToArray();
        var forVek = launches.Where(e => e.Data!["vek-name"] == vekHex).ToArray();
        if (forVek.Length == 0)
        {
            var forVm = launches.Where(e => e.Data!["vm"] == vm).ToArray();
            return (Fail(kind, forVm.Length > 0
                ? $"the junction events for VM {vm} name vEK {string.Join(", ", forVm.Select(e => e.Data!["vek-name"]).Distinct())}, not this vTPM's vEK {vekHex}"
                : $"no junction event in PCR {junctionPcr} names vEK {vekHex} or VM {vm} ({launches.Length} launch event(s) attested): this vTPM was not launched on this platform"), null);
        }

        var last = forVek[^1];
        var data = last.Data!;
        if (data["vm"] != vm)
        {
            return (Fail(kind, $"vEK {vekHex} was launched (event #{last.Index}) for VM {data["vm"]}, not VM {vm}: the vTPM belongs to another VM"), null);
        }

        byte[] code, vekDigest;
        try
        {
            code = Convert.FromHexString(data["code"]);
            vekDigest = Convert.FromHexString(data["vek-public-digest"]);
        }
        catch (FormatException)
        {
            return (Fail(kind, $"junction event #{last.Index} has a malformed code or vEK digest field"), null);
        }

        if (vekName.Length < 2 || vekName[0] != 0x00 || vekName[1] != 0x0b || !vekName.AsSpan(2).SequenceEqual(vekDigest))
        {
            return (Fail(kind, $"junction event #{last.Index}: vek-public-digest {data["vek-public-digest"]} is not the SHA-256 digest in vEK Name {vekHex}"), null);
        }

        var launch = new VTpmLaunch(evidence.VmId, code, vekDigest, vekName);
        byte[] measured;
        try
        {
            measured = TrustedJunctionPoint.LaunchMeasurement(launch);
        }
        catch (ArgumentException)
        {
            return (Fail(kind, $"junction event #{last.Index} has an empty code or vEK digest field"), null);
        }

        var unbound = last.Event.Digests.Where(d => TpmHash.IsSupported(d.HashAlg) && !CryptographicOperations.FixedTimeEquals(d.Digest, TpmHash.Hash(d.HashAlg, measured))).ToArray();
        if (unbound.Length > 0 || last.Event.DigestFor(TpmAlgId.Sha256) is null)
        {
            return (Fail(kind, $"junction event #{last.Index}'s digest is not H(code ‖ vEK public digest ‖ VM UUID) of its own fields: the event data was edited"), null);
        }

        if (data.MeasuredBy != junctionName)
        {
            return (Fail(kind, $"junction event #{last.Index} was measured by '{data.MeasuredBy}', not '{junctionName}'"), null);
        }

        return (Pass(kind, $"launch #{data.Sequence} (event #{last.Index}, PCR {junctionPcr}, one of {launches.Length} launches) binds vEK {vekHex} and VM {vm} to this platform"), data);
    }

    private static string Describe(IEnumerable<(TpmAlgId Bank, int Pcr)> pcrs) =>
        string.Join(", ", pcrs.GroupBy(p => p.Bank).Select(g => $"{PcrValues.BankName(g.Key)}:{string.Join(',', g.Select(p => p.Pcr))}"));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static TvpQtCheck Pass(TvpQtCheckKind kind, string reason) => new(kind, true, reason);

    private static TvpQtCheck Fail(TvpQtCheckKind kind, string reason) => new(kind, false, reason);
}
