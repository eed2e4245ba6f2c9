using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;
using Xunit.Abstractions;

namespace TrustStack.Attestation.TvpPca.Tests;

/// <summary>
/// The mutation sweep (issue 19): every message of a captured TVP-PCA attestation — the four
/// protocol messages and the Privacy CA query and answer — is changed on the wire, one octet at a
/// time (XOR 0x01 on every octet, no sampling) and cut at every length, and the party that
/// receives it acts on it: an agent or the service answers a changed challenge (its answer is then
/// verified against the challenger's own, unchanged challenge), the challenger decodes and verifies
/// a changed response, authenticates a changed PCA answer. Each change must be rejected with a
/// reason (the codec's <see cref="FormatException"/>, a role's documented refusal, or an untrusted
/// verdict with failed checks) or fall in the allow-list below; no other exception may escape.
/// </summary>
/// <remarks>
/// The platform has two VMs, so the platform log carries another VM's launch event too. The
/// allow-list, with why each entry changes nothing a verifier relies on:
/// <list type="bullet">
/// <item><b>Digests of unquoted banks in component events</b>: the logs carry SHA-1, SHA-256 and
/// SHA-384 digests; the quotes cover the SHA-256 bank only and the reference values are SHA-256,
/// so the SHA-1 and SHA-384 digests of component events are attested by nothing and compared with
/// nothing (a verifier that needs them quotes those banks). Launch events are different: their
/// digests in every bank must be H(their own fields), so those octets are not allowed.</item>
/// <item><b>Descriptive Spec ID fields</b> (PC Client PFP §10.4.5.1: platformClass,
/// specVersionMinor/Major, specErrata, uintnSize): they describe the log and enter no PCR.</item>
/// <item><b>BottomChallenge.vmId</b>: the Attestation Service answers for the whole platform, so
/// the VM it names is informational; the bottom quote is bound to this VM by N2 = H(N1 ‖ top quote)
/// and the junction event.</item>
/// </list>
/// No signature encoding is malleable under one-octet changes: the certificates' DER ECDSA
/// signatures and the TPMT_SIGNATURE r and s are all rejected when changed. (One was, until this
/// sweep: a certificate signature BIT STRING whose unused-bits octet went 00 → 01; the validator
/// now refuses it.)
/// </remarks>
public sealed class MutationSweepTests(ITestOutputHelper output)
{
    private const string UnquotedBank = "a SHA-1/SHA-384 digest of a component event: a bank the quote does not cover, reference values are SHA-256";
    private const string SpecIdField = "a descriptive Spec ID field (platformClass, spec version, errata, uintnSize): enters no PCR";
    private const string BottomVmId = "BottomChallenge.vmId: the service answers for the whole platform; N2 and the junction event bind the VM";

