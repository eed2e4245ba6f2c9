using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC;
using TrustStack.Tpm.Hardware;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// The pairing-friendly curve TPM_ECC_BN_P256 (TCG Algorithm Registry, curve 0x0010; ISO/IEC 15946-5
/// BN P256): G1 = E(Fp): y² = x³ + 3 with generator P1 = (1, 2), G2 ⊂ E'(Fp2): y² = x³ + 3(1 + i)
/// with the TCG generator P2, GT ⊂ Fp12*, all of prime order r, and the optimal ate pairing
/// <see cref="Pair"/>. G1 uses BouncyCastle's <c>FpCurve</c>; Fp2/Fp6/Fp12, G2 and the pairing are
/// written here because no library this project can use implements a pairing.
/// </summary>
public static class BnP256
{
    private static readonly BcBigInteger BcP = new(1, Fp.Modulus.ToByteArray(isUnsigned: true, isBigEndian: true));

    static BnP256()
    {
        var order = new BcBigInteger(1, BnPairing.R.ToByteArray(isUnsigned: true, isBigEndian: true));
        Curve = new FpCurve(BcP, BcBigInteger.Zero, BcBigInteger.Three, order, BcBigInteger.One);
        G1Generator = new BnG1Point(Curve.CreatePoint(BcBigInteger.One, BcBigInteger.Two));
        G1Identity = new BnG1Point(Curve.Infinity);
        G2Generator = new BnG2Point(G2Jacobian.FromAffine(
            Fp2.FromBigIntegers(Hex("FE0C3350B4C96C2028560F577C28913ACE1C539A12BF843CD22616B689C09EFB"), Hex("4EA66057738AC054DB5AE1C637D813B924DD78E287D03589D269ED34A37E6A2B")),
            Fp2.FromBigIntegers(Hex("8FDFB9183ABA4D19D06EE4E9DC23664D1D1141858536B239EA1F7959EFF70814"), Hex("FAAB1C432C742E3D03F74C15C4F2F1FF818FA77A907D71CEF316ACCA64262B78"))));
        G2Identity = new BnG2Point(G2Jacobian.Infinity);
    }

    /// <summary>The TPM curve identifier TPM_ECC_BN_P256.</summary>
    public const ushort TpmCurveId = 0x0010;

    /// <summary>The field prime p = 36u⁴ + 36u³ + 24u² + 6u + 1.</summary>
    public static BigInteger FieldPrime => Fp.Modulus;

    /// <summary>The group order r = n = 36u⁴ + 36u³ + 18u² + 6u + 1 (of G1, G2 and GT).</summary>
    public static BigInteger Order => BnPairing.R;

    /// <summary>The BN parameter u = −0x6882F5C030B0A801.</summary>
    public static BigInteger U => BnPairing.U;

    /// <summary>P1 = (1, 2).</summary>
    public static BnG1Point G1Generator { get; }

    /// <summary>The identity of G1.</summary>
    public static BnG1Point G1Identity { get; }

    /// <summary>The TCG generator P2 of G2.</summary>
    public static BnG2Point G2Generator { get; }

    /// <summary>The identity of G2.</summary>
    public static BnG2Point G2Identity { get; }

    internal static FpCurve Curve { get; }

    /// <summary>The optimal ate pairing e(P, Q).</summary>
    /// <param name="p">P in G1.</param>
    /// <param name="q">Q in G2.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>e(P, Q) in GT.</returns>
    public static BnGtElement Pair(BnG1Point p, BnG2Point q, EcdaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(q);
        counter?.Pairing();
        if (p.IsIdentity)
        {
            return BnGtElement.One;
        }

        if (q.IsIdentity)
        {
            return BnGtElement.One;
        }

        var (x, y) = p.AffineFp();
        return new BnGtElement(BnPairing.PairProduct([(x, y, q.Prepared)]));
    }

    /// <summary>
    /// Π e(Pᵢ, Qᵢ), a multi-pairing: one Miller loop over all pairs (shared squarings) and ONE final
    /// exponentiation. The counter records one pairing per pair (the Miller loops; the final exponentiation
    /// is shared). Each Qᵢ keeps its Miller-loop lines, so pairing the same G2 point again is cheaper.
    /// </summary>
    /// <param name="pairs">The (P, Q) pairs, P in G1, Q in G2.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>The product in GT (1 for no pairs).</returns>
    public static BnGtElement PairProduct(IEnumerable<(BnG1Point P, BnG2Point Q)> pairs, EcdaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var prepared = new List<(Fp, Fp, G2Prepared)>();
        foreach (var (p, q) in pairs)
        {
            ArgumentNullException.ThrowIfNull(p);
            ArgumentNullException.ThrowIfNull(q);
            counter?.Pairing();
            if (!p.IsIdentity && !q.IsIdentity)
            {
                var (x, y) = p.AffineFp();
                prepared.Add((x, y, q.Prepared));
            }
        }

        return new BnGtElement(BnPairing.PairProduct(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(prepared)));
    }

