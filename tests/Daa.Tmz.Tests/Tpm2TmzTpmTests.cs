using TrustStack.Tests.Shared;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz.Tests;

/// <summary>The TPM role through TPM 2.0 commands: on our engine and on real swtpm (libtpms), NIST P-256.</summary>
public sealed class Tpm2TmzTpmTests
{
    private static readonly byte[] Message = "measured boot report"u8.ToArray();
    private static readonly byte[] Basename = "verifier.example"u8.ToArray();
    private static readonly byte[] Nonce = "nonce"u8.ToArray();

    [Fact]
    public void JoinSignVerify_OnEngine_Verifies()
    {
        using var engine = new SoftwareTpm(new SoftwareTpmOptions { Seed = 5, AutoStartup = true });
        RunProtocol(new Tpm2(engine), seed: 1);
    }

    [Fact]
    public void JoinSignVerify_OnSwtpm_Verifies()
    {
        using var swtpm = new SwtpmProcess();
        using var transport = swtpm.CreateTransport();
        RunProtocol(new Tpm2(transport), seed: 2);
    }

    [Fact]
    public void CommitAndEcdaaSign_EngineAndSwtpm_BothVerifiable()
    {
        // Differential: the same Commit/Sign(ECDAA) flow against both TPMs; both results satisfy
        // s·Ur = E + c·f·Ur and s·J = L + c·N, checked through a full TMZ-DAA verification.
        using var swtpm = new SwtpmProcess();
        using var transport = swtpm.CreateTransport();
        using var engine = new SoftwareTpm(new SoftwareTpmOptions { Seed = 6, AutoStartup = true });
        using var random = DeterministicRandomSource.FromSeed(3);
        using var issuer = new TmzIssuer(DaaGroup.P256, random);
        using var verifier = issuer.CreateVerifier();
        var signatures = new List<TmzSignature>();
        foreach (var client in new[] { new Tpm2(engine), new Tpm2(transport) })
        {
            using var tpm = new Tpm2TmzTpm(client);
            var host = Join(issuer, tpm, random);
            var first = host.Sign(Message, Basename, Nonce);
            var second = host.Sign(Message, Basename, Nonce);
            Assert.True(verifier.Verify(first, Message, Basename, Nonce).IsValid);
            Assert.True(TmzVerifier.Link(first, second));
            signatures.Add(first);

            // The commitment is used once on both TPMs.
            var commit = tpm.Commit(null, null);
            tpm.Sign(commit.Counter, new byte[32]);
            Assert.Equal(TpmRc.Value, Assert.Throws<TpmException>(() => tpm.Sign(commit.Counter, new byte[32])).ResponseCode);
        }

        Assert.False(TmzVerifier.Link(signatures[0], signatures[1]));
        Assert.Equal(signatures[0].J, signatures[1].J);
    }

    [Fact]
    public void CompleteJoin_SwtpmEkNotTrusted_Rejected()
    {
        using var engine = new SoftwareTpm(new SoftwareTpmOptions { Seed = 7, AutoStartup = true });
        using var random = DeterministicRandomSource.FromSeed(4);
        using var issuer = new TmzIssuer(DaaGroup.P256, random);
        using var tpm = new Tpm2TmzTpm(new Tpm2(engine));
        var host = new TmzHost(tpm, issuer.PublicKey, random);
        var result = issuer.CompleteJoin(host.CreateJoinRequest(issuer.StartJoin(tpm.Endorsement)));
        Assert.False(result.Accepted);
    }

    [Fact]
    public void Sign_Counter_RecordsTheTpmsThreeMultiplications()
    {
        using var engine = new SoftwareTpm(new SoftwareTpmOptions { Seed = 8, AutoStartup = true });
        using var random = DeterministicRandomSource.FromSeed(5);
        using var issuer = new TmzIssuer(DaaGroup.P256, random);
        var ops = new DaaOpCounter();
        using var tpm = new Tpm2TmzTpm(new Tpm2(engine), ops);
        var host = Join(issuer, tpm, random);
        ops.Reset();
        host.Sign(Message, null, Nonce);
        Assert.Equal(3, ops.ScalarMultiplications);
    }

    private static void RunProtocol(Tpm2 client, ulong seed)
    {
        using var random = DeterministicRandomSource.FromSeed(seed);
        using var issuer = new TmzIssuer(DaaGroup.P256, random);
        using var verifier = issuer.CreateVerifier();
        using var tpm = new Tpm2TmzTpm(client);
        var host = Join(issuer, tpm, random);

        var linkable = host.Sign(Message, Basename, Nonce);
        var again = host.Sign(Message, Basename, Nonce);
        var anonymous = host.Sign(Message, null, Nonce);
        Assert.True(verifier.Verify(linkable, Message, Basename, Nonce).IsValid);
        Assert.True(verifier.Verify(anonymous, Message, null, Nonce).IsValid);
        Assert.True(TmzVerifier.Link(linkable, again));
        Assert.False(TmzVerifier.Link(linkable, anonymous));
        Assert.False(verifier.Verify(linkable, Message, Basename, "other"u8).IsValid);
    }

    private static TmzHost Join(TmzIssuer issuer, ITmzTpm tpm, IRandomSource random)
    {
        issuer.TrustEndorsementKey(tpm.Endorsement.EkFingerprint);
        var host = new TmzHost(tpm, issuer.PublicKey, random);
        var result = issuer.CompleteJoin(host.CreateJoinRequest(issuer.StartJoin(tpm.Endorsement)));
        Assert.True(result.Accepted, result.Reason);
        Assert.True(host.CompleteJoin(result.Response!));
        return host;
    }
}
