using System.Diagnostics;
using System.Globalization;
using TrustStack.Daa.Tmz;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Benchmarks;

/// <summary>
/// Stopwatch-style measurement of TMZ-DAA per phase and entity next to one scalar multiplication
/// in the same group and run, for the modes <c>daa-floor</c> and <c>daa-ns-validate</c>. Each
/// round times every quantity once (a block of iterations each) and the result is the median over
/// rounds, so a load change on a shared machine shifts all quantities of a round together. The
/// clock is the thread's CPU time (Linux CLOCK_THREAD_CPUTIME_ID; elsewhere the Stopwatch), so time
/// the thread spends preempted by other processes is not counted.
/// </summary>
/// <remarks>
/// What is timed, with the software TPM role (<see cref="SoftwareTmzTpm"/>) and public API only:
/// one scalar multiplication k·P of a point never multiplied before (no cached precomputation);
/// Setup = the issuer's constructor; Join per entity without the EK credential activation (the
/// software stand-in for TPM2_MakeCredential/ActivateCredential, reported apart as <c>join.ek</c>,
/// outside the NS model) and without the Host's one-time check of the issuer key's proof; Sign
/// with the TPM part (TPM2_Commit + TPM2_Sign in the role) timed inside it; Verify of signatures
/// decoded afresh from their encodings (decoding not timed), with a basename.
/// </remarks>
internal static class DaaPhaseMeter
{
    public const string Mult = "mult";
    public const string MultBase = "mult.G";
    public const string MultH = "mult.H";
    public const string MsmGH = "msm.GH";
    public const string Setup = "setup";
    public const string JoinTpm = "join.tpm";
    public const string JoinHost = "join.host";
    public const string JoinIssuer = "join.issuer";
    public const string JoinAll = "join.all";
    public const string JoinEk = "join.ek";
    public const string SignTpm = "sign.tpm";
    public const string SignHost = "sign.host";
    public const string SignAll = "sign.all";
    public const string Verify = "verify";

    private static readonly byte[] Message = "daa-floor message"u8.ToArray();
    private static readonly byte[] Basename = "verifier.example"u8.ToArray();
    private static readonly byte[] Nonce = "verifier nonce"u8.ToArray();

