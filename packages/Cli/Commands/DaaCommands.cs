using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using TrustStack.Daa.Tmz;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack daa demo [--group ristretto255|p256] [--tpm SPEC] [--seed N] [--protocol tmz|ecdaa]</c>: TMZ-DAA Join, Sign
/// and Verify for three platforms, linking with a basename, unlinkability without, a rogue TPM
/// rejected; with <c>--tpm</c> the first platform's TPM role is that TPM 2.0 (P-256). With
/// <c>--protocol ecdaa</c> the same run for the ECDAA baseline on BN_P256 (<see cref="DaaEcdaaDemo"/>).
/// <c>truststack daa cost [--profile FILE] [--format table|csv|json]</c> (alias <c>estimate</c>):
/// the normalized-statistics table for BCC04, ECDAA and TMZ-DAA.
/// </summary>
internal static class DaaCommands
{
    private static readonly byte[] Message = "platform attestation report"u8.ToArray();
    private static readonly byte[] Basename = "verifier.example"u8.ToArray();

    /// <summary>The <c>daa</c> command with <c>demo</c> and <c>cost</c>.</summary>
    public static Command Create()
    {
        var group = new Option<string>("--group") { Description = "The group: ristretto255 or p256 (p256 when --tpm is given).", HelpName = "ristretto255|p256" };
        group.AcceptOnlyFromAmong("ristretto255", "p256");
        var tpm = new Option<string?>("--tpm") { Description = "Use this TPM 2.0 as the first platform's TPM: embedded, swtpm:host=H,port=P, mssim:host=H,port=P or device:/dev/tpmrm0.", HelpName = "SPEC" };
        var seed = new Option<ulong?>("--seed") { Description = "Deterministic randomness (same seed, same transcript). For tests only.", HelpName = "N" };
        var protocol = new Option<string>("--protocol") { Description = "tmz (TMZ-DAA, pairing-free) or ecdaa (the pairing-based baseline on BN_P256).", DefaultValueFactory = _ => "tmz", HelpName = "tmz|ecdaa" };
        protocol.AcceptOnlyFromAmong("tmz", "ecdaa");
        var demo = new Command("demo", "Run TMZ-DAA (or --protocol ecdaa): Join, Sign, Verify, Link, unlinkability and a rogue TPM.") { group, tpm, seed, protocol };
        demo.SetAction(parseResult => parseResult.GetValue(protocol) == "ecdaa"
            ? DaaEcdaaDemo.Run(parseResult.GetValue(tpm), parseResult.GetValue(seed), parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error)
            : RunDemo(
            parseResult.GetValue(group),
            parseResult.GetValue(tpm),
            parseResult.GetValue(seed),
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error));

        var profile = new Option<FileInfo?>("--profile") { Description = "CPU profile JSON (cycles per word multiplication, addition, read, write); the shipped default otherwise.", HelpName = "FILE" };
        var format = new Option<string>("--format") { Description = "Output format.", DefaultValueFactory = _ => "table", HelpName = "table|csv|json" };
        format.AcceptOnlyFromAmong("table", "csv", "json");
        var printProfile = new Option<bool>("--print-default-profile") { Description = "Print the default CPU profile (a starting point for --profile) and exit." };
        var cost = new Command("cost", "Normalized-statistics cost model: per protocol, entity and phase, word operations and cycles.") { profile, format, printProfile };
        cost.Aliases.Add("estimate");
        cost.SetAction(parseResult => RunCost(
            parseResult.GetValue(profile),
            parseResult.GetValue(format) ?? "table",
            parseResult.GetValue(printProfile),
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error));

        return new Command("daa", "Direct anonymous attestation: pairing-free TMZ-DAA and the NS cost model.") { demo, cost };
    }

