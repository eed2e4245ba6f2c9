using TrustStack.Tests.Shared;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz.Tests;

/// <summary>The ECDAA TPM role through TPM 2.0 commands on TPM_ECC_BN_P256: our engine and real swtpm (libtpms).</summary>
public sealed class Tpm2EcdaaTpmTests
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

    private static void RunProtocol(Tpm2 client, ulong seed)
    {
        using var random = DeterministicRandomSource.FromSeed(seed);
        using var issuer = new EcdaaIssuer(random);
        var verifier = new EcdaaVerifier(issuer.PublicKey, issuer.RogueList);
        using var tpm = new Tpm2EcdaaTpm(client);
        var host = new EcdaaHost(tpm, issuer.PublicKey, random);
        var issued = issuer.CompleteJoin(host.CreateJoinRequest(issuer.StartJoin()));
        Assert.True(issued.Accepted, issued.Reason);
        Assert.True(host.CompleteJoin(issued.Response!));

        var first = host.Sign(Message, Basename, Nonce);
        var second = host.Sign(Message, Basename, Nonce);
        var anonymous = host.Sign(Message, null, Nonce);
        Assert.True(verifier.Verify(first, Message, Basename, Nonce).IsValid);
        Assert.True(verifier.Verify(anonymous, Message, null, Nonce).IsValid);
        Assert.True(EcdaaVerifier.Link(first, second));
        Assert.False(verifier.Verify(first, Message, Basename, "other"u8).IsValid);

        // A commitment is used once.
        var commit = tpm.Commit(null, null);
        tpm.Sign(commit.Counter, new byte[32]);
        Assert.Equal(TpmRc.Value, Assert.Throws<TpmException>(() => tpm.Sign(commit.Counter, new byte[32])).ResponseCode);
    }
}
