using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz.Tests;

public sealed class NsProtocolTests
{
    [Theory]
    [InlineData("ristretto255")]
    [InlineData("p256")]
    public void TmzDaa_ModelCounts_EqualInstrumentedCountsOfARealRun(string name)
    {
        var group = DaaGroup.FromName(name);
        var model = NsProtocols.TmzDaa(group);
        using var random = DeterministicRandomSource.FromSeed(42);
        var ops = Enum.GetValues<NsEntity>().ToDictionary(e => e, _ => new DaaOpCounter());
        var measured = new Dictionary<(NsEntity, NsPhase), DaaOpCounts>();
        void Take(NsPhase phase)
        {
            foreach (var (entity, counter) in ops)
            {
                measured[(entity, phase)] = counter.Snapshot();
                counter.Reset();
            }
        }

        using var issuer = new TmzIssuer(group, random, ops[NsEntity.Issuer]);
        Take(NsPhase.Setup);

        using var tpm = new SoftwareTmzTpm(group, random, ops[NsEntity.Tpm]);
        issuer.TrustEndorsementKey(tpm.Endorsement.EkFingerprint);
        var host = new TmzHost(tpm, issuer.PublicKey, random, ops[NsEntity.Host]);
        var response = issuer.CompleteJoin(host.CreateJoinRequest(issuer.StartJoin(tpm.Endorsement))).Response!;
        Assert.True(host.CompleteJoin(response));
        Take(NsPhase.Join);

        var signature = host.Sign("m"u8, "bsn"u8.ToArray(), "n"u8);
        Take(NsPhase.Sign);

        using var verifier = issuer.CreateVerifier(ops[NsEntity.Verifier]);
        Assert.True(verifier.Verify(signature, "m"u8, "bsn"u8.ToArray(), "n"u8).IsValid);
        Take(NsPhase.Verify);

        foreach (var ((entity, phase), counts) in measured)
        {
            Assert.Equal((entity, phase, model.Counts(entity, phase)), (entity, phase, counts));
        }

        // The fixed-base category is exercised: r'·G in the Host's Sign takes it in both groups.
        Assert.True(measured[(NsEntity.Host, NsPhase.Sign)].FixedBaseMultiplications >= 1);
    }

    [Theory]
    [InlineData("ristretto255")]
    [InlineData("p256")]
    public void Decompose_FixedBaseMultiplication_CheaperThanVariableBase(string name)
    {
        var protocol = NsProtocols.TmzDaa(DaaGroup.FromName(name));
        var profile = NsCpuProfile.Default;
        double Cycles(NsOperation op) => profile.Cycles(NsCostModel.Decompose(new NsStep(NsEntity.Host, NsPhase.Sign, op, 1, DaaGroup.FromName(name).FieldBits), protocol.HasMultiScalarMultiplication, profile.WordBits, protocol.Arithmetic));
        Assert.True(Cycles(NsOperation.EcFixedBaseMultiplication) < Cycles(NsOperation.EcScalarMultiplication));
    }

    [Fact]
    public void Ecdaa_ModelCounts_EqualInstrumentedCountsOfARealRun()
    {
        var model = NsProtocols.Ecdaa();
        using var random = DeterministicRandomSource.FromSeed(43);
        var ops = Enum.GetValues<NsEntity>().ToDictionary(e => e, _ => new EcdaaOpCounter());
        var measured = new Dictionary<(NsEntity, NsPhase), EcdaaOpCounts>();
        void Take(NsPhase phase)
        {
            foreach (var (entity, counter) in ops)
            {
                measured[(entity, phase)] = counter.Snapshot();
                counter.Reset();
            }
        }

        using var issuer = new EcdaaIssuer(random, ops[NsEntity.Issuer]);
        Take(NsPhase.Setup);

        using var tpm = new SoftwareEcdaaTpm(random, ops[NsEntity.Tpm]);
        var host = new EcdaaHost(tpm, issuer.PublicKey, random, ops[NsEntity.Host]);
        var response = issuer.CompleteJoin(host.CreateJoinRequest(issuer.StartJoin())).Response!;
        Assert.True(host.CompleteJoin(response));
        Take(NsPhase.Join);

        var signature = host.Sign("m"u8, "bsn"u8.ToArray(), "n"u8);
        Take(NsPhase.Sign);

        var verifier = new EcdaaVerifier(issuer.PublicKey, issuer.RogueList, ops[NsEntity.Verifier]);
        Assert.True(verifier.Verify(signature, "m"u8, "bsn"u8.ToArray(), "n"u8).IsValid);
        Take(NsPhase.Verify);

        foreach (var ((entity, phase), counts) in measured)
        {
            Assert.Equal((entity, phase, EcdaaOpCounts.FromModel(model, entity, phase)), (entity, phase, counts));
        }
    }

    [Fact]
    public void Evaluate_DefaultProfile_TmzCheaperThanEcdaaCheaperThanBcc04ForVerify()
    {
        var profile = NsCpuProfile.Default;
        double Verify(NsProtocol p) => NsCostModel.Evaluate(p, profile).Where(r => r.Phase == NsPhase.Verify).Sum(r => r.Cycles);
        var tmz = Verify(NsProtocols.TmzDaa(DaaGroup.P256));
        var ecdaa = Verify(NsProtocols.Ecdaa());
        var bcc = Verify(NsProtocols.Bcc04());
        Assert.True(tmz < ecdaa, $"{tmz} < {ecdaa}");
        Assert.True(ecdaa < bcc, $"{ecdaa} < {bcc}");
    }

    [Fact]
    public void Evaluate_EveryRow_PositiveCyclesAndWordOps()
    {
        foreach (var protocol in NsProtocols.All())
        {
            var rows = NsCostModel.Evaluate(protocol, NsCpuProfile.Default);
            Assert.NotEmpty(rows);
            Assert.All(rows, r => Assert.True(r.Cycles > 0 && r.WordOps.Additions > 0));
        }
    }
}
