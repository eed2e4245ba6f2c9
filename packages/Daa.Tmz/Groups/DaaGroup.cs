using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// A prime-order group TMZ-DAA runs in: a closed set of singletons (<see cref="Ristretto255"/>,
/// <see cref="P256"/>). Scalars are integers modulo <see cref="Order"/>; elements are
/// <see cref="DaaPoint"/>s in canonical encoding. Every operation takes an optional
/// <see cref="DaaOpCounter"/> that records it.
/// </summary>
public abstract class DaaGroup
{
    private DaaPoint? _h;

    private protected DaaGroup()
    {
    }

    /// <summary>ristretto255 (RFC 9496) through libsodium.</summary>
    public static DaaGroup Ristretto255 { get; } = new Ristretto255Group();

    /// <summary>NIST P-256 (secp256r1) through BouncyCastle; the curve a TPM 2.0 ECDAA key uses.</summary>
    public static DaaGroup P256 { get; } = new P256Group();

    /// <summary>Both groups.</summary>
    public static IReadOnlyList<DaaGroup> All { get; } = [Ristretto255, P256];

    /// <summary>The group's name (<c>ristretto255</c>, <c>p256</c>).</summary>
    public abstract string Name { get; }

    /// <summary>The prime group order q.</summary>
    public abstract BigInteger Order { get; }

    /// <summary>Octets of an encoded scalar.</summary>
    public int ScalarSize => 32;

    /// <summary>Octets of an encoded element.</summary>
    public abstract int PointSize { get; }

    /// <summary>Bits of the field the group is built on (for the cost model).</summary>
    public abstract int FieldBits { get; }

    /// <summary>The standard generator G.</summary>
    public abstract DaaPoint Generator { get; }

    /// <summary>The neutral element.</summary>
    public abstract DaaPoint Identity { get; }

    /// <summary>The second generator H = HashToGroup("TMZ-DAA/generator", "H"); nobody knows log_G H.</summary>
    public DaaPoint H => _h ??= FixedBase(HashToGroup("TMZ-DAA/generator", "H"u8, null));

    /// <summary>Looks a group up by name (<c>ristretto255</c>, <c>p256</c>).</summary>
    /// <param name="name">The name, case-insensitive.</param>
    /// <returns>The group.</returns>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static DaaGroup FromName(string name) => All.FirstOrDefault(g => string.Equals(g.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown DAA group '{name}' (ristretto255 or p256)", nameof(name));

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Decodes a canonical encoding, rejecting anything that is not a group element.</summary>
    /// <param name="encoding">The encoding.</param>
    /// <returns>The element.</returns>
    /// <exception cref="CryptographicException">Not a canonical encoding of an element.</exception>
    public abstract DaaPoint Decode(ReadOnlySpan<byte> encoding);

    /// <summary>k·P.</summary>
    /// <param name="point">P.</param>
    /// <param name="scalar">k.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>The product.</returns>
    public DaaPoint Multiply(DaaPoint point, BigInteger scalar, DaaOpCounter? counter = null)
    {
        Check(point);
        counter?.Mul(1, TakesFixedBasePath(point) ? 1 : 0);
        return MultiplyCore(point, Reduce(scalar));
    }

    /// <summary>Σ kᵢ·Pᵢ, with multi-scalar multiplication where the back end has it.</summary>
    /// <param name="terms">The (Pᵢ, kᵢ) pairs; at least one.</param>
    /// <param name="counter">Optional counter (n scalar multiplications, n − 1 additions).</param>
    /// <returns>The sum.</returns>
    public DaaPoint MultiplyAdd(ReadOnlySpan<(DaaPoint Point, BigInteger Scalar)> terms, DaaOpCounter? counter = null)
    {
        if (terms.IsEmpty)
        {
            throw new ArgumentException("at least one term", nameof(terms));
        }

        var points = new DaaPoint[terms.Length];
        var scalars = new BigInteger[terms.Length];
        for (var i = 0; i < terms.Length; i++)
        {
            Check(terms[i].Point);
            points[i] = terms[i].Point;
            scalars[i] = Reduce(terms[i].Scalar);
        }

        counter?.Mul(terms.Length, terms.Length == 1 ? (TakesFixedBasePath(points[0]) ? 1 : 0) : FixedBaseTerms(points));
        counter?.Add(terms.Length - 1);
        return terms.Length == 1 ? MultiplyCore(points[0], scalars[0]) : MultiplyAddCore(points, scalars);
    }

    /// <summary>P + Q.</summary>
    /// <param name="left">P.</param>
    /// <param name="right">Q.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>The sum.</returns>
    public DaaPoint Add(DaaPoint left, DaaPoint right, DaaOpCounter? counter = null)
    {
        Check(left);
        Check(right);
        counter?.Add();
        return AddCore(left, right, negateRight: false);
    }

    /// <summary>P − Q.</summary>
    /// <param name="left">P.</param>
    /// <param name="right">Q.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>The difference.</returns>
    public DaaPoint Subtract(DaaPoint left, DaaPoint right, DaaOpCounter? counter = null)
    {
        Check(left);
        Check(right);
        counter?.Add();
        return AddCore(left, right, negateRight: true);
    }

    /// <summary>
    /// Hash to scalar: SHA-256 over the length-prefixed (UINT32 big-endian) domain label and items,
    /// reduced modulo q.
    /// </summary>
    /// <param name="domain">The domain-separation label.</param>
    /// <param name="items">The encoded items.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>The scalar.</returns>
    public BigInteger HashToScalar(string domain, IEnumerable<byte[]> items, DaaOpCounter? counter = null) => ScalarFromDigest(HashItems(domain, items, counter));