    [Fact]
    public void Sweep_EveryOctetFlippedAndEveryCut_RejectedWithReasonOrAllowListed()
    {
        var p = new TestPlatforms();
        using var host = p.Host(new TvpPcaHostOptions { VmCount = 2 });
        var verifier = TvpPcaHost.CreateVerifier(p.Pca, p.Clock, TvpPcaHost.ExpectedReferences);
        var a = new Challenger(host.Transport, verifier, DeterministicRandomSource.FromSeed(99)).Attest(host.Agents[0].VmId);
        Assert.True(a.Result.IsTrusted, string.Join("\n", a.Result.Failures));
        var query = new EndorsementQuery(SHA256.HashData("sweep nonce"u8), SHA256.HashData(a.TopResponse.VAikChain[0].RawData));
        var answer = p.Pca.Answer(query);
        Assert.NotNull(answer.EndorsementKeyName);

        Outcome Verified(TvpPcaResult r) => r.IsTrusted ? Outcome.Accepted : Outcome.Rejected(string.Join("; ", r.Failures));
        BottomResponse BottomFor(TopResponse top) => top.Quote.Attest.AsSpan().SequenceEqual(a.TopResponse.Quote.Attest)
            ? a.BottomResponse
            : host.Service.Answer(new BottomChallenge(a.TopChallenge.VmId, Challenger.ChainNonce(a.TopChallenge.Nonce, top.Quote.Attest)));

        var topResponse = TvpPcaCodec.Encode(a.TopResponse);
        var bottomResponse = TvpPcaCodec.Encode(a.BottomResponse);
        Message[] messages =
        [
            new("TopChallenge", TvpPcaCodec.Encode(a.TopChallenge), [], bytes =>
            {
                var c = TvpPcaCodec.DecodeTopChallenge(bytes);
                if (host.Agents.FirstOrDefault(x => x.VmId == c.VmId) is not { } agent)
                {
                    return Outcome.Rejected($"no attestation agent of VM {c.VmId} (404)");
                }

                var top = agent.Answer(c);
                return Verified(verifier.Verify(a.TopChallenge, top, BottomFor(top)));
            }),
            new("TopResponse", topResponse, [.. LogAllowance(topResponse, a.TopResponse.GuestEventLog)], bytes =>
            {
                var top = TvpPcaCodec.DecodeTopResponse(bytes);
                return Verified(verifier.Verify(a.TopChallenge, top, BottomFor(top)));
            }),
            new("BottomChallenge", TvpPcaCodec.Encode(a.BottomChallenge), [new(6, 16, BottomVmId)], bytes =>
                Verified(verifier.Verify(a.TopChallenge, a.TopResponse, host.Service.Answer(TvpPcaCodec.DecodeBottomChallenge(bytes))))),
            new("BottomResponse", bottomResponse, [.. LogAllowance(bottomResponse, a.BottomResponse.PlatformEventLog)], bytes =>
                Verified(verifier.Verify(a.TopChallenge, a.TopResponse, TvpPcaCodec.DecodeBottomResponse(bytes)))),
            new("EndorsementQuery", TvpPcaCodec.Encode(query), [], bytes =>
            {
                p.Pca.Answer(TvpPcaCodec.DecodeEndorsementQuery(bytes)).Authenticate(query, p.Pca.Ca.Certificate, p.Clock);
                return Outcome.Accepted;
            }),
            new("EndorsementAnswer", TvpPcaCodec.Encode(answer), [], bytes =>
            {
                TvpPcaCodec.DecodeEndorsementAnswer(bytes).Authenticate(query, p.Pca.Ca.Certificate, p.Clock);
                return Outcome.Accepted;
            }),
        ];

        var clock = Stopwatch.StartNew();
        var escaped = new List<string>();
        var wronglyAccepted = new List<string>();
        long octets = 0, cuts = 0, allowedAccepted = 0;
        foreach (var m in messages)
        {
            Assert.Equal(Outcome.Accepted, Receive(m, m.Octets)); // the unchanged message is accepted
            var perMessageAllowed = 0;

            // Both cores: the verifier and the codec are thread-safe, the roles serialize their TPMs.
            var outcomes = new Outcome[m.Octets.Length];
            Parallel.For(0, m.Octets.Length, i =>
            {
                var changed = (byte[])m.Octets.Clone();
                changed[i] ^= 0x01;
                outcomes[i] = Receive(m, changed);
            });
            for (var i = 0; i < m.Octets.Length; i++)
            {
                octets++;
                var outcome = outcomes[i];
                if (outcome.Escaped is { } e)
                {
                    escaped.Add($"{m.Name} octet {i}: {e}");
                }
                else if (outcome.IsAccepted)
                {
                    if (m.Allowed.FirstOrDefault(r => i >= r.Start && i < r.Start + r.Length) is { } allowed)
                    {
                        perMessageAllowed++;
                    }
                    else
                    {
                        wronglyAccepted.Add($"{m.Name} octet {i} (0x{m.Octets[i]:x2} → 0x{m.Octets[i] ^ 0x01:x2})");
                    }
                }
                else
                {
                    Assert.False(string.IsNullOrWhiteSpace(outcome.Reason), $"{m.Name} octet {i}: rejected without a reason");
                }
            }

            for (var length = 0; length < m.Octets.Length; length++)
            {
                cuts++;
                var outcome = Receive(m, m.Octets[..length]);
                if (outcome.Escaped is { } e)
                {
                    escaped.Add($"{m.Name} cut at {length}: {e}");
                }
                else if (outcome.IsAccepted)
                {
                    wronglyAccepted.Add($"{m.Name} cut at {length}");
                }
            }

            allowedAccepted += perMessageAllowed;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m.Name}: {m.Octets.Length} octets flipped, {m.Octets.Length} cuts; {perMessageAllowed} accepted changes, all in the allow-list ({m.Allowed.Sum(r => r.Length)} allow-listed octets in {m.Allowed.Count} ranges)"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"total: {octets} octets flipped, {cuts} cuts, {allowedAccepted} accepted (allow-listed), {escaped.Count} escaped exceptions, {clock.Elapsed.TotalSeconds:0.0} s"));
        Assert.True(escaped.Count == 0, "exceptions escaped:\n" + string.Join("\n", escaped.GroupBy(x => x[(x.IndexOf(": ", StringComparison.Ordinal) + 2)..]).Select(g => $"{g.Count()}× {g.Key} (first: {g.First()[..g.First().IndexOf(": ", StringComparison.Ordinal)]})")));
        Assert.True(wronglyAccepted.Count == 0, "accepted outside the allow-list:\n" + string.Join("\n", wronglyAccepted.Take(40)));
    }