    private static int RunDemo(string? groupName, string? tpmSpec, ulong? seed, TextWriter output, TextWriter error)
    {
        TpmTransportSpec? spec = null;
        try
        {
            spec = tpmSpec is null ? null : TpmTransportSpec.Parse(tpmSpec);
        }
        catch (FormatException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 2;
        }

        if (spec is not null && groupName is "ristretto255")
        {
            error.WriteLine("error: a TPM 2.0 plays the TPM role on p256 only (TPM_ECC_NIST_P256 with ECDAA).");
            return 2;
        }

        var group = DaaGroup.FromName(groupName ?? (spec is null ? "ristretto255" : "p256"));
        using var random = DeterministicRandomSource.FromSeed(seed ?? BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)));
        var passed = true;
        void Check(bool ok, string what, string detail = "")
        {
            passed &= ok;
            output.WriteLine($"  [{(ok ? " OK " : "FAIL")}] {what}{(detail.Length > 0 ? $"  {detail}" : string.Empty)}");
        }

        try
        {
            using var transport = spec?.Open(new SoftwareTpmOptions { Seed = seed, AutoStartup = true });
            output.WriteLine($"TMZ-DAA demo in {group.Name}{(spec is null ? string.Empty : $", platform A's TPM on {spec}")}{(seed is { } n ? $" (deterministic, seed {n})" : string.Empty)}");
            output.WriteLine();
            var counters = Enum.GetValues<NsEntity>().ToDictionary(e => e, _ => new DaaOpCounter());
            using var issuer = new TmzIssuer(group, random, counters[NsEntity.Issuer]);
            using var verifier = issuer.CreateVerifier(counters[NsEntity.Verifier]);
            Check(issuer.PublicKey.VerifyProof(), "Issuer setup", $"X0 {Short(issuer.PublicKey.X0)}, proof of (x0, x0~, x1) verifies");

            var tpms = new List<(string Name, ITmzTpm Tpm)>();
            try
            {
                tpms.Add(("A", transport is null ? new SoftwareTmzTpm(group, random, counters[NsEntity.Tpm]) : new Tpm2TmzTpm(new Tpm2(transport, random), counters[NsEntity.Tpm])));
                tpms.Add(("B", new SoftwareTmzTpm(group, random, counters[NsEntity.Tpm])));
                tpms.Add(("C", new SoftwareTmzTpm(group, random, counters[NsEntity.Tpm])));
                var hosts = new Dictionary<string, TmzHost>();
                foreach (var (name, t) in tpms)
                {
                    issuer.TrustEndorsementKey(t.Endorsement.EkFingerprint);
                    var host = new TmzHost(t, issuer.PublicKey, random, counters[NsEntity.Host]);
                    var result = issuer.CompleteJoin(host.CreateJoinRequest(issuer.StartJoin(t.Endorsement)));
                    var joined = result.Response is not null && host.CompleteJoin(result.Response);
                    Check(joined, $"Join platform {name}", joined ? $"{(t is Tpm2TmzTpm ? "TPM 2.0" : "software TPM")}, EK activated, credential F {Short(host.Credential!.F)}" : result.Reason ?? "issuer proof rejected");
                    hosts[name] = host;
                }

                var nonce = random.GetBytes(16);
                var a1 = hosts["A"].Sign(Message, Basename, nonce);
                var a2 = hosts["A"].Sign(Message, Basename, nonce);
                var b1 = hosts["B"].Sign(Message, Basename, nonce);
                Check(verifier.Verify(a1, Message, Basename, nonce).IsValid && verifier.Verify(b1, Message, Basename, nonce).IsValid, "Sign + Verify with basename", $"N(A) {Short(a1.N)}");
                Check(TmzVerifier.Link(a1, a2), "Same platform, same basename: linkable", "N equal");
                Check(!TmzVerifier.Link(a1, b1), "Different platforms, same basename: not linked");
                var x1 = hosts["A"].Sign(Message, null, nonce);
                var x2 = hosts["A"].Sign(Message, null, nonce);
                Check(verifier.Verify(x1, Message, null, nonce).IsValid && !TmzVerifier.Link(x1, x2), "Without basename: verifies, unlinkable", $"N {Short(x1.N)} vs {Short(x2.N)}");
                Check(!verifier.Verify(a1, Message, Basename, random.GetBytes(16)).IsValid, "Replay with another verifier nonce rejected");

                var rogue = (SoftwareTmzTpm)tpms[2].Tpm;
                issuer.RogueList.Add(rogue.ExtractSecretKey());
                var c1 = hosts["C"].Sign(Message, null, nonce);
                var rejected = verifier.Verify(c1, Message, null, nonce);
                Check(!rejected.IsValid, "Rogue TPM C (extracted key listed) rejected", rejected.Reason ?? string.Empty);
                Check(verifier.Verify(hosts["B"].Sign(Message, null, nonce), Message, null, nonce).IsValid, "Platform B still accepted");
            }
            finally
            {
                foreach (var (_, t) in tpms)
                {
                    (t as IDisposable)?.Dispose();
                }
            }

            output.WriteLine();
            output.WriteLine("Operations recorded (whole run): scalar multiplications / multi-scalar / additions / hashes / hash-to-group");
            foreach (var (entity, counter) in counters)
            {
                var c = counter.Snapshot();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {entity,-9} {c.ScalarMultiplications,5} {c.MultiScalarMultiplications,5} {c.PointAdditions,5} {c.Hashes,5} {c.HashesToGroup,5}"));
            }

            output.WriteLine();
            output.WriteLine(passed ? "Result: OK — every DAA check behaved as specified." : "Result: FAILED — see above.");
            return passed ? 0 : 1;
        }
        catch (Exception e) when (e is TpmException or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static int RunCost(FileInfo? profileFile, string format, bool printDefault, TextWriter output, TextWriter error)
    {
        if (printDefault)
        {
            output.Write(NsCpuProfile.DefaultJson);
            return 0;
        }

        NsCpuProfile profile;
        try
        {
            profile = profileFile is null ? NsCpuProfile.Default : NsCpuProfile.Load(profileFile.FullName);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return 2;
        }

        var rows = NsProtocols.All().SelectMany(p => NsCostModel.Evaluate(p, profile)).ToList();
        var inv = CultureInfo.InvariantCulture;
        switch (format)
        {
            case "json":
                output.WriteLine(JsonSerializer.Serialize(
                    new
                    {
                        Profile = profile,
                        Rows = rows.Select(r => new { r.Protocol, Entity = r.Entity.ToString(), Phase = r.Phase.ToString(), r.Counts, r.ModularExponentiations, r.Pairings, r.WordOps, r.Cycles, r.Microseconds }),
                    },
                    new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            case "csv":
                output.WriteLine("protocol,entity,phase,scalar_mults,multi_scalar_mults,point_adds,hashes,hash_to_group,mod_exps,pairings,word_muls,word_adds,reads,writes,cycles,microseconds");
                foreach (var r in rows)
                {
                    var c = r.Counts;
                    output.WriteLine(string.Create(inv, $"{r.Protocol},{r.Entity},{r.Phase},{c.ScalarMultiplications},{c.MultiScalarMultiplications},{c.PointAdditions},{c.Hashes},{c.HashesToGroup},{r.ModularExponentiations},{r.Pairings},{r.WordOps.Multiplications:F0},{r.WordOps.Additions:F0},{r.WordOps.Reads:F0},{r.WordOps.Writes:F0},{r.Cycles:F0},{r.Microseconds:F1}"));
                }

                return 0;
            default:
                output.WriteLine($"Normalized statistics, CPU profile '{profile.Name}' ({profile.WordBits}-bit words; cycles per mul {profile.CyclesPerWordMultiplication.ToString(inv)}, add {profile.CyclesPerWordAddition.ToString(inv)}, read {profile.CyclesPerMemoryRead.ToString(inv)}, write {profile.CyclesPerMemoryWrite.ToString(inv)}; {profile.ClockGHz.ToString(inv)} GHz)");
                foreach (var protocol in NsProtocols.All().Where(p => p.Arithmetic is not null))
                {
                    output.WriteLine($"{protocol.Name}: at its implementation's arithmetic, {protocol.Arithmetic!.Implementation} (not the profile's word size)");
                }

                output.WriteLine();
                output.WriteLine($"{"protocol",-22} {"entity",-9} {"phase",-7} {"EC mul",6} {"EC add",6} {"hash",5} {"H2G",4} {"exp",4} {"pair",4} {"word mul",12} {"word add",12} {"Mcycles",9} {"µs",9}");
                foreach (var r in rows)
                {
                    var c = r.Counts;
                    output.WriteLine(string.Create(inv, $"{r.Protocol,-22} {r.Entity,-9} {r.Phase,-7} {c.ScalarMultiplications,6} {c.PointAdditions,6} {c.Hashes,5} {c.HashesToGroup,4} {r.ModularExponentiations,4} {r.Pairings,4} {r.WordOps.Multiplications,12:N0} {r.WordOps.Additions,12:N0} {r.Cycles / 1e6,9:F3} {r.Microseconds,9:F1}"));
                }

                output.WriteLine();
                output.WriteLine("Totals per protocol and phase (all entities), Mcycles:");
                output.WriteLine($"  {"protocol",-22} {"Setup",10} {"Join",10} {"Sign",10} {"Verify",10}");
                foreach (var g in rows.GroupBy(r => r.Protocol))
                {
                    string Phase(NsPhase p) => (g.Where(r => r.Phase == p).Sum(r => r.Cycles) / 1e6).ToString("F3", inv);
                    output.WriteLine($"  {g.Key,-22} {Phase(NsPhase.Setup),10} {Phase(NsPhase.Join),10} {Phase(NsPhase.Sign),10} {Phase(NsPhase.Verify),10}");
                }

                return 0;
        }
    }

    private static string Short(DaaPoint p) => Convert.ToHexStringLower(p.Encoding[..6]) + "…";
}
