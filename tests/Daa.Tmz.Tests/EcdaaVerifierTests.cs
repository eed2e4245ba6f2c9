using System.Numerics;
using FsCheck.Xunit;

namespace TrustStack.Daa.Tmz.Tests;

public sealed class EcdaaVerifierTests
{
    private static readonly byte[] Message = "attestation report"u8.ToArray();
    private static readonly byte[] Nonce = "verifier nonce"u8.ToArray();
    private static readonly byte[] Basename = "verifier.example"u8.ToArray();

    [Property(MaxTest = 3)]
    public bool Verify_RandomInputs_Accepts(ulong seed, byte[] message, byte[] nonce, bool linkable)
    {
        using var world = new EcdaaWorld(seed);
        var basename = linkable ? message : null;
        var signature = world.Host.Sign(message, basename, nonce);
        return world.Verifier.Verify(signature, message, basename, nonce).IsValid;
    }

    [Fact]
    public void Link_SameBasename_LinkableAcrossSignaturesNotAcrossPlatforms()
    {
        using var world = new EcdaaWorld(1, platforms: 2);
        var first = world.Host.Sign(Message, Basename, Nonce);
        var second = world.Host.Sign("other"u8, Basename, "n2"u8);
        var otherPlatform = world.Platforms[1].Host.Sign(Message, Basename, Nonce);
        Assert.True(world.Verifier.Verify(second, "other"u8, Basename, "n2"u8).IsValid);
        Assert.True(world.Verifier.Verify(otherPlatform, Message, Basename, Nonce).IsValid);
        Assert.True(EcdaaVerifier.Link(first, second));
        Assert.False(EcdaaVerifier.Link(first, otherPlatform));
        Assert.NotEqual(first.R, second.R);
    }

    [Fact]
    public void Link_NoBasename_NotLinkable()
    {
        using var world = new EcdaaWorld(2);
        var first = world.Host.Sign(Message, null, Nonce);
        var second = world.Host.Sign(Message, null, Nonce);
        Assert.True(world.Verifier.Verify(first, Message, null, Nonce).IsValid);
        Assert.Null(first.K);
        Assert.False(EcdaaVerifier.Link(first, second));
        Assert.NotEqual(first.S, second.S);
        Assert.NotEqual(first.W, second.W);
    }

