using System.Buffers.Binary;
using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.EC;
using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class EcdaaCommandsTests
{
    private static readonly X9ECParameters P256 = CustomNamedCurves.GetByName("P-256");
    private static readonly byte[] Digest = SHA256.HashData("c'"u8);

    internal static TpmtPublic EcdaaTemplate() => TpmTemplates.SigningEccP256(new TpmtScheme(TpmAlgId.Ecdaa, TpmAlgId.Sha256, 0));

    [Fact]
    public void Commit_NoPoints_ESchnorrVerifiesAgainstG()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());

        var commit = client.Commit(key.Handle);
        Assert.Empty(commit.K.X);
        Assert.Empty(commit.L.X);
        var signature = client.SignEcdaa(key.Handle, Digest, commit.Counter);

        Assert.Equal(TpmAlgId.Ecdaa, signature.SigAlg);
        var c = Challenge(signature.SignatureR, Digest);
        var s = new BcBigInteger(1, signature.SignatureS);
        var q = Point((EccPoint)key.Public.Unique);

        // s·G = E + c·Q
        Assert.Equal(P256.G.Multiply(s).Normalize(), Point(commit.E).Add(q.Multiply(c)).Normalize());
    }

    [Fact]
    public void Commit_P1AndP2_KLAndEConsistentWithTheKey()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        var q = Point((EccPoint)key.Public.Unique);
        var (s2, y2, p2) = HashToCurve("basename"u8.ToArray());
        var p1 = P256.G.Multiply(BcBigInteger.ValueOf(12345)).Normalize();

        var commit = client.Commit(key.Handle, Encode(p1), s2, y2);
        var signature = client.SignEcdaa(key.Handle, Digest, commit.Counter);
        var c = Challenge(signature.SignatureR, Digest);
        var s = new BcBigInteger(1, signature.SignatureS);

        // s·P1 = E + c·f·P1 needs f·P1 = 12345·Q; s·P2 = L + c·K.
        Assert.Equal(p1.Multiply(s).Normalize(), Point(commit.E).Add(q.Multiply(c.Multiply(BcBigInteger.ValueOf(12345)))).Normalize());
        Assert.Equal(p2.Multiply(s).Normalize(), Point(commit.L).Add(Point(commit.K).Multiply(c)).Normalize());
    }

    [Fact]
    public void Commit_Counter_IncrementsFromZero()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        Assert.Equal(0, client.Commit(key.Handle).Counter);
        Assert.Equal(1, client.Commit(key.Handle).Counter);
        Assert.Equal(2, client.Commit(key.Handle).Counter);
    }

    [Fact]
    public void SignEcdaa_CommitmentUsedTwice_Value()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        var commit = client.Commit(key.Handle);
        client.SignEcdaa(key.Handle, Digest, commit.Counter);
        Assert.Equal(TpmRc.Value, ErrorOf(() => client.SignEcdaa(key.Handle, Digest, commit.Counter)));
        Assert.Equal(TpmRc.Value, ErrorOf(() => client.SignEcdaa(key.Handle, Digest, 77)));
    }

    [Fact]
    public void SignEcdaa_CountOutsideTheWindow_Value()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        var first = client.Commit(key.Handle);

        // 128 later the same bit is set again by a newer commitment: the old count (upper bits) no longer matches.
        TpmCommitResult last = first;
        for (var i = 0; i < 128; i++)
        {
            last = client.Commit(key.Handle);
        }

        Assert.Equal(128, last.Counter);
        Assert.Equal(TpmRc.Value, ErrorOf(() => client.SignEcdaa(key.Handle, Digest, first.Counter)));
        client.SignEcdaa(key.Handle, Digest, last.Counter);
    }

    [Fact]
    public void SignEcdaa_OutOfOrderCommitments_BothSign()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        var q = Point((EccPoint)key.Public.Unique);
        var a = client.Commit(key.Handle);
        var b = client.Commit(key.Handle);
        foreach (var commit in new[] { b, a })
        {
            var signature = client.SignEcdaa(key.Handle, Digest, commit.Counter);
            var c = Challenge(signature.SignatureR, Digest);
            Assert.Equal(P256.G.Multiply(new BcBigInteger(1, signature.SignatureS)).Normalize(), Point(commit.E).Add(q.Multiply(c)).Normalize());
        }
    }

    [Fact]
    public void Commit_EcdsaKey_SchemeHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
        Assert.Equal(H(TpmRc.Scheme, 1), ErrorOf(() => client.Commit(key.Handle)));
    }

    [Fact]
    public void Commit_RsaKey_KeyHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningRsa2048());
        Assert.Equal(H(TpmRc.Key, 1), ErrorOf(() => client.Commit(key.Handle)));
    }

    [Fact]
    public void Commit_S2WithoutY2_SizeParameter3()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        Assert.Equal(P(TpmRc.Size, 3), ErrorOf(() => client.Commit(key.Handle, s2: [1, 2, 3])));
    }

    [Fact]
    public void Commit_P2NotOnCurve_EccPointParameter2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        var (s2, y2, _) = HashToCurve("basename"u8.ToArray());
        y2[^1] ^= 1;
        Assert.Equal(P(TpmRc.EccPoint, 2), ErrorOf(() => client.Commit(key.Handle, s2: s2, y2: y2)));
    }

    [Fact]
    public void Commit_P1NotOnCurve_EccPointParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        var bad = Encode(P256.G);
        bad.Y[^1] ^= 1;
        Assert.Equal(P(TpmRc.EccPoint, 1), ErrorOf(() => client.Commit(key.Handle, bad)));
    }

    [Fact]
    public void Commit_ZeroSizedP1_SizeParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        var rc = Execute(tpm, TpmCc.Commit, [key.Handle], 1, w =>
        {
            w.WriteU16(0);
            w.WriteU16(0);
            w.WriteU16(0);
        });
        Assert.Equal(P(TpmRc.Size, 1), rc);
    }

    [Fact]
    public void Startup_TpmReset_ForgetsOutstandingCommitments()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        var commit = client.Commit(key.Handle);
        tpm.PowerOff();
        tpm.PowerOn();
        var again = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        Assert.Equal(TpmRc.Value, ErrorOf(() => client.SignEcdaa(again.Handle, Digest, commit.Counter)));
        Assert.Equal(0, client.Commit(again.Handle).Counter);
    }

    [Fact]
    public void SignEcdaa_CommitBeforeShutdownStateAndResume_SignsExactlyOnce()
    {
        // Part 1 §C.4 / reference CryptStartup: commitNonce, commitCounter and commitArray are
        // reset data; they survive Shutdown(STATE) + Startup(STATE) (here through the state image).
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 21 });
        var client = new Tpm2(tpm);
        client.Startup();
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        var q = Point((EccPoint)key.Public.Unique);
        var commit = client.Commit(key.Handle);
        Assert.Equal(1, client.Commit(key.Handle).Counter);

        client.Shutdown(TpmSu.State);
        tpm.PowerOff();
        tpm.PowerOn();
        client.Startup(TpmSu.State);
        var again = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        Assert.Equal(key.Name, again.Name);

        // The pre-shutdown commitment signs with the same r: s·G = E + c·Q with E from before.
        var signature = client.SignEcdaa(again.Handle, Digest, commit.Counter);
        var c = Challenge(signature.SignatureR, Digest);
        Assert.Equal(P256.G.Multiply(new BcBigInteger(1, signature.SignatureS)).Normalize(), Point(commit.E).Add(q.Multiply(c)).Normalize());

        // ... exactly once, and the counter goes on from where it was (no count is handed out twice).
        Assert.Equal(TpmRc.Value, ErrorOf(() => client.SignEcdaa(again.Handle, Digest, commit.Counter)));
        Assert.Equal(2, client.Commit(again.Handle).Counter);
    }

    [Fact]
    public void SignEcdaa_CommitBeforeShutdownStateAndRestart_SignsExactlyOnce()
    {
        // Startup(CLEAR) after Shutdown(STATE) is a TPM Restart: the reset data, commit state included, stays.
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 22 });
        var client = new Tpm2(tpm);
        client.Startup();
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        var commit = client.Commit(key.Handle);

        client.Shutdown(TpmSu.State);
        tpm.PowerOff();
        tpm.PowerOn();
        client.Startup(TpmSu.Clear);
        var again = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());

        client.SignEcdaa(again.Handle, Digest, commit.Counter);
        Assert.Equal(TpmRc.Value, ErrorOf(() => client.SignEcdaa(again.Handle, Digest, commit.Counter)));
        Assert.Equal(1, client.Commit(again.Handle).Counter);
    }

    [Fact]
    public void SignEcdaa_CommitBeforeShutdownClear_Value()
    {
        // Shutdown(CLEAR) then Startup(CLEAR) is a TPM Reset: new commit nonce, counter 0, no commitment.
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 23 });
        var client = new Tpm2(tpm);
        client.Startup();
        var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
        var commit = client.Commit(key.Handle);

        client.Shutdown(TpmSu.Clear);
        tpm.PowerOff();
        tpm.PowerOn();
        client.Startup(TpmSu.Clear);
        var again = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());

        Assert.Equal(TpmRc.Value, ErrorOf(() => client.SignEcdaa(again.Handle, Digest, commit.Counter)));
        Assert.Equal(0, client.Commit(again.Handle).Counter);
    }

    [Fact]
    public void SignEcdaa_CommitThenStateImageWithoutShutdown_Value()
    {
        // ExportState of a running TPM has no reset data: the restored engine starts with a TPM Reset.
        byte[] image;
        ushort count;
        using (var tpm = NewTpm(seed: 24))
        {
            var client = new Tpm2(tpm);
            var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
            count = client.Commit(key.Handle).Counter;
            image = tpm.ExportState();
        }

        using var restored = SoftwareTpm.FromState(image, new SoftwareTpmOptions { AutoStartup = true });
        var again = new Tpm2(restored);
        var handle = again.CreatePrimary(TpmRh.Owner, EcdaaTemplate()).Handle;
        Assert.Equal(TpmRc.Value, ErrorOf(() => again.SignEcdaa(handle, Digest, count)));
    }

    [Fact]
    public void SignEcdaa_CommitThenExportLiveState_SignsOnceOnTheRestoredEngine()
    {
        // vTPM migration: the live image carries the outstanding commitment to the destination.
        byte[] image;
        ushort count;
        using (var tpm = NewTpm(seed: 25))
        {
            var client = new Tpm2(tpm);
            var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
            count = client.Commit(key.Handle).Counter;
            image = tpm.ExportLiveState();
        }

        using var restored = SoftwareTpm.FromState(image, new SoftwareTpmOptions { AutoStartup = false });
        var again = new Tpm2(restored);
        again.Startup(TpmSu.State);
        var handle = again.CreatePrimary(TpmRh.Owner, EcdaaTemplate()).Handle;
        again.SignEcdaa(handle, Digest, count);
        Assert.Equal(TpmRc.Value, ErrorOf(() => again.SignEcdaa(handle, Digest, count)));
    }

    [Fact]
    public void FromState_Version2LiveImage_ResumesWithoutCommitments()
    {
        // A version-2 image (before the commit state was saved) still loads; its commitments are gone.
        byte[] image;
        ushort count;
        using (var tpm = NewTpm(seed: 26))
        {
            var client = new Tpm2(tpm);
            var key = client.CreatePrimary(TpmRh.Owner, EcdaaTemplate());
            count = client.Commit(key.Handle).Counter;
            image = tpm.ExportLiveState();
        }

        // Version 3 appended { present (u8) = 1, TPM2B commitNonce (32), counter (u64), array (16) } to the reset data.
        const int CommitState = 1 + 2 + 32 + 8 + 16;
        var body = image[..^(32 + CommitState)];
        Assert.Equal(3, BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(8)));
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(8), 2);
        byte[] version2 = [.. body, .. SHA256.HashData(body)];

        using var restored = SoftwareTpm.FromState(version2, new SoftwareTpmOptions { AutoStartup = false });
        var again = new Tpm2(restored);
        again.Startup(TpmSu.State);
        var handle = again.CreatePrimary(TpmRh.Owner, EcdaaTemplate()).Handle;
        Assert.Equal(TpmRc.Value, ErrorOf(() => again.SignEcdaa(handle, Digest, count)));
        var fresh = again.Commit(handle);
        again.SignEcdaa(handle, Digest, fresh.Counter);
    }

    internal static (byte[] S2, byte[] Y2, BcPoint P2) HashToCurve(byte[] seed)
    {
        var p = P256.Curve.Field.Characteristic;
        for (byte i = 0; ; i++)
        {
            byte[] s2 = [.. seed, i];
            var x = new BcBigInteger(1, SHA256.HashData(s2)).Mod(p);
            var fx = P256.Curve.FromBigInteger(x);
            var root = fx.Square().Add(P256.Curve.A).Multiply(fx).Add(P256.Curve.B).Sqrt();
            if (root is not null)
            {
                var point = P256.Curve.CreatePoint(x, root.ToBigInteger());
                return (s2, root.GetEncoded(), point);
            }
        }
    }

    private static BcBigInteger Challenge(byte[] nonce, byte[] digest) => new BcBigInteger(1, SHA256.HashData([.. nonce, .. digest])).Mod(P256.N);

    private static BcPoint Point(EccPoint p) => P256.Curve.CreatePoint(new BcBigInteger(1, p.X), new BcBigInteger(1, p.Y));

    private static EccPoint Encode(BcPoint p)
    {
        var n = p.Normalize();
        return new EccPoint(n.AffineXCoord.GetEncoded(), n.AffineYCoord.GetEncoded());
    }
}