    /// <summary>A uniformly random scalar in [1, r − 1].</summary>
    /// <param name="random">The randomness source.</param>
    /// <returns>The scalar.</returns>
    public static BigInteger RandomScalar(IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Span<byte> buffer = stackalloc byte[48];
        while (true)
        {
            random.Fill(buffer);
            var value = new BigInteger(buffer, isUnsigned: true, isBigEndian: true) % Order;
            buffer.Clear();
            if (!value.IsZero)
            {
                return value;
            }
        }
    }

    /// <summary>Reduces into [0, r).</summary>
    /// <param name="value">Any integer.</param>
    /// <returns>value mod r.</returns>
    public static BigInteger Reduce(BigInteger value)
    {
        var r = value % Order;
        return r.Sign < 0 ? r + Order : r;
    }

    /// <summary>A scalar as 32 big-endian octets (reduced first).</summary>
    /// <param name="scalar">The scalar.</param>
    /// <returns>The encoding.</returns>
    public static byte[] EncodeScalar(BigInteger scalar)
    {
        var bytes = new byte[32];
        var v = Reduce(scalar);
        v.TryWriteBytes(bytes, out var written, isUnsigned: true, isBigEndian: true);
        if (written < 32)
        {
            bytes.AsSpan(0, written).CopyTo(bytes.AsSpan(32 - written));
            bytes.AsSpan(0, 32 - written).Clear();
        }

        return bytes;
    }

    /// <summary>
    /// Hash to G1 in the form TPM2_Commit accepts (TPM 2.0 Part 3 §19.2: x = H(s2) mod p, y = y2):
    /// s2 = SHA-256(len ‖ domain ‖ len ‖ data) ‖ i (UINT32 big-endian), the first i for which
    /// x³ + 3 is a square; y is the even root. The cofactor is 1, so the point is in G1.
    /// </summary>
    /// <param name="domain">The domain-separation label.</param>
    /// <param name="data">The input.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>The point with its (s2, y2).</returns>
    public static BnHashedG1Point HashToG1(string domain, ReadOnlySpan<byte> data, EcdaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(domain);
        counter?.HashToGroup();
        byte[] seed;
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            Span<byte> length = stackalloc byte[4];
            var label = System.Text.Encoding.UTF8.GetBytes(domain);
            BinaryPrimitives.WriteUInt32BigEndian(length, checked((uint)label.Length));
            hash.AppendData(length);
            hash.AppendData(label);
            BinaryPrimitives.WriteUInt32BigEndian(length, checked((uint)data.Length));
            hash.AppendData(length);
            hash.AppendData(data);
            seed = hash.GetHashAndReset();
        }

        var s2 = new byte[seed.Length + 4];
        seed.CopyTo(s2, 0);
        for (uint i = 0; ; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(s2.AsSpan(seed.Length), i);
            var x = new BigInteger(SHA256.HashData(s2), isUnsigned: true, isBigEndian: true) % Fp.Modulus;
            var fx = Fp.FromBigInteger(x);
            if ((fx.Square() * fx) + Fp.FromBigInteger(3) is var rhs && rhs.Sqrt() is not Fp root)
            {
                continue;
            }

            var y = root.ToBigInteger();
            if (!y.IsEven)
            {
                y = Fp.Modulus - y;
            }

            var point = BnG1Point.FromAffine(x, y);
            var y2 = new byte[32];
            Fp.FromBigInteger(y).WriteBigEndian(y2);
            return new BnHashedG1Point(point, (byte[])s2.Clone(), y2);
        }
    }

    /// <summary>SHA-256(nT ‖ c') mod r: the TPM 2.0 ECDAA challenge (TPM 2.0 Part 1 §C.4), what TPM2_Sign computes.</summary>
    /// <param name="nonce">nT.</param>
    /// <param name="digest">c'.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>c.</returns>
    public static BigInteger TpmChallenge(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> digest, EcdaaOpCounter? counter = null)
    {
        counter?.Hash();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(nonce);
        hash.AppendData(digest);
        return new BigInteger(hash.GetHashAndReset(), isUnsigned: true, isBigEndian: true) % Order;
    }

    internal static BcBigInteger ToBouncy(BigInteger value) => new(1, Reduce(value).ToByteArray(isUnsigned: true, isBigEndian: true));

    internal static BcBigInteger ToBouncyField(BigInteger value) => new(1, value.ToByteArray(isUnsigned: true, isBigEndian: true));

    private static BigInteger Hex(string hex) => BigInteger.Parse("0" + hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}

/// <summary>A G1 point hashed from data, with the (s2, y2) TPM2_Commit takes to compute it.</summary>
/// <param name="Point">J.</param>
/// <param name="S2">s2 with x(J) = SHA-256(s2) mod p.</param>
/// <param name="Y2">y(J), 32 octets.</param>
public sealed record BnHashedG1Point(BnG1Point Point, byte[] S2, byte[] Y2);