    [Fact]
    public void Verify_ForgedCredentialWithoutIssuerKey_Rejected()
    {
        using var world = new EcdaaWorld(3);

        // The attacker has a TPM but no credential: it makes (A, B, C, D) with its own y', x'.
        using var tpm = new SoftwareEcdaaTpm(world.Random);
        var host = new EcdaaHost(tpm, world.Issuer.PublicKey, world.Random);
        var (l, y, x) = (BnP256.RandomScalar(world.Random), BnP256.RandomScalar(world.Random), BnP256.RandomScalar(world.Random));
        var a = BnP256.G1Generator.Multiply(l);
        var d = tpm.PublicKey.Multiply(l * y);
        var forged = new EcdaaCredential(a, a.Multiply(y), a.Add(d).Multiply(x), d);
        Assert.False(host.CompleteJoin(new EcdaaJoinResponse(forged, 0, 0)));
        host.UseCredential(forged);
        var signature = host.Sign(Message, Basename, Nonce);
        var result = world.Verifier.Verify(signature, Message, Basename, Nonce);
        Assert.False(result.IsValid);
        Assert.Contains("issuer's key", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_StolenCredentialWithAnotherTpm_Rejected()
    {
        using var world = new EcdaaWorld(4, platforms: 1);

        // A second TPM uses the first platform's credential: W = f1·S but the TPM proves f2.
        using var thief = new SoftwareEcdaaTpm(world.Random);
        var host = new EcdaaHost(thief, world.Issuer.PublicKey, world.Random);
        host.UseCredential(world.Host.Credential!);
        var signature = host.Sign(Message, Basename, Nonce);
        Assert.False(world.Verifier.Verify(signature, Message, Basename, Nonce).IsValid);
    }

    [Theory]
    [InlineData("R")]
    [InlineData("S")]
    [InlineData("T")]
    [InlineData("W")]
    [InlineData("K")]
    [InlineData("C")]
    [InlineData("Sf")]
    [InlineData("TpmNonce")]
    public void Verify_TamperedField_Rejected(string field)
    {
        using var world = new EcdaaWorld(5);
        var s = world.Host.Sign(Message, Basename, Nonce);
        var p = BnP256.G1Generator.Multiply(7);
        var tampered = field switch
        {
            "R" => s with { R = s.R.Add(p) },
            "S" => s with { S = s.S.Add(p) },
            "T" => s with { T = s.T.Add(p) },
            "W" => s with { W = s.W.Add(p) },
            "K" => s with { K = s.K!.Add(p) },
            "C" => s with { C = BnP256.Reduce(s.C + 1) },
            "Sf" => s with { Sf = BnP256.Reduce(s.Sf + 1) },
            _ => s with { TpmNonce = [.. s.TpmNonce.Select(b => unchecked((byte)(b ^ 1)))] },
        };
        Assert.True(world.Verifier.Verify(s, Message, Basename, Nonce).IsValid);
        Assert.False(world.Verifier.Verify(tampered, Message, Basename, Nonce).IsValid);
    }

    [Fact]
    public void Verify_RandomizedCredentialScaledConsistently_StillBoundToTheTpmProof()
    {
        // (R, S, T, W) scaled by a fresh l' pass the pairing checks but not the TPM proof over S and W.
        using var world = new EcdaaWorld(6);
        var s = world.Host.Sign(Message, Basename, Nonce);
        var l = new BigInteger(3);
        var rescaled = s with { R = s.R.Multiply(l), S = s.S.Multiply(l), T = s.T.Multiply(l), W = s.W.Multiply(l) };
        Assert.False(world.Verifier.Verify(rescaled, Message, Basename, Nonce).IsValid);
    }

    [Fact]
    public void Verify_WrongNonceMessageOrBasename_Rejected()
    {
        using var world = new EcdaaWorld(7);
        var s = world.Host.Sign(Message, Basename, Nonce);
        Assert.False(world.Verifier.Verify(s, Message, Basename, "other nonce"u8).IsValid);
        Assert.False(world.Verifier.Verify(s, "other"u8, Basename, Nonce).IsValid);
        Assert.False(world.Verifier.Verify(s, Message, "other.example"u8.ToArray(), Nonce).IsValid);
        Assert.False(world.Verifier.Verify(s, Message, null, Nonce).IsValid);
        var anonymous = world.Host.Sign(Message, null, Nonce);
        Assert.False(world.Verifier.Verify(anonymous, Message, Basename, Nonce).IsValid);
    }

    [Fact]
    public void Verify_OtherIssuer_Rejected()
    {
        using var world = new EcdaaWorld(8);
        using var other = new EcdaaWorld(9);
        var s = world.Host.Sign(Message, Basename, Nonce);
        Assert.False(other.Verifier.Verify(s, Message, Basename, Nonce).IsValid);
    }

    [Fact]
    public void Verify_RogueKey_RejectedAndJoinRefused()
    {
        using var world = new EcdaaWorld(10, platforms: 2);
        var (rogue, host) = world.Platforms[1];
        var before = host.Sign(Message, null, Nonce);
        Assert.True(world.Verifier.Verify(before, Message, null, Nonce).IsValid);
        world.Issuer.RogueList.Add(rogue.ExtractSecretKey());
        var result = world.Verifier.Verify(host.Sign(Message, null, Nonce), Message, null, Nonce);
        Assert.False(result.IsValid);
        Assert.Contains("rogue", result.Reason, StringComparison.Ordinal);
        Assert.True(world.Verifier.Verify(world.Host.Sign(Message, null, Nonce), Message, null, Nonce).IsValid);
        Assert.Throws<InvalidOperationException>(() => world.Join(rogue));
    }

    [Fact]
    public void Verify_Counter_FourPairingsTwoMultiScalarMultiplications()
    {
        using var world = new EcdaaWorld(11);
        var s = world.Host.Sign(Message, Basename, Nonce);
        var counter = new EcdaaOpCounter();
        Assert.True(new EcdaaVerifier(world.Issuer.PublicKey, counter: counter).Verify(s, Message, Basename, Nonce).IsValid);
        Assert.Equal(new EcdaaOpCounts(4, 2, 3, 0, 4, 0, 2, 1), counter.Snapshot());
    }
}
