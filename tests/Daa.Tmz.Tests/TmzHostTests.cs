using System.Numerics;
using Snapshooter;
using Snapshooter.Xunit;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz.Tests;

public sealed class TmzHostTests
{
    [Theory]
    [InlineData("ristretto255")]
    [InlineData("p256")]
    public void JoinAndSign_SeededRandom_TranscriptMatchesSnapshot(string group)
    {
        var g = DaaGroup.FromName(group);
        using var random = DeterministicRandomSource.FromSeed(2026);
        using var issuer = new TmzIssuer(g, random);
        using var tpm = new SoftwareTmzTpm(g, random);
        issuer.TrustEndorsementKey(tpm.Endorsement.EkFingerprint);
        var host = new TmzHost(tpm, issuer.PublicKey, random);

        var challenge = issuer.StartJoin(tpm.Endorsement);
        var request = host.CreateJoinRequest(challenge);
        var response = issuer.CompleteJoin(request).Response!;
        Assert.True(host.CompleteJoin(response));
        var signature = host.Sign("message"u8, "basename"u8.ToArray(), "nonce"u8);
        using var verifier = issuer.CreateVerifier();
        Assert.True(verifier.Verify(signature, "message"u8, "basename"u8.ToArray(), "nonce"u8).IsValid);

        Snapshot.Match(
            new
            {
                Group = g.Name,
                Issuer = new { X0 = Hex(issuer.PublicKey.X0), X1 = Hex(issuer.PublicKey.X1), C = Hex(g, issuer.PublicKey.Proof.C) },
                Join = new
                {
                    NonceI = Convert.ToHexStringLower(challenge.Nonce),
                    Q = Hex(tpm.PublicKey),
                    C = Hex(g, request.C),
                    NonceT = Convert.ToHexStringLower(request.TpmNonce),
                    S = Hex(g, request.S),
                    U = Hex(response.Credential.U),
                    UPrime = Hex(response.Credential.UPrime),
                    F = Hex(response.Credential.F),
                    ProofC = Hex(g, response.Proof.C),
                },
                Sign = new
                {
                    Ur = Hex(signature.Ur),
                    Cf = Hex(signature.Cf),
                    CU = Hex(signature.CU),
                    J = Hex(signature.J),
                    N = Hex(signature.N),
                    C = Hex(g, signature.C),
                    NonceT = Convert.ToHexStringLower(signature.TpmNonce),
                    Sf = Hex(g, signature.Sf),
                    Sz = Hex(g, signature.Sz),
                    Sr = Hex(g, signature.Sr),
                },
            },
            SnapshotNameExtension.Create(group));
    }

    [Fact]
    public void Sign_BeforeJoin_Throws()
    {
        using var random = DeterministicRandomSource.FromSeed(1);
        using var issuer = new TmzIssuer(DaaGroup.P256, random);
        using var tpm = new SoftwareTmzTpm(DaaGroup.P256, random);
        var host = new TmzHost(tpm, issuer.PublicKey, random);
        Assert.Throws<InvalidOperationException>(() => host.Sign("m"u8, null, "n"u8));
    }

    [Fact]
    public void Constructor_IssuerKeyWithBadProof_Throws()
    {
        using var random = DeterministicRandomSource.FromSeed(1);
        using var issuer = new TmzIssuer(DaaGroup.Ristretto255, random);
        using var tpm = new SoftwareTmzTpm(DaaGroup.Ristretto255, random);
        var bad = issuer.PublicKey with { Proof = issuer.PublicKey.Proof with { C = issuer.PublicKey.Proof.C + 1 } };
        Assert.Throws<ArgumentException>(() => new TmzHost(tpm, bad, random));
        using var p256 = new SoftwareTmzTpm(DaaGroup.P256, random);
        Assert.Throws<ArgumentException>(() => new TmzHost(p256, issuer.PublicKey, random));
    }

    private static string Hex(DaaPoint p) => Convert.ToHexStringLower(p.Encoding);

    private static string Hex(DaaGroup g, BigInteger s) => Convert.ToHexStringLower(g.EncodeScalar(s));
}
