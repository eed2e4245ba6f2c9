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
/// <para>Appraisal is default-deny (design: deployment.md, "Default deny"): every attested event must be
/// a component event matching its reference value, a launch event that the junction point made
/// (in the junction PCR, canonical fields, digest bound to them, numbered in order, measured by
/// the junction point — for every VM's launch, not only this one's), or an event that
/// <see cref="TvpQtReferenceValues.PlatformEvents"/> / <see cref="TvpQtReferenceValues.GuestEvents"/>
/// allows. Anything else fails <see cref="TvpQtCheckKind.PlatformReferenceValues"/> or
/// <see cref="TvpQtCheckKind.GuestReferenceValues"/> with the event's index, PCR, type and digests.
/// Of other VMs' launches the verifier demands no more than that they are the junction point's:
/// their vTPM builds and VMs are not this VM's trust.</para>
/// <para>
/// The platform log may have grown after the quote (more VMs launched): the verifier uses the
/// longest prefix of the log that replays to the quoted PCRs and ignores later events. That the
/// vAK lives in the vTPM with this vEK is the caller's to establish (credential activation with
/// the vEK, or a vAK certificate): the verifier takes the vAK in the evidence as the vTPM's.
/// </para>
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
        ArgumentNullException.ThrowIfNull(references.PlatformEvents);
        ArgumentNullException.ThrowIfNull(references.GuestEvents);

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
        // Every launch event is judged once; the junction check reads the same verdicts.
        var launchProblems = new Dictionary<int, string?>();
        foreach (var e in platform.Events)
        {
            if (e.Data?.Tag == TvpQtEventTag.VTpmLaunch)
            {
                launchProblems[e.Index] = LaunchProblem(e, references.JunctionPcr);
            }
        }

        checks.Add(CheckReferences(TvpQtCheckKind.PlatformReferenceValues, "platform", platform, references.Platform, references.PlatformEvents, launchProblems, junctionName));

        // The junction point.
        var (junction, launch) = FindJunctionEvent(evidence, platform.Events, references.JunctionPcr, junctionName, launchProblems);
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
        checks.Add(CheckReferences(TvpQtCheckKind.GuestReferenceValues, "guest", guest, references.Guest, references.GuestEvents, null, null));
        return new TvpQtVerificationResult(evidence.VmId, checks);
    }

    private const string TrustedJunctionPointName = "trusted-junction-point";

    private sealed record LoggedEvent(int Index, TcgEvent Event, TvpQtEventData? Data);

    private sealed record ReplayOutcome(TvpQtCheck Check, IReadOnlyList<LoggedEvent> Events, IReadOnlyList<(TpmAlgId Bank, int Pcr)> Quoted);

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
            return new(Fail(kind, $"the {layer} event log is malformed: {e.Message}"), [], []);
        }

        var events = parsed.Events.Select((e, i) => new LoggedEvent(i + 1, e, TvpQtEventData.TryParse(e))).ToArray();
        if (quote.QuoteInfo is not { } info)
        {
            return new(Fail(kind, $"the {layer} quote did not parse, so there are no quoted PCRs to replay against"), [], []);
        }

        var targets = info.PcrSelect.Enumerate().ToArray();
        var logBanks = parsed.SpecId.DigestSizes.Select(d => d.Algorithm).ToHashSet();
        var noBank = targets.Select(t => t.Bank).Distinct().Where(b => !logBanks.Contains(b)).ToArray();
        if (noBank.Length > 0)
        {
            return new(Fail(kind, $"the {layer} log has no {string.Join(", ", noBank.Select(PcrValues.BankName))} digests for the quoted PCRs"), [], []);
        }

        var missing = targets.Where(t => !reported.TryGetValue(t.Bank, t.Pcr, out _)).ToArray();
        if (missing.Length > 0)
        {
            return new(Fail(kind, $"no reported value for quoted PCR(s) {Describe(missing)}"), [], []);
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
                $" ({string.Join(", ", wrong.Select(t => $"{PcrValues.BankName(t.Bank)}:{t.Pcr} log {Hex(state[t])} quoted {Hex(reported[t.Bank, t.Pcr])}"))})"), [], []);
        }

        var attested = events.Take(matched).ToArray();
        var quotedPcrs = targets.Select(t => t.Pcr).ToHashSet();
        var uncovered = attested.Where(e => e.Event.EventType != TcgEventType.NoAction && !quotedPcrs.Contains((int)e.Event.PcrIndex)).ToArray();
        if (uncovered.Length > 0)
        {
            return new(Fail(kind, $"{layer} log events {string.Join(", ", uncovered.Select(e => $"#{e.Index} (PCR {e.Event.PcrIndex})"))} extend PCRs the quote does not cover"), [], []);
        }

        var ignored = events.Length - matched;
        return new(Pass(kind, $"events 1..{matched} of the {layer} log replay to the quoted PCRs {Describe(targets)}" +
            (ignored > 0 ? $"; {ignored} later event(s) are not covered by the quote and are ignored" : string.Empty)), attested, targets);
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
        var kinds = junctionName is null ? s_guestKinds : s_platformKinds;
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

            if (!kinds.Contains(data["kind"]))
            {
                problems.Add($"'{name}' (event #{components[i].Index}) has kind '{data["kind"]}', not a {layer} component kind");
            }
        }

        var launches = events.Where(e => e.Data?.Tag == TvpQtEventTag.VTpmLaunch).ToArray();
        if (junctionName is not null)
        {
            var junction = components.FirstOrDefault(c => c.Data!["name"] == junctionName);
            for (var i = 0; i < launches.Length; i++)
            {
                var l = launches[i];
                if (junction is null || l.Index < junction.Index)
                {
                    problems.Add($"launch event #{l.Index} precedes the measurement of '{junctionName}'");
                }

                if (l.Data!.MeasuredBy != junctionName)
                {
                    problems.Add($"launch event #{l.Index} was measured by '{l.Data.MeasuredBy}', not '{junctionName}'");
                }

                // The junction point numbers its launches 1, 2, ... in the order it extends them.
                if (l.Data.Sequence != i + 1)
                {
                    problems.Add($"launch event #{l.Index} has seq {l.Data.Sequence}, expected {i + 1}: launches are out of order or missing");
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
                (launches.Length > 0 ? $"; {launches.Length} launch event(s) after '{junctionName}', numbered in order" : string.Empty))
            : Fail(kind, string.Join("; ", problems));
    }

    private static readonly HashSet<string> s_platformKinds = [.. Enum.GetNames<PlatformComponentKind>()];
    private static readonly HashSet<string> s_guestKinds = [.. Enum.GetNames<GuestComponentKind>()];

    /// <summary>
    /// Default-deny appraisal of one layer's attested events (deployment rule "default deny"):
    /// component events against the reference values (name, SHA-256, PCR, kind, order), launch
    /// events (platform only) against their own fields, and every other event against the layer's
    /// <see cref="EventLogPolicy"/>. Anything unattributed fails the check, named by index, PCR,
    /// type and digests.
    /// </summary>
    private static TvpQtCheck CheckReferences(TvpQtCheckKind kind, string layer, ReplayOutcome replay, IReadOnlyList<ReferenceMeasurement> references, EventLogPolicy policy, IReadOnlyDictionary<int, string?>? launchProblems, string? junctionName)
    {
        var events = replay.Events;
        var problems = new List<string>();
        var components = events.Where(e => e.Data?.Tag == TvpQtEventTag.Component).ToArray();
        var names = components.Select(c => c.Data!["name"]).ToArray();
        var expectedNames = references.Select(r => r.Name).ToArray();
        var sha256Quoted = replay.Quoted.Where(q => q.Bank == TpmAlgId.Sha256).Select(q => (uint)q.Pcr).ToHashSet();
        foreach (var c in components)
        {
            var name = c.Data!["name"];
            var reference = references.FirstOrDefault(r => r.Name == name);
            var measured = c.Event.DigestFor(TpmAlgId.Sha256);
            if (reference is null)
            {
                problems.Add($"'{name}' ({EventLogPolicy.Describe(c.Index, c.Event)}) has no reference value");
            }
            else if (measured is null)
            {
                problems.Add($"'{name}' has no SHA-256 digest in the log");
            }
            else if (!sha256Quoted.Contains(c.Event.PcrIndex))
            {
                // Reference values are SHA-256: a digest the quote does not cover attests nothing.
                problems.Add($"'{name}' is in PCR {c.Event.PcrIndex}, whose SHA-256 value the quote does not cover, so its reference value cannot be checked");
            }
            else if (!CryptographicOperations.FixedTimeEquals(measured, reference.Sha256))
            {
                problems.Add($"'{name}' measured {Hex(measured)}, reference {Hex(reference.Sha256)}");
            }
            else if (reference.Pcr is { } pcr && pcr != c.Event.PcrIndex)
            {
                problems.Add($"'{name}' is measured into PCR {c.Event.PcrIndex}, the reference PCR is {pcr}");
            }
            else if (reference.Kind is { } k && k != c.Data["kind"])
            {
                problems.Add($"'{name}' is logged as kind '{c.Data["kind"]}', the reference kind is '{k}'");
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

        // Launch events: every VM's, not only this one's, must be one the junction point made.
        var launches = 0;
        var allowed = new List<string>();
        foreach (var e in events)
        {
            if (e.Data?.Tag == TvpQtEventTag.Component)
            {
                continue;
            }

            if (e.Data?.Tag == TvpQtEventTag.VTpmLaunch && launchProblems is not null)
            {
                if (launchProblems[e.Index] is { } problem)
                {
                    problems.Add($"launch {EventLogPolicy.Describe(e.Index, e.Event)}: {problem}");
                }
                else
                {
                    launches++;
                }

                continue;
            }

            var banks = replay.Quoted.Where(q => q.Pcr == (int)e.Event.PcrIndex).Select(q => q.Bank).ToArray();
            if (policy.FindRule(e.Event, banks) is { } rule)
            {
                allowed.Add(rule.Name);
            }
            else
            {
                problems.Add(new UnattributedEvent(e.Index, e.Event).Reason);
            }
        }

        return problems.Count == 0
            ? Pass(kind, $"all {components.Length} {layer} components match their reference values" +
                (junctionName is not null ? $"; {launches} launch event(s), each measured by the junction point and bound to its own fields" : string.Empty) +
                (allowed.Count > 0 ? $"; {allowed.Count} other event(s) allowed by policy ({string.Join(", ", allowed.GroupBy(a => a, StringComparer.Ordinal).Select(g => $"{g.Key} ×{g.Count()}"))})" : "; no other events"))
            : Fail(kind, string.Join("; ", problems));
    }

    /// <summary>
    /// Why a launch event is not one the junction point made, or null: it must be in the junction
    /// PCR, its fields canonical (UUID in "D" form, lower-case hex), the vEK Name SHA-256 ‖ the vEK
    /// public digest, and every digest H_bank(code ‖ vEK public digest ‖ UUID) of its own fields.
    /// </summary>
    private static string? LaunchProblem(LoggedEvent e, uint junctionPcr)
    {
        var data = e.Data!;
        if (e.Event.PcrIndex != junctionPcr)
        {
            return $"a launch event in PCR {e.Event.PcrIndex}, not the junction PCR {junctionPcr}";
        }

        if (!Guid.TryParseExact(data["vm"], "D", out var vm) || vm.ToString("D") != data["vm"])
        {
            return $"its vm field '{data["vm"]}' is not a UUID in lower-case \"D\" form";
        }

        if (!TryHex(data["code"], out var code) || !TryHex(data["vek-public-digest"], out var vekDigest) || !TryHex(data["vek-name"], out var vekName))
        {
            return "its code, vek-public-digest or vek-name field is not lower-case hex";
        }

        if (code.Length != 32 || vekDigest.Length != 32 || vekName.Length != 34 || vekName[0] != 0x00 || vekName[1] != 0x0b || !vekName.AsSpan(2).SequenceEqual(vekDigest))
        {
            return "its code and vEK public digest are not SHA-256 digests, or its vek-name is not SHA-256 ‖ vek-public-digest";
        }

        var measured = TrustedJunctionPoint.LaunchMeasurement(new VTpmLaunch(vm, code, vekDigest, vekName));
        if (e.Event.DigestFor(TpmAlgId.Sha256) is null ||
            e.Event.Digests.Any(d => !TpmHash.IsSupported(d.HashAlg) || !CryptographicOperations.FixedTimeEquals(d.Digest, TpmHash.Hash(d.HashAlg, measured))))
        {
            return "its digest is not H(code ‖ vEK public digest ‖ VM UUID) of its own fields: the event data was edited";
        }

        return null;
    }

    private static bool TryHex(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 2 != 0)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        bytes = Convert.FromHexString(text);
        return true;
    }

    private static (TvpQtCheck Check, TvpQtEventData? Launch) FindJunctionEvent(TvpQtEvidence evidence, IReadOnlyList<LoggedEvent> events, uint junctionPcr, string junctionName, IReadOnlyDictionary<int, string?> launchProblems)
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

        if (launchProblems[last.Index] is { } problem)
        {
            return (Fail(kind, $"junction event #{last.Index}: {problem}"), null);
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