    /// <summary>Median microseconds per operation of every quantity, over <paramref name="rounds"/> rounds.</summary>
    public static IReadOnlyDictionary<string, double> Measure(DaaGroup g, int rounds)
    {
        var random = SystemRandomSource.Instance;
        var samples = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        void Add(string key, long ticks, int n) =>
            (samples.TryGetValue(key, out var list) ? list : samples[key] = []).Add(ticks / 1e3 / n);

        using var issuer = new TmzIssuer(g, random);
        using var verifier = issuer.CreateVerifier();
        using var signingTpm = new SoftwareTmzTpm(g, random);
        var timedSigner = new TimedTpm(signingTpm);
        var signer = Join(issuer, timedSigner, random);
        signer.Sign(Message, Basename, Nonce);  // warm-up (and the P-256 comb tables of the credential)

        const int MultN = 64, SetupN = 6, JoinN = 6, SignN = 16, VerifyN = 16;
        for (var round = -1; round < rounds; round++)
        {
            var keep = round >= 0;  // round −1 warms the JIT up

            // One scalar multiplication of fresh points (and of G, for reference).
            var points = Enumerable.Range(0, MultN).Select(i => g.HashToGroup("daa-floor", BitConverter.GetBytes((round * MultN) + i))).ToArray();
            var scalars = points.Select(_ => g.RandomScalar(random)).ToArray();
            var t = CpuClock.Now();
            for (var i = 0; i < MultN; i++)
            {
                g.Multiply(points[i], scalars[i]);
            }

            var multTicks = CpuClock.Now() - t;
            t = CpuClock.Now();
            for (var i = 0; i < MultN; i++)
            {
                g.Multiply(g.Generator, scalars[i]);
            }

            var baseTicks = CpuClock.Now() - t;
            t = CpuClock.Now();
            for (var i = 0; i < MultN; i++)
            {
                g.Multiply(g.H, scalars[i]);
            }

            var hTicks = CpuClock.Now() - t;
            t = CpuClock.Now();
            for (var i = 0; i < MultN; i++)
            {
                g.MultiplyAdd([(g.Generator, scalars[i]), (g.H, scalars[MultN - 1 - i])]);
            }

            var msmTicks = CpuClock.Now() - t;

            // Setup.
            long setupTicks = 0;
            for (var i = 0; i < SetupN; i++)
            {
                t = CpuClock.Now();
                var fresh = new TmzIssuer(g, random);
                setupTicks += CpuClock.Now() - t;
                fresh.Dispose();
            }

            // Join per entity.
            long jTpm = 0, jHost = 0, jIssuer = 0, jEk = 0;
            for (var i = 0; i < JoinN; i++)
            {
                using var tpm = new SoftwareTmzTpm(g, random);
                var timed = new TimedTpm(tpm);
                issuer.TrustEndorsementKey(tpm.Endorsement.EkFingerprint);
                var host = new TmzHost(timed, issuer.PublicKey, random);
                var t0 = CpuClock.Now();
                var challenge = issuer.StartJoin(timed.Endorsement);
                var t1 = CpuClock.Now();
                var request = host.CreateJoinRequest(challenge);
                var t2 = CpuClock.Now();
                var issued = issuer.CompleteJoin(request);
                var t3 = CpuClock.Now();
                if (issued.Response is null || !host.CompleteJoin(issued.Response))
                {
                    throw new InvalidOperationException($"join failed: {issued.Reason}");
                }

                var t4 = CpuClock.Now();
                jEk += (t1 - t0) + timed.EkTicks;
                jTpm += timed.Ticks;
                jHost += (t2 - t1) - timed.Ticks - timed.EkTicks + (t4 - t3);
                jIssuer += t3 - t2;
            }

            // Sign, the TPM part timed inside.
            timedSigner.Reset();
            t = CpuClock.Now();
            for (var i = 0; i < SignN; i++)
            {
                signer.Sign(Message, Basename, Nonce);
            }

            var signTicks = CpuClock.Now() - t;
            var signTpmTicks = timedSigner.Ticks;

            // Verify signatures decoded afresh (as a verifier receives them).
            var signatures = Enumerable.Range(0, VerifyN).Select(_ => Fresh(g, signer.Sign(Message, Basename, Nonce))).ToArray();
            t = CpuClock.Now();
            foreach (var signature in signatures)
            {
                if (!verifier.Verify(signature, Message, Basename, Nonce).IsValid)
                {
                    throw new InvalidOperationException("a signature did not verify");
                }
            }

            var verifyTicks = CpuClock.Now() - t;
            if (!keep)
            {
                continue;
            }

            Add(Mult, multTicks, MultN);
            Add(MultBase, baseTicks, MultN);
            Add(MultH, hTicks, MultN);
            Add(MsmGH, msmTicks, MultN);
            Add(Setup, setupTicks, SetupN);
            Add(JoinTpm, jTpm, JoinN);
            Add(JoinHost, jHost, JoinN);
            Add(JoinIssuer, jIssuer, JoinN);
            Add(JoinAll, jTpm + jHost + jIssuer, JoinN);
            Add(JoinEk, jEk, JoinN);
            Add(SignTpm, signTpmTicks, SignN);
            Add(SignHost, signTicks - signTpmTicks, SignN);
            Add(SignAll, signTicks, SignN);
            Add(Verify, verifyTicks, VerifyN);
        }

        return samples.ToDictionary(kv => kv.Key, kv => Median(kv.Value), StringComparer.Ordinal);
    }

