using System.Numerics;
using System.Security.Cryptography;

namespace TrustStack.Daa.Tmz;

/// <summary>ristretto255 through libsodium's crypto_core_ristretto255_* and crypto_scalarmult_ristretto255*.</summary>
internal sealed class Ristretto255Group : DaaGroup
{
    private static readonly BigInteger Q = BigInteger.Pow(2, 252) + BigInteger.Parse("27742317777372353535851937790883648493", System.Globalization.CultureInfo.InvariantCulture);

    private readonly DaaPoint _generator;
    private readonly DaaPoint _identity;

    public Ristretto255Group()
    {
        Sodium.EnsureInitialized();
        _identity = new DaaPoint(this, new byte[Sodium.PointBytes], null);
        var one = new byte[Sodium.ScalarBytes];
        one[0] = 1;
        var g = new byte[Sodium.PointBytes];
        if (Sodium.crypto_scalarmult_ristretto255_base(g, one) != 0)
        {
            throw new InvalidOperationException("libsodium could not compute the ristretto255 base point");
        }

        _generator = new DaaPoint(this, g, null);
    }

    public override string Name => "ristretto255";

    public override BigInteger Order => Q;

    public override int PointSize => Sodium.PointBytes;

    public override int FieldBits => 255;

    public override DaaPoint Generator => _generator;

    public override DaaPoint Identity => _identity;

    public override DaaPoint Decode(ReadOnlySpan<byte> encoding)
    {
        if (encoding.Length != Sodium.PointBytes)
        {
            throw new CryptographicException($"a ristretto255 element has {Sodium.PointBytes} octets, not {encoding.Length}");
        }

        if (IsIdentityEncoding(encoding))
        {
            return _identity;
        }

        if (Sodium.crypto_core_ristretto255_is_valid_point(encoding) != 1)
        {
            throw new CryptographicException("not a canonical ristretto255 encoding");
        }

        return new DaaPoint(this, encoding.ToArray(), null);
    }

    public override byte[] EncodeScalar(BigInteger scalar)
    {
        var bytes = new byte[Sodium.ScalarBytes];
        Reduce(scalar).TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false);
        return bytes;
    }

    internal override bool IsIdentityEncoding(ReadOnlySpan<byte> encoding) => encoding.Length == Sodium.PointBytes && !encoding.ContainsAnyExcept((byte)0);

    internal override HashedPoint HashToGroupWithWitness(string domain, ReadOnlySpan<byte> data, DaaOpCounter? counter)
    {
        ArgumentNullException.ThrowIfNull(domain);
        counter?.HashToGroup();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        AppendPrefixed(hash, System.Text.Encoding.UTF8.GetBytes(domain));
        AppendPrefixed(hash, data);
        var wide = hash.GetHashAndReset();
        var point = new byte[Sodium.PointBytes];
        if (Sodium.crypto_core_ristretto255_from_hash(point, wide) != 0)
        {
            throw new CryptographicException("crypto_core_ristretto255_from_hash failed");
        }

        return new HashedPoint(new DaaPoint(this, point, null), null, null);
    }

    /// <summary>libsodium has a precomputed table for the base point only (crypto_scalarmult_ristretto255_base).</summary>
    internal override bool TakesFixedBasePath(DaaPoint point) => !point.IsIdentity && (ReferenceEquals(point, _generator) || point.Equals(_generator));

    /// <summary>No multi-scalar multiplication: each term on its own, so each G term takes the base-point table.</summary>
    internal override int FixedBaseTerms(DaaPoint[] points) => points.Count(TakesFixedBasePath);

    private protected override DaaPoint MultiplyCore(DaaPoint point, BigInteger scalar)
    {
        if (scalar.IsZero || point.IsIdentity)
        {
            return _identity;
        }

        var n = EncodeScalar(scalar);
        var result = new byte[Sodium.PointBytes];
        try
        {
            var rc = ReferenceEquals(point, _generator) || point.Equals(_generator)
                ? Sodium.crypto_scalarmult_ristretto255_base(result, n)
                : Sodium.crypto_scalarmult_ristretto255(result, n, point.Encoding);
            if (rc != 0 && !IsIdentityEncoding(result))
            {
                throw new CryptographicException("crypto_scalarmult_ristretto255 failed");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(n);
        }

        return IsIdentityEncoding(result) ? _identity : new DaaPoint(this, result, null);
    }

    private protected override DaaPoint MultiplyAddCore(DaaPoint[] points, BigInteger[] scalars)
    {
        // libsodium has no multi-scalar multiplication: one product at a time.
        var sum = MultiplyCore(points[0], scalars[0]);
        for (var i = 1; i < points.Length; i++)
        {
            sum = AddCore(sum, MultiplyCore(points[i], scalars[i]), negateRight: false);
        }

        return sum;
    }

    private protected override DaaPoint AddCore(DaaPoint left, DaaPoint right, bool negateRight)
    {
        var result = new byte[Sodium.PointBytes];
        var rc = negateRight
            ? Sodium.crypto_core_ristretto255_sub(result, left.Encoding, right.Encoding)
            : Sodium.crypto_core_ristretto255_add(result, left.Encoding, right.Encoding);
        if (rc != 0)
        {
            throw new CryptographicException("crypto_core_ristretto255_add failed");
        }

        return IsIdentityEncoding(result) ? _identity : new DaaPoint(this, result, null);
    }
}
