using System.Security.Cryptography;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// An element of a <see cref="DaaGroup"/>, immutable, held in its canonical encoding
/// (ristretto255: 32 octets, the identity all zero; P-256: SEC1 compressed, 33 octets, the identity one zero octet).
/// </summary>
/// <remarks>
/// A back end may create an element from its own representation alone; the encoding (for P-256 a
/// normalization, that is a field inversion) is then computed the first time it is needed, so
/// intermediate results that are never hashed or compared are never normalized.
/// </remarks>
public sealed class DaaPoint : IEquatable<DaaPoint>
{
    private byte[]? _encoding;

    internal DaaPoint(DaaGroup group, byte[] encoding, object? native)
    {
        Group = group;
        _encoding = encoding;
        Native = native;
    }

    /// <summary>An element known only by the back end's representation; never the identity.</summary>
    internal DaaPoint(DaaGroup group, object native)
    {
        Group = group;
        Native = native;
    }

    /// <summary>The group the element belongs to.</summary>
    public DaaGroup Group { get; }

    /// <summary>The canonical encoding.</summary>
    public ReadOnlySpan<byte> Encoding => Encoded;

    /// <summary>Whether this is the neutral element.</summary>
    public bool IsIdentity => _encoding is not null && Group.IsIdentityEncoding(_encoding);

    /// <summary>The back end's own representation (a BouncyCastle point for P-256).</summary>
    internal object? Native { get; }

    /// <summary>
    /// Whether this is a long-lived base (the generator, H, the issuer's key, a host's credential) for
    /// which a back end may keep a precomputed table (P-256: a fixed-point comb). Only speed depends on it.
    /// </summary>
    internal bool IsFixedBase { get; set; }

    private byte[] Encoded => _encoding ??= Group.EncodeNative(Native!);

    /// <summary>A copy of the canonical encoding.</summary>
    /// <returns>The encoding.</returns>
    public byte[] ToArray() => (byte[])Encoded.Clone();

    /// <inheritdoc/>
    public bool Equals(DaaPoint? other) => other is not null && ReferenceEquals(Group, other.Group) && Encoded.AsSpan().SequenceEqual(other.Encoded);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as DaaPoint);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(Encoded);
        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Group.Name}:{Convert.ToHexStringLower(Encoded)}";

    /// <summary>Constant-time comparison of two elements of the same group.</summary>
    /// <param name="other">The other element.</param>
    /// <returns>True when equal.</returns>
    public bool FixedTimeEquals(DaaPoint other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return ReferenceEquals(Group, other.Group) && CryptographicOperations.FixedTimeEquals(Encoded, other.Encoded);
    }
}
