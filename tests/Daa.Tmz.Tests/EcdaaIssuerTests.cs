namespace TrustStack.Daa.Tmz.Tests;

public sealed class EcdaaIssuerTests
{
    [Fact]
    public void PublicKey_Proof_VerifiesAndTamperingBreaksIt()
    {
        using var world = new EcdaaWorld(20, platforms: 0);
        var ipk = world.Issuer.PublicKey;
        Assert.True(ipk.VerifyProof());
        Assert.False((ipk with { Sx = BnP256.Reduce(ipk.Sx + 1) }).VerifyProof());
        Assert.False((ipk with { X = ipk.X.Add(BnP256.G2Generator) }).VerifyProof());
        Assert.Throws<ArgumentException>(() => new EcdaaHost(new SoftwareEcdaaTpm(world.Random), ipk with { C = ipk.C + 1 }, world.Random));
    }

    [Fact]
    public void CompleteJoin_ReusedNonce_Rejected()
    {
        using var world = new EcdaaWorld(21, platforms: 0);
        using var tpm = new SoftwareEcdaaTpm(world.Random);
        var host = new EcdaaHost(tpm, world.Issuer.PublicKey, world.Random);
        var request = host.CreateJoinRequest(world.Issuer.StartJoin());
        Assert.True(world.Issuer.CompleteJoin(request).Accepted);
        var again = world.Issuer.CompleteJoin(request);
        Assert.False(again.Accepted);
        Assert.Contains("nonce", again.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void CompleteJoin_ProofForAnotherKey_Rejected()
    {
        using var world = new EcdaaWorld(22, platforms: 0);
        using var tpm = new SoftwareEcdaaTpm(world.Random);
        using var other = new SoftwareEcdaaTpm(world.Random);
        var host = new EcdaaHost(tpm, world.Issuer.PublicKey, world.Random);
        var request = host.CreateJoinRequest(world.Issuer.StartJoin());
        var result = world.Issuer.CompleteJoin(request with { PublicKey = other.PublicKey });
        Assert.False(result.Accepted);
        Assert.Contains("proof", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void CompleteJoin_ProofBoundToAnotherNonce_Rejected()
    {
        using var world = new EcdaaWorld(23, platforms: 0);
        using var tpm = new SoftwareEcdaaTpm(world.Random);
        var host = new EcdaaHost(tpm, world.Issuer.PublicKey, world.Random);
        var first = world.Issuer.StartJoin();
        var second = world.Issuer.StartJoin();
        var request = host.CreateJoinRequest(first);
        Assert.False(world.Issuer.CompleteJoin(request with { Nonce = second }).Accepted);
    }

    [Fact]
    public void CompleteJoin_Issued_HostAcceptsAndTamperedCredentialRejected()
    {
        using var world = new EcdaaWorld(24, platforms: 0);
        using var tpm = new SoftwareEcdaaTpm(world.Random);
        var host = new EcdaaHost(tpm, world.Issuer.PublicKey, world.Random);
        var response = world.Issuer.CompleteJoin(host.CreateJoinRequest(world.Issuer.StartJoin())).Response!;
        var cred = response.Credential;
        Assert.Equal(cred.B.Multiply(tpm.ExtractSecretKey()), cred.D);
        var g = BnP256.G1Generator;
        Assert.False(host.CompleteJoin(response with { Credential = cred with { C = cred.C.Add(g) } }));
        Assert.False(host.CompleteJoin(response with { Credential = cred with { D = cred.D.Add(g) } }));
        Assert.False(host.CompleteJoin(response with { S = BnP256.Reduce(response.S + 1) }));
        Assert.Null(host.Credential);
        Assert.True(host.CompleteJoin(response));
        Assert.Equal(cred, host.Credential);
    }

    [Fact]
    public void Sign_NotJoined_Throws()
    {
        using var world = new EcdaaWorld(25, platforms: 0);
        using var tpm = new SoftwareEcdaaTpm(world.Random);
        var host = new EcdaaHost(tpm, world.Issuer.PublicKey, world.Random);
        Assert.Throws<InvalidOperationException>(() => host.Sign("m"u8, null, "n"u8));
    }
}
