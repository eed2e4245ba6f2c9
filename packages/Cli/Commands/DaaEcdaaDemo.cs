using System.Globalization;
using TrustStack.Daa.Tmz;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack daa demo --protocol ecdaa [--tpm SPEC] [--seed N]</c>: the pairing-based ECDAA baseline on
/// BN_P256 — Join, Sign, Verify (publicly, with the issuer's public key only), Link and a rogue TPM for three
/// platforms; with <c>--tpm</c> platform A's TPM role is that TPM 2.0 (TPM2_Commit/TPM2_Sign on TPM_ECC_BN_P256).
/// </summary>
internal static class DaaEcdaaDemo
{
    private static readonly byte[] Message = "platform attestation report"u8.ToArray();
    private static readonly byte[] Basename = "verifier.example"u8.ToArray();

    public static int Run(string? tpmSpec, ulong? seed, TextWriter output, TextWriter error)
    {
        TpmTransportSpec? spec;
        try
        {
            spec = tpmSpec is null ? null : TpmTransportSpec.Parse(tpmSpec);
        }
        catch (FormatException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 2;
        }

        try
        {
            using var transport = spec?.Open(new SoftwareTpmOptions { Seed = seed, AutoStartup = true });
            return Run(transport, spec, seed, output);
        }
        catch (Exception e) when (e is TpmException or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static int Run(ITpmTransport? transport, TpmTransportSpec? spec, ulong? seed, TextWriter output)
    {
        using var random = DeterministicRandomSource.FromSeed(seed ?? BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)));
        var passed = true;
        void Check(bool ok, string what, string detail = "")
        {
            passed &= ok;
            output.WriteLine($"  [{(ok ? " OK " : "FAIL")}] {what}{(detail.Length > 0 ? $"  {detail}" : string.Empty)}");
        }

        output.WriteLine($"ECDAA demo on BN_P256 (optimal ate pairing){(spec is null ? string.Empty : $", platform A's TPM on {spec}")}{(seed is { } n ? $" (deterministic, seed {n})" : string.Empty)}");
        output.WriteLine();
        var counters = Enum.GetValues<NsEntity>().ToDictionary(e => e, _ => new EcdaaOpCounter());
        using var issuer = new EcdaaIssuer(random, counters[NsEntity.Issuer]);
        var verifier = new EcdaaVerifier(issuer.PublicKey, issuer.RogueList, counters[NsEntity.Verifier]);
        Check(issuer.PublicKey.VerifyProof(), "Issuer setup", $"X {Short(issuer.PublicKey.X.Encoding)}, proof of (x, y) verifies");

        var tpms = new List<(string Name, IEcdaaTpm Tpm)>();
        try
        {
            var hosts = new Dictionary<string, EcdaaHost>();
            foreach (var name in new[] { "A", "B", "C" })
            {
                IEcdaaTpm tpm = name == "A" && transport is not null ? new Tpm2EcdaaTpm(new Tpm2(transport, random), counters[NsEntity.Tpm]) : new SoftwareEcdaaTpm(random, counters[NsEntity.Tpm]);
                tpms.Add((name, tpm));
                var host = new EcdaaHost(tpm, issuer.PublicKey, random, counters[NsEntity.Host]);
                var result = issuer.CompleteJoin(host.CreateJoinRequest(issuer.StartJoin()));
                var joined = result.Response is not null && host.CompleteJoin(result.Response);
                Check(joined, $"Join platform {name}", joined ? $"{(tpm is Tpm2EcdaaTpm ? "TPM 2.0 (BN_P256)" : "software TPM")}, credential A {Short(host.Credential!.A.Encoding)}, e(A, Y) = e(B, P2) and e(C, P2) = e(A + D, X)" : result.Reason ?? "credential rejected");
                hosts[name] = host;
            }

            var nonce = random.GetBytes(16);
            var a1 = hosts["A"].Sign(Message, Basename, nonce);
            var a2 = hosts["A"].Sign(Message, Basename, nonce);
            var b1 = hosts["B"].Sign(Message, Basename, nonce);
            Check(verifier.Verify(a1, Message, Basename, nonce).IsValid && verifier.Verify(b1, Message, Basename, nonce).IsValid, "Sign + Verify with basename (public key only)", $"K(A) {Short(a1.K!.Encoding)}");
            Check(EcdaaVerifier.Link(a1, a2), "Same platform, same basename: linkable", "K equal");
            Check(!EcdaaVerifier.Link(a1, b1), "Different platforms, same basename: not linked");
            var x1 = hosts["A"].Sign(Message, null, nonce);
            var x2 = hosts["A"].Sign(Message, null, nonce);
            Check(verifier.Verify(x1, Message, null, nonce).IsValid && !EcdaaVerifier.Link(x1, x2), "Without basename: verifies, unlinkable", $"S {Short(x1.S.Encoding)} vs {Short(x2.S.Encoding)}");
            Check(!verifier.Verify(a1, Message, Basename, random.GetBytes(16)).IsValid, "Replay with another verifier nonce rejected");

            issuer.RogueList.Add(((SoftwareEcdaaTpm)tpms[2].Tpm).ExtractSecretKey());
            var rejected = verifier.Verify(hosts["C"].Sign(Message, null, nonce), Message, null, nonce);
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
        output.WriteLine("Operations recorded (whole run): G1 mul / G1 multi-scalar / G1 add / G2 mul / pairings / GT exp / hashes / hash-to-G1");
        foreach (var (entity, counter) in counters)
        {
            var c = counter.Snapshot();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {entity,-9} {c.G1Multiplications,5} {c.G1MultiScalarMultiplications,5} {c.G1Additions,5} {c.G2Multiplications,5} {c.Pairings,5} {c.GtExponentiations,5} {c.Hashes,5} {c.HashesToGroup,5}"));
        }

        output.WriteLine();
        output.WriteLine(passed ? "Result: OK — every ECDAA check behaved as specified." : "Result: FAILED — see above.");
        return passed ? 0 : 1;
    }

    private static string Short(ReadOnlySpan<byte> encoding) => Convert.ToHexStringLower(encoding[1..7]) + "…";
}