    /// <summary>The (entity, phase) rows of the comparison: label, quantity key, model cells summed.</summary>
    public static IReadOnlyList<(string Label, string Key, (NsEntity Entity, NsPhase Phase)[] Cells)> Rows { get; } =
    [
        ("Sign: TPM part", SignTpm, [(NsEntity.Tpm, NsPhase.Sign)]),
        ("Sign: Host part", SignHost, [(NsEntity.Host, NsPhase.Sign)]),
        ("Sign: TPM + Host", SignAll, [(NsEntity.Tpm, NsPhase.Sign), (NsEntity.Host, NsPhase.Sign)]),
        ("Verify", Verify, [(NsEntity.Verifier, NsPhase.Verify)]),
        ("Join: TPM", JoinTpm, [(NsEntity.Tpm, NsPhase.Join)]),
        ("Join: Host", JoinHost, [(NsEntity.Host, NsPhase.Join)]),
        ("Join: Issuer", JoinIssuer, [(NsEntity.Issuer, NsPhase.Join)]),
        ("Join: all", JoinAll, [(NsEntity.Tpm, NsPhase.Join), (NsEntity.Host, NsPhase.Join), (NsEntity.Issuer, NsPhase.Join)]),
        ("Setup: Issuer", Setup, [(NsEntity.Issuer, NsPhase.Setup)]),
    ];

    public static string F(double value, string format = "F1") => value.ToString(format, CultureInfo.InvariantCulture);

    private static TmzHost Join(TmzIssuer issuer, ITmzTpm tpm, IRandomSource random)
    {
        issuer.TrustEndorsementKey(tpm.Endorsement.EkFingerprint);
        var host = new TmzHost(tpm, issuer.PublicKey, random);
        var response = issuer.CompleteJoin(host.CreateJoinRequest(issuer.StartJoin(tpm.Endorsement))).Response
            ?? throw new InvalidOperationException("join failed");
        return host.CompleteJoin(response) ? host : throw new InvalidOperationException("join failed");
    }

    private static TmzSignature Fresh(DaaGroup g, TmzSignature s) =>
        s with { Ur = g.Decode(s.Ur.Encoding), Cf = g.Decode(s.Cf.Encoding), CU = g.Decode(s.CU.Encoding), J = g.Decode(s.J.Encoding), N = g.Decode(s.N.Encoding) };

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The TPM role with its calls timed (credential activation apart).</summary>
    private sealed class TimedTpm(ITmzTpm inner) : ITmzTpm
    {
        public long Ticks { get; private set; }

        public long EkTicks { get; private set; }

        public DaaGroup Group => inner.Group;

        public DaaPoint PublicKey => inner.PublicKey;

        public TmzEndorsement Endorsement => inner.Endorsement;

        public void Reset() => Ticks = EkTicks = 0;

        public byte[] ActivateCredential(TpmCredential credential)
        {
            var t = CpuClock.Now();
            var result = inner.ActivateCredential(credential);
            EkTicks += CpuClock.Now() - t;
            return result;
        }

        public TmzCommitment Commit(DaaPoint? p1, DaaHashedPoint? basename)
        {
            var t = CpuClock.Now();
            var result = inner.Commit(p1, basename);
            Ticks += CpuClock.Now() - t;
            return result;
        }

        public TmzTpmSignature Sign(ushort counter, byte[] digest)
        {
            var t = CpuClock.Now();
            var result = inner.Sign(counter, digest);
            Ticks += CpuClock.Now() - t;
            return result;
        }
    }
}

/// <summary>Nanoseconds of the calling thread's CPU time (Linux), or of the Stopwatch elsewhere.</summary>
internal static partial class CpuClock
{
    private const int ClockThreadCpuTime = 3;
    private static readonly bool s_threadCpu = OperatingSystem.IsLinux() && Probe();

    /// <summary>What <see cref="Now"/> measures.</summary>
    public static string Kind => s_threadCpu ? "thread CPU time" : "wall-clock time";

    public static long Now()
    {
        if (s_threadCpu && ClockGetTime(ClockThreadCpuTime, out var ts) == 0)
        {
            return (ts.Seconds * 1_000_000_000L) + ts.Nanoseconds;
        }

        return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
    }

    private static bool Probe()
    {
        try
        {
            return ClockGetTime(ClockThreadCpuTime, out _) == 0;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out TimeSpec value);

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}

/// <summary><c>daa-floor</c>: each TMZ-DAA phase against k × one scalar multiplication in the same group and run.</summary>
internal static class DaaFloor
{
    public const double Goal = 1.5;