    /// <summary>The 32-octet digest <see cref="HashToScalar"/> reduces (the c' a TPM signs).</summary>
    /// <param name="domain">The domain-separation label.</param>
    /// <param name="items">The encoded items.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>SHA-256 of the length-prefixed encoding.</returns>
    public static byte[] HashItems(string domain, IEnumerable<byte[]> items, DaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(items);
        counter?.Hash();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendPrefixed(hash, System.Text.Encoding.UTF8.GetBytes(domain));
        foreach (var item in items)
        {
            AppendPrefixed(hash, item);
        }

        return hash.GetHashAndReset();
    }

    /// <summary>
    /// The TPM 2.0 ECDAA challenge c = SHA-256(nT ‖ c') mod q (TPM 2.0 Part 1 §C.4; no length prefixes,
    /// exactly what TPM2_Sign computes).
    /// </summary>
    /// <param name="nonce">nT as the TPM returned it.</param>
    /// <param name="digest">c'.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>c.</returns>
    public BigInteger TpmChallenge(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> digest, DaaOpCounter? counter = null)
    {
        counter?.Hash();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(nonce);
        hash.AppendData(digest);
        return ScalarFromDigest(hash.GetHashAndReset());
    }

    /// <summary>Hash to group with domain separation (deterministic; nobody learns a discrete log).</summary>
    /// <param name="domain">The domain-separation label.</param>
    /// <param name="data">The input.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>The element.</returns>
    public DaaPoint HashToGroup(string domain, ReadOnlySpan<byte> data, DaaOpCounter? counter = null) => HashToGroupWithWitness(domain, data, counter).Point;

    /// <summary>A uniformly random non-zero scalar from <paramref name="random"/>.</summary>
    /// <param name="random">The randomness source.</param>
    /// <returns>A scalar in [1, q − 1].</returns>
    public BigInteger RandomScalar(IRandomSource random)
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

    /// <summary>The canonical scalar encoding (32 octets; little-endian for ristretto255, big-endian for P-256).</summary>
    /// <param name="scalar">The scalar (reduced first).</param>
    /// <returns>The encoding.</returns>
    public abstract byte[] EncodeScalar(BigInteger scalar);

    /// <summary>Reduces into [0, q).</summary>
    /// <param name="value">Any integer.</param>
    /// <returns>value mod q.</returns>
    public BigInteger Reduce(BigInteger value)
    {
        var r = value % Order;
        return r.Sign < 0 ? r + Order : r;
    }

    internal BigInteger ScalarFromDigest(ReadOnlySpan<byte> digest) => new BigInteger(digest, isUnsigned: true, isBigEndian: true) % Order;

    internal abstract bool IsIdentityEncoding(ReadOnlySpan<byte> encoding);

    /// <summary>The canonical encoding of an element created from the back end's representation alone.</summary>
    internal virtual byte[] EncodeNative(object native) => throw new NotSupportedException($"{Name} elements always carry their encoding");

    /// <summary>
    /// Marks <paramref name="point"/> as a long-lived base that is multiplied again and again, so the
    /// back end may precompute for it (P-256: a fixed-point comb table, built on first use). The
    /// operation counts do not change; only speed does.
    /// </summary>
    /// <param name="point">The element.</param>
    /// <returns><paramref name="point"/>.</returns>
    internal DaaPoint FixedBase(DaaPoint point)
    {
        Check(point);
        point.IsFixedBase = true;
        return point;
    }

    /// <summary>Whether a single multiplication k·P takes the back end's fixed-base path (a precomputed table).</summary>
    /// <param name="point">P.</param>
    /// <returns>True for a fixed-base multiplication.</returns>
    internal abstract bool TakesFixedBasePath(DaaPoint point);

    /// <summary>How many terms of a sum of two or more products the back end computes on its fixed-base path.</summary>
    /// <param name="points">The bases.</param>
    /// <returns>The number of fixed-base terms.</returns>
    internal abstract int FixedBaseTerms(DaaPoint[] points);

    /// <summary>Hash to group, also returning the TPM2_Commit inputs (s2, y2) when the group is a TPM curve.</summary>
    internal abstract HashedPoint HashToGroupWithWitness(string domain, ReadOnlySpan<byte> data, DaaOpCounter? counter);

    private protected abstract DaaPoint MultiplyCore(DaaPoint point, BigInteger scalar);

    private protected abstract DaaPoint MultiplyAddCore(DaaPoint[] points, BigInteger[] scalars);

    private protected abstract DaaPoint AddCore(DaaPoint left, DaaPoint right, bool negateRight);

    private protected static void AppendPrefixed(IncrementalHash hash, ReadOnlySpan<byte> item)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, checked((uint)item.Length));
        hash.AppendData(length);
        hash.AppendData(item);
    }

    private void Check(DaaPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (!ReferenceEquals(point.Group, this))
        {
            throw new ArgumentException($"a {point.Group.Name} element used in {Name}", nameof(point));
        }
    }
}

/// <summary>A hashed-to-group element; for a TPM curve also (s2, y2) such that x = SHA-256(s2) mod p.</summary>
internal sealed record HashedPoint(DaaPoint Point, byte[]? S2, byte[]? Y2);