    /// <summary>The allow-listed octet ranges of an event log inside a message (see remarks): unquoted-bank digests of component events, descriptive Spec ID fields.</summary>
    private static IEnumerable<AllowedRange> LogAllowance(byte[] message, byte[] log)
    {
        var at = IndexOf(message, log);

        // TCG_PCR_EVENT header (32 octets) then the Spec ID data: signature[16], platformClass u32, minor, major, errata, uintnSize.
        yield return new AllowedRange(at + 32 + 16, 8, SpecIdField);
        foreach (var e in TcgEventLog.Parse(log).Events)
        {
            if (TvpQtEventData.TryParse(e)?.Tag != TvpQtEventTag.Component)
            {
                continue;
            }

            // TCG_PCR_EVENT2: pcrIndex, eventType, count (12 octets), then per digest: algorithm u16, digest.
            var offset = (int)e.Offset + 12;
            foreach (var d in e.Digests)
            {
                if (d.HashAlg != TpmAlgId.Sha256)
                {
                    yield return new AllowedRange(at + offset + 2, d.Digest.Length, UnquotedBank);
                }

                offset += 2 + d.Digest.Length;
            }
        }
    }

    private static Outcome Receive(Message m, byte[] bytes)
    {
        try
        {
            return m.Receive(bytes);
        }
        catch (Exception e) when (e is FormatException or EndorsementQueryException)
        {
            return Outcome.Rejected(e.Message);
        }
        catch (Exception e) when (e is ArgumentException or TpmException)
        {
            // A role refusing a challenge it cannot answer (documented; HTTP 400).
            return Outcome.Rejected(e.Message);
        }
        catch (Exception e)
        {
            return Outcome.Failed(e);
        }
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        throw new InvalidOperationException("The log is not in the message.");
    }

    private sealed record AllowedRange(int Start, int Length, string Reason);

    private sealed record Message(string Name, byte[] Octets, IReadOnlyList<AllowedRange> Allowed, Func<byte[], Outcome> Receive);

    private sealed record Outcome(bool IsAccepted, string? Reason, Exception? Escaped)
    {
        public static Outcome Accepted { get; } = new(true, null, null);

        public static Outcome Rejected(string reason) => new(false, reason, null);

        public static Outcome Failed(Exception e) => new(false, null, e);
    }
}
