using System.Security.Cryptography;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// An element of a <see cref="DaaGroup"/>, immutable, held in its canonical encoding
/// (ristretto255: 32 octets, the identity all zero; P-256: SEC1 compressed, 33 octets, the identity one zero octet).
/// </summary>
public sealed class DaaPoint : IEquatable<DaaPoint>
{
    private readonly byte[] _encoding;

    internal DaaPoint(DaaGroup group, byte[] encoding, object? native)
    {
        Group = group;
        _encoding = encoding;
        Native = native;
    }

    /// <summary>The group the element belongs to.</summary>
    public DaaGroup Group { get; }

    /// <summary>The canonical encoding.</summary>
    public ReadOnlySpan<byte> Encoding => _encoding;

    /// <summary>Whether this is the neutral element.</summary>
    public bool IsIdentity => Group.IsIdentityEncoding(_encoding);

    /// <summary>The back end's own representation (a BouncyCastle point for P-256).</summary>
    internal object? Native { get; }

    /// <summary>A copy of the canonical encoding.</summary>
    /// <returns>The encoding.</returns>
    public byte[] ToArray() => (byte[])_encoding.Clone();

    /// <inheritdoc/>
    public bool Equals(DaaPoint? other) => other is not null && ReferenceEquals(Group, other.Group) && _encoding.AsSpan().SequenceEqual(other._encoding);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as DaaPoint);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(_encoding);
        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Group.Name}:{Convert.ToHexStringLower(_encoding)}";

    /// <summary>Constant-time comparison of two elements of the same group.</summary>
    /// <param name="other">The other element.</param>
    /// <returns>True when equal.</returns>
    public bool FixedTimeEquals(DaaPoint other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return ReferenceEquals(Group, other.Group) && CryptographicOperations.FixedTimeEquals(_encoding, other._encoding);
    }
}
