using FsCheck;
using FsCheck.Xunit;
using Xunit.Abstractions;

namespace TrustStack.Tpm.Hardware.Tests.Interop;

/// <summary>
/// Differential tests: the same raw command sequences sent to our engine and to libtpms (a real
/// swtpm, one process for the class) must give the same response codes.
/// </summary>
public sealed class DifferentialTests(SwtpmFixture fixture, ITestOutputHelper output) : IClassFixture<SwtpmFixture>
{
    [Theory]
    [MemberData(nameof(DifferentialCases.Names), MemberType = typeof(DifferentialCases))]
    public void Execute_Case_SameResponseCodeAsLibtpms(string name)
    {
        var testCase = DifferentialCases.Get(name);
        if (DifferentialCases.Excluded.TryGetValue(name, out var reason))
        {
            output.WriteLine($"excluded: {reason}");
            return;
        }

        var swtpm = Run(fixture.Swtpm, testCase);
        using var engineTarget = new EngineUnderTest();
        var engine = Run(engineTarget, testCase);
        var swtpmRc = RawCommands.ResponseCode(swtpm);
        var engineRc = RawCommands.ResponseCode(engine);
        output.WriteLine($"{name}: swtpm {TpmResponseCode.Describe(swtpmRc)} (0x{(uint)swtpmRc:x}), engine {TpmResponseCode.Describe(engineRc)} (0x{(uint)engineRc:x})");

        Assert.True(swtpmRc == testCase.Expected, $"libtpms answered 0x{(uint)swtpmRc:x} ({TpmResponseCode.Describe(swtpmRc)}), the table expects 0x{(uint)testCase.Expected:x}");
        Assert.True(engineRc == swtpmRc, $"engine answered 0x{(uint)engineRc:x} ({TpmResponseCode.Describe(engineRc)}), libtpms 0x{(uint)swtpmRc:x} ({TpmResponseCode.Describe(swtpmRc)})");
        if (testCase.CompareLength)
        {
            Assert.Equal(swtpm.Length, engine.Length);
        }
    }

    /// <summary>The names of the valid commands the mutation test damages.</summary>
    public static TheoryData<string> BaseCommandNames()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in DifferentialMutations.BaseCommands)
        {
            data.Add(name);
        }

        return data;
    }

    /// <summary>
    /// Every command the mutation test starts from is valid on both TPMs, so the mutations explore
    /// near-valid input (VerifySignature's signature cannot match two TPMs' keys: it fails the check).
    /// </summary>
    [Theory]
    [MemberData(nameof(BaseCommandNames))]
    public void Execute_UndamagedBaseCommand_SucceedsOnBoth(string name)
    {
        var command = DifferentialMutations.BaseCommands.Single(b => b.Name == name).Command.Bytes;
        var mutation = new Mutation(name, MutationKind.Append, 0, command);
        var swtpm = RawCommands.ResponseCode(RunMutation(fixture.Swtpm, mutation));
        using var engineTarget = new EngineUnderTest();
        var engine = RawCommands.ResponseCode(RunMutation(engineTarget, mutation));
        var expected = name == "VerifySignature" ? TpmResponseCode.Parameter(TpmRc.Signature, 2) : TpmRc.Success;
        Assert.True(swtpm == expected, $"libtpms answered {TpmResponseCode.Describe(swtpm)}");
        Assert.True(engine == expected, $"engine answered {TpmResponseCode.Describe(engine)}");
    }

    /// <summary>
    /// Random damage to valid commands (cut, flipped octets in the header, handle, authorization and
    /// parameter areas, removed or appended octets) gets the same response code from both TPMs,
    /// except where docs/interop-differences.md names the difference.
    /// </summary>
    [Property(MaxTest = 300)]
    public void Execute_MutatedValidCommand_SameResponseCodeAsLibtpms(NonNegativeInt baseIndex, MutationKind kind, NonNegativeInt position, byte value)
    {
        var mutation = DifferentialMutations.Mutate(baseIndex.Get, kind, position.Get, value);
        if (DifferentialMutations.KnownDifference(mutation, ReferenceOnlyCommands.Value) is { } reason)
        {
            output.WriteLine($"skipped {mutation}: {reason}");
            return;
        }

        var swtpm = RunMutation(fixture.Swtpm, mutation);
        using var engineTarget = new EngineUnderTest();
        var engine = RunMutation(engineTarget, mutation);
        var swtpmRc = RawCommands.ResponseCode(swtpm);
        var engineRc = RawCommands.ResponseCode(engine);
        if (engineRc != swtpmRc && DifferentialMutations.KnownResultDifference(swtpmRc, engineRc) is { } known)
        {
            output.WriteLine($"documented difference for {mutation}: {known}");
            return;
        }

        Assert.True(engineRc == swtpmRc, $"{mutation}: engine 0x{(uint)engineRc:x} ({TpmResponseCode.Describe(engineRc)}), libtpms 0x{(uint)swtpmRc:x} ({TpmResponseCode.Describe(swtpmRc)})");
    }

    private Lazy<IReadOnlySet<uint>> ReferenceOnlyCommands { get; } = new(() =>
    {
        var swtpm = fixture.Swtpm;
        swtpm.Reset();
        var reference = new Tpm2(swtpm.Transport).GetCommands().Select(a => (uint)(a & TpmaCc.CommandIndexMask) | ((a & TpmaCc.V) != 0 ? 0x2000_0000u : 0)).ToHashSet();
        using var engine = new EngineUnderTest();
        reference.ExceptWith(engine.Engine.ImplementedCommands.Select(c => (uint)c));
        return reference;
    });

    private static byte[] RunMutation(ITpmUnderTest target, Mutation mutation)
    {
        target.Reset();
        var context = new DiffContext(target);
        DifferentialMutations.Prepare(context);
        return DiffContext.ExecuteWithRetry(target.Transport, mutation.Bytes);
    }

    private static byte[] Run(ITpmUnderTest target, DifferentialCase testCase)
    {
        target.Reset();
        var context = new DiffContext(target);
        var probe = testCase.Probe(context);
        return DiffContext.ExecuteWithRetry(target.Transport, probe);
    }
}