    public static void Run(TextWriter output, int rounds)
    {
        output.WriteLine($"TMZ-DAA phases against the scalar-multiplication floor: median of {rounds} rounds, µs of {CpuClock.Kind} per operation, {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        output.WriteLine("floor = k × (one k·P of a fresh point), k = the scalar multiplications the phase counts (NS model = instrumented counts); goal: ratio ≤ 1.5");
        output.WriteLine();
        output.WriteLine($"| {"phase",-18} | {"group",-12} | {"time µs",9} | {"k",3} | {"floor µs",9} | {"ratio",6} | {"≤ 1.5",5} |");
        output.WriteLine($"|{new string('-', 20)}|{new string('-', 14)}|{new string('-', 11)}|{new string('-', 5)}|{new string('-', 11)}|{new string('-', 8)}|{new string('-', 7)}|");
        var extra = new List<string>();
        foreach (var g in DaaGroup.All)
        {
            var m = DaaPhaseMeter.Measure(g, rounds);
            var model = NsProtocols.TmzDaa(g);
            var mult = m[DaaPhaseMeter.Mult];
            output.WriteLine($"| {"1 k·P (fresh P)",-18} | {g.Name,-12} | {DaaPhaseMeter.F(mult),9} | {1,3} | {DaaPhaseMeter.F(mult),9} | {"1.00",6} | {"",5} |");
            foreach (var (label, key, cells) in DaaPhaseMeter.Rows)
            {
                var k = cells.Sum(c => model.Counts(c.Entity, c.Phase).ScalarMultiplications);
                var floor = k * mult;
                var ratio = m[key] / floor;
                output.WriteLine($"| {label,-18} | {g.Name,-12} | {DaaPhaseMeter.F(m[key]),9} | {k,3} | {DaaPhaseMeter.F(floor),9} | {DaaPhaseMeter.F(ratio, "F2"),6} | {(ratio <= Goal ? "yes" : "NO"),5} |");
            }

            extra.Add($"{g.Name}: k·G {DaaPhaseMeter.F(m[DaaPhaseMeter.MultBase])} µs ({DaaPhaseMeter.F(m[DaaPhaseMeter.MultBase] / mult, "F2")} k·P), k·H {DaaPhaseMeter.F(m[DaaPhaseMeter.MultH])} µs, a·G + b·H {DaaPhaseMeter.F(m[DaaPhaseMeter.MsmGH])} µs; EK credential activation in Join (software stand-in, outside the model) {DaaPhaseMeter.F(m[DaaPhaseMeter.JoinEk])} µs");
        }

        output.WriteLine();
        foreach (var line in extra)
        {
            output.WriteLine(line);
        }
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}

/// <summary>
/// <c>daa-ns-validate</c>: the NS model's predicted cycles per phase next to measured time, and the
/// ratios between groups and between phases, predicted against measured, with a stated tolerance.
/// </summary>
internal static class DaaNsValidation
{
    /// <summary>A ratio agrees when measured/predicted lies in [1/Tolerance, Tolerance].</summary>
    public const double Tolerance = 1.5;

    public static void Run(TextWriter output, int rounds, string? profilePath)
    {
        var profile = profilePath is null ? NsCpuProfile.Default : NsCpuProfile.Load(profilePath);
        var phases = new (string Label, string Key, (NsEntity, NsPhase)[] Cells)[]
        {
            ("Setup", DaaPhaseMeter.Setup, [(NsEntity.Issuer, NsPhase.Setup)]),
            ("Join", DaaPhaseMeter.JoinAll, [(NsEntity.Tpm, NsPhase.Join), (NsEntity.Host, NsPhase.Join), (NsEntity.Issuer, NsPhase.Join)]),
            ("Sign", DaaPhaseMeter.SignAll, [(NsEntity.Tpm, NsPhase.Sign), (NsEntity.Host, NsPhase.Sign)]),
            ("Sign: TPM", DaaPhaseMeter.SignTpm, [(NsEntity.Tpm, NsPhase.Sign)]),
            ("Sign: Host", DaaPhaseMeter.SignHost, [(NsEntity.Host, NsPhase.Sign)]),
            ("Verify", DaaPhaseMeter.Verify, [(NsEntity.Verifier, NsPhase.Verify)]),
        };

        var predicted = new Dictionary<(string Group, string Phase), double>();
        var measured = new Dictionary<(string Group, string Phase), double>();
        foreach (var g in DaaGroup.All)
        {
            // Each group at its implementation's arithmetic (NsProtocol.Arithmetic: BouncyCastle's
            // 32-bit words for P-256, libsodium's 64-bit radix-2^51 limbs for ristretto255), with
            // fixed-base multiplications where the implementation takes its fixed-base path.
            var rows = NsCostModel.Evaluate(NsProtocols.TmzDaa(g), profile);
            var m = DaaPhaseMeter.Measure(g, rounds);
            foreach (var (label, key, cells) in phases)
            {
                predicted[(g.Name, label)] = rows.Where(r => cells.Contains((r.Entity, r.Phase))).Sum(r => r.Cycles);
                measured[(g.Name, label)] = m[key];
            }
        }

        foreach (var g in DaaGroup.All)
        {
            output.WriteLine($"{g.Name}: {NsProtocols.TmzDaa(g).Arithmetic?.Implementation}");
        }

        output.WriteLine($"NS model (profile {profile.Name}) against measurement, TMZ-DAA: median of {rounds} rounds, µs of {CpuClock.Kind}, {Environment.ProcessorCount} cores, load average {DaaFloor.LoadAverage()}");
        output.WriteLine($"tolerance: a ratio agrees when measured/predicted is within [1/{DaaPhaseMeter.F(Tolerance, "F1")}, {DaaPhaseMeter.F(Tolerance, "F1")}]");
        output.WriteLine();
        output.WriteLine($"| {"phase",-10} | {"group",-12} | {"predicted kcycles",17} | {"predicted µs",12} | {"measured µs",11} | {"measured/predicted",18} |");
        output.WriteLine($"|{new string('-', 12)}|{new string('-', 14)}|{new string('-', 19)}|{new string('-', 14)}|{new string('-', 13)}|{new string('-', 20)}|");
        foreach (var (label, _, _) in phases)
        {
            foreach (var g in DaaGroup.All)
            {
                var p = predicted[(g.Name, label)];
                var us = p / (profile.ClockGHz * 1000);
                var mt = measured[(g.Name, label)];
                output.WriteLine($"| {label,-10} | {g.Name,-12} | {DaaPhaseMeter.F(p / 1000, "N0"),17} | {DaaPhaseMeter.F(us),12} | {DaaPhaseMeter.F(mt),11} | {DaaPhaseMeter.F(mt / us, "F2"),18} |");
            }
        }

        output.WriteLine();
        output.WriteLine($"| {"ratio",-54} | {"predicted",9} | {"measured",8} | {"meas/pred",9} | {"agrees",6} |");
        output.WriteLine($"|{new string('-', 56)}|{new string('-', 11)}|{new string('-', 10)}|{new string('-', 11)}|{new string('-', 8)}|");
        void Ratio(string name, double p, double mt)
        {
            var q = mt / p;
            output.WriteLine($"| {name,-54} | {DaaPhaseMeter.F(p, "F2"),9} | {DaaPhaseMeter.F(mt, "F2"),8} | {DaaPhaseMeter.F(q, "F2"),9} | {(q <= Tolerance && q >= 1 / Tolerance ? "yes" : "NO"),6} |");
        }

        var (a, b) = (DaaGroup.P256.Name, DaaGroup.Ristretto255.Name);
        foreach (var (label, _, _) in phases)
        {
            Ratio($"{label}: {a} / {b}", predicted[(a, label)] / predicted[(b, label)], measured[(a, label)] / measured[(b, label)]);
        }

        foreach (var g in DaaGroup.All)
        {
            foreach (var (label, _, _) in phases.Where(x => x.Label != "Verify"))
            {
                Ratio($"{g.Name}: {label} / Verify", predicted[(g.Name, label)] / predicted[(g.Name, "Verify")], measured[(g.Name, label)] / measured[(g.Name, "Verify")]);
            }
        }
    }
}
