namespace TrustStack.Daa.Tmz.Tests;

public sealed class TmzIssuerTests
{
    public static TheoryData<string> Groups => new() { "ristretto255", "p256" };

    [Theory]
    [MemberData(nameof(Groups))]
    public void PublicKey_Proof_Verifies(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 20, platforms: 0);
        var ipk = world.Issuer.PublicKey;
        Assert.True(ipk.VerifyProof());
        Assert.False((ipk with { X1 = ipk.X0 }).VerifyProof());
        Assert.False((ipk with { Proof = ipk.Proof with { S1 = ipk.Proof.S1 + 1 } }).VerifyProof());
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void CompleteJoin_UntrustedEndorsementKey_Rejected(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 21, platforms: 0);
        using var rogue = new SoftwareTmzTpm(world.Group, world.Random);
        var host = new TmzHost(rogue, world.Issuer.PublicKey, world.Random);
        var result = world.Issuer.CompleteJoin(host.CreateJoinRequest(world.Issuer.StartJoin(rogue.Endorsement)));
        Assert.False(result.Accepted);
        Assert.Contains("genuine", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void CompleteJoin_KeyOfAnotherTpmUnderAGenuineEk_Rejected(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 22, platforms: 0);
        using var genuine = new SoftwareTmzTpm(world.Group, world.Random);
        using var attacker = new SoftwareTmzTpm(world.Group, world.Random);
        world.Issuer.TrustEndorsementKey(genuine.Endorsement.EkFingerprint);

        // The attacker claims the genuine EK for its own DAA key; it cannot activate the credential.
        var claimed = genuine.Endorsement with { PublicKey = attacker.PublicKey };
        var challenge = world.Issuer.StartJoin(claimed);
        var request = new TmzHost(attacker, world.Issuer.PublicKey, world.Random).CreateJoinRequest(challenge) with { Endorsement = claimed };
        var result = world.Issuer.CompleteJoin(request);
        Assert.Contains("activate", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void CompleteJoin_ProofNotBoundToNonce_Rejected(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 23, platforms: 0);
        using var tpm = new SoftwareTmzTpm(world.Group, world.Random);
        world.Issuer.TrustEndorsementKey(tpm.Endorsement.EkFingerprint);
        var host = new TmzHost(tpm, world.Issuer.PublicKey, world.Random);
        var request = host.CreateJoinRequest(world.Issuer.StartJoin(tpm.Endorsement));
        var result = world.Issuer.CompleteJoin(request with { S = request.S + 1 });
        Assert.Contains("proof", result.Reason, StringComparison.Ordinal);
        Assert.Contains("nonce", world.Issuer.CompleteJoin(request).Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void CompleteJoin_RogueKey_Rejected(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 24, platforms: 0);
        using var tpm = new SoftwareTmzTpm(world.Group, world.Random);
        world.Issuer.TrustEndorsementKey(tpm.Endorsement.EkFingerprint);
        world.Issuer.RogueList.Add(tpm.ExtractSecretKey());
        var host = new TmzHost(tpm, world.Issuer.PublicKey, world.Random);
        var result = world.Issuer.CompleteJoin(host.CreateJoinRequest(world.Issuer.StartJoin(tpm.Endorsement)));
        Assert.Contains("rogue", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void CompleteJoin_TamperedIssuerProof_HostRejects(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 25, platforms: 0);
        using var tpm = new SoftwareTmzTpm(world.Group, world.Random);
        world.Issuer.TrustEndorsementKey(tpm.Endorsement.EkFingerprint);
        var host = new TmzHost(tpm, world.Issuer.PublicKey, world.Random);
        var response = world.Issuer.CompleteJoin(host.CreateJoinRequest(world.Issuer.StartJoin(tpm.Endorsement))).Response!;
        var g = world.Group;
        Assert.False(host.CompleteJoin(response with { Credential = response.Credential with { UPrime = g.Add(response.Credential.UPrime, g.H) } }));
        Assert.Null(host.Credential);
        Assert.True(host.CompleteJoin(response));
    }
}
