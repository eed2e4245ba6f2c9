using FsCheck.Xunit;

namespace TrustStack.Daa.Tmz.Tests;

public sealed class TmzVerifierTests
{
    private static readonly byte[] Message = "attestation report"u8.ToArray();
    private static readonly byte[] Nonce = "verifier nonce"u8.ToArray();
    private static readonly byte[] Basename = "verifier.example"u8.ToArray();

    public static TheoryData<string> Groups => new() { "ristretto255", "p256" };

    [Property(MaxTest = 8)]
    public bool Verify_RandomInputs_Accepts(ulong seed, byte[] message, byte[] nonce, bool linkable, bool ristretto)
    {
        using var world = new TmzWorld(ristretto ? DaaGroup.Ristretto255 : DaaGroup.P256, seed);
        var basename = linkable ? message : null;
        var signature = world.Host.Sign(message, basename, nonce);
        return world.Verifier.Verify(signature, message, basename, nonce).IsValid;
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Link_SameBasename_Linkable(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 1, platforms: 2);
        var first = world.Host.Sign(Message, Basename, Nonce);
        var second = world.Host.Sign("other"u8, Basename, "n2"u8);
        var otherPlatform = world.Platforms[1].Host.Sign(Message, Basename, Nonce);
        Assert.True(world.Verifier.Verify(second, "other"u8, Basename, "n2"u8).IsValid);
        Assert.True(TmzVerifier.Link(first, second));
        Assert.False(TmzVerifier.Link(first, otherPlatform));
        Assert.NotEqual(first.Ur, second.Ur);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Link_NoBasename_NotLinkableByN(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 2);
        var first = world.Host.Sign(Message, null, Nonce);
        var second = world.Host.Sign(Message, null, Nonce);
        Assert.True(world.Verifier.Verify(first, Message, null, Nonce).IsValid);
        Assert.True(world.Verifier.Verify(second, Message, null, Nonce).IsValid);
        Assert.False(TmzVerifier.Link(first, second));
        Assert.NotEqual(first.N, second.N);
        Assert.NotEqual(first.J, second.J);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Verify_ForgedSignatureWithoutCredential_Rejected(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 3);
        var g = world.Group;

        // The attacker has a TPM but no credential: it invents (U, U', F) with U' random.
        using var tpm = new SoftwareTmzTpm(g, world.Random);
        var host = new TmzHost(tpm, world.Issuer.PublicKey, world.Random);
        var b = g.RandomScalar(world.Random);
        var u = g.Multiply(g.Generator, b);
        host.UseCredential(new TmzCredential(u, g.Multiply(g.Generator, g.RandomScalar(world.Random)), g.Multiply(tpm.PublicKey, b)));
        var forged = host.Sign(Message, Basename, Nonce);

        var result = world.Verifier.Verify(forged, Message, Basename, Nonce);
        Assert.False(result.IsValid);
        Assert.Contains("does not verify", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Verify_TamperedField_Rejected(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 4);
        var g = world.Group;
        var s = world.Host.Sign(Message, Basename, Nonce);
        var other = g.Multiply(g.H, 7);
        TmzSignature[] tampered =
        [
            s with { Ur = other }, s with { Cf = other }, s with { CU = other }, s with { N = other },
            s with { C = g.Reduce(s.C + 1) }, s with { Sf = g.Reduce(s.Sf + 1) }, s with { Sz = g.Reduce(s.Sz + 1) },
            s with { Sr = g.Reduce(s.Sr + 1) }, s with { TpmNonce = [.. s.TpmNonce, 0] },
        ];
        Assert.All(tampered, t => Assert.False(world.Verifier.Verify(t, Message, Basename, Nonce).IsValid));
        Assert.False(world.Verifier.Verify(s, "tampered message"u8, Basename, Nonce).IsValid);
        Assert.True(world.Verifier.Verify(s, Message, Basename, Nonce).IsValid);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Verify_WrongVerifierNonce_Rejected(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 5);
        var s = world.Host.Sign(Message, null, Nonce);
        Assert.False(world.Verifier.Verify(s, Message, null, "replayed elsewhere"u8).IsValid);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Verify_WrongBasename_Rejected(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 6);
        var s = world.Host.Sign(Message, Basename, Nonce);
        var result = world.Verifier.Verify(s, Message, "another.example"u8.ToArray(), Nonce);
        Assert.False(result.IsValid);
        Assert.Contains("basename", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Verify_CredentialFromAnotherIssuerKey_Rejected(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 7);
        using var other = new TmzWorld(world.Group, 8);
        var s = other.Host.Sign(Message, Basename, Nonce);
        Assert.True(other.Verifier.Verify(s, Message, Basename, Nonce).IsValid);
        Assert.False(world.Verifier.Verify(s, Message, Basename, Nonce).IsValid);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Verify_RogueTpmKeyListed_Rejected(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 9, platforms: 2);
        var rogue = (SoftwareTmzTpm)world.Platforms[0].Tpm;
        var before = world.Host.Sign(Message, null, Nonce);
        Assert.True(world.Verifier.Verify(before, Message, null, Nonce).IsValid);

        world.Issuer.RogueList.Add(rogue.ExtractSecretKey());

        var linkable = world.Host.Sign(Message, Basename, Nonce);
        var anonymous = world.Host.Sign(Message, null, Nonce);
        Assert.Contains("rogue", world.Verifier.Verify(linkable, Message, Basename, Nonce).Reason, StringComparison.Ordinal);
        Assert.False(world.Verifier.Verify(anonymous, Message, null, Nonce).IsValid);
        Assert.True(world.Verifier.Verify(world.Platforms[1].Host.Sign(Message, null, Nonce), Message, null, Nonce).IsValid);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Verify_HostSigningWithoutItsTpm_Rejected(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 10);

        // A host that copied the credential but signs with another TPM (it does not hold f).
        using var otherTpm = new SoftwareTmzTpm(world.Group, world.Random);
        var thief = new TmzHost(otherTpm, world.Issuer.PublicKey, world.Random);
        thief.UseCredential(world.Host.Credential!);
        var s = thief.Sign(Message, Basename, Nonce);
        Assert.False(world.Verifier.Verify(s, Message, Basename, Nonce).IsValid);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Verify_IdentityElements_Rejected(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 11);
        var g = world.Group;
        var s = world.Host.Sign(Message, null, Nonce);

        // With Ur = identity every credential check is trivially satisfied; it must be refused first.
        var trivial = s with { Ur = g.Identity };
        Assert.Contains("identity", world.Verifier.Verify(trivial, Message, null, Nonce).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ElementFromAnotherGroup_Rejected()
    {
        using var world = new TmzWorld(DaaGroup.P256, 12);
        var s = world.Host.Sign(Message, null, Nonce);
        var wrong = s with { Cf = DaaGroup.Ristretto255.H };
        Assert.False(world.Verifier.Verify(wrong, Message, null, Nonce).IsValid);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Sign_OpCounts_MatchTheConstruction(string group)
    {
        using var world = new TmzWorld(DaaGroup.FromName(group), 13);
        world.HostOps.Reset();
        world.TpmOps.Reset();
        world.VerifierOps.Reset();
        var s = world.Host.Sign(Message, Basename, Nonce);
        world.Verifier.Verify(s, Message, Basename, Nonce);

        // daa.md: TPM sign 3, Host sign 8, Verify 10 scalar multiplications.
        Assert.Equal(3, world.TpmOps.ScalarMultiplications);
        Assert.Equal(8, world.HostOps.ScalarMultiplications);
        Assert.Equal(10, world.VerifierOps.ScalarMultiplications);
    }
}
