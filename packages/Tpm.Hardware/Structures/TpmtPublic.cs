namespace TrustStack.Tpm.Hardware;

/// <summary>TPMU_PUBLIC_PARMS: the algorithm parameters of a public area (TPM 2.0 Part 2 §12.2.3.7).</summary>
public abstract record PublicParms
{
    private protected PublicParms()
    {
    }

    /// <summary>The symmetric algorithm of a storage key (TPM_ALG_NULL otherwise).</summary>
    public abstract TpmtSymDef Symmetric { get; }

    /// <summary>Marshals the parameters.</summary>
    public abstract void Marshal(TpmWriter writer);

    /// <summary>Unmarshals parameters of object type <paramref name="type"/>.</summary>
    public static PublicParms Unmarshal(TpmAlgId type, ref TpmReader reader) => type switch
    {
        TpmAlgId.Rsa => new RsaParms(TpmtSymDef.Unmarshal(ref reader), TpmtScheme.Unmarshal(ref reader), reader.ReadU16(), reader.ReadU32()),
        TpmAlgId.Ecc => new EccParms(TpmtSymDef.Unmarshal(ref reader), TpmtScheme.Unmarshal(ref reader), (TpmEccCurve)reader.ReadU16(), TpmtScheme.Unmarshal(ref reader)),
        TpmAlgId.Keyedhash => new KeyedHashParms(TpmtScheme.Unmarshal(ref reader)),
        TpmAlgId.Symcipher => new SymCipherParms(TpmtSymDef.Unmarshal(ref reader)),
        _ => throw reader.Fail(TpmRc.Type, $"object type {type} is not RSA, ECC, KEYEDHASH or SYMCIPHER"),
    };
}

/// <summary>TPMS_RSA_PARMS.</summary>
/// <param name="Symmetric">Storage-key symmetric algorithm.</param>
/// <param name="Scheme">Signing or decryption scheme.</param>
/// <param name="KeyBits">Modulus size.</param>
/// <param name="Exponent">Public exponent; 0 means 65537.</param>
public sealed record RsaParms(TpmtSymDef Symmetric, TpmtScheme Scheme, ushort KeyBits, uint Exponent) : PublicParms
{
    /// <summary>The effective exponent (0 on the wire means 65537).</summary>
    public uint EffectiveExponent => Exponent == 0 ? 65537u : Exponent;

    /// <inheritdoc />
    public override TpmtSymDef Symmetric { get; } = Symmetric;

    /// <inheritdoc />
    public override void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Symmetric.Marshal(writer);
        Scheme.Marshal(writer);
        writer.WriteU16(KeyBits);
        writer.WriteU32(Exponent);
    }
}

/// <summary>TPMS_ECC_PARMS.</summary>
/// <param name="Symmetric">Storage-key symmetric algorithm.</param>
/// <param name="Scheme">Signing or key-exchange scheme.</param>
/// <param name="Curve">The curve.</param>
/// <param name="Kdf">Key derivation scheme (usually TPM_ALG_NULL).</param>
public sealed record EccParms(TpmtSymDef Symmetric, TpmtScheme Scheme, TpmEccCurve Curve, TpmtScheme Kdf) : PublicParms
{
    /// <inheritdoc />
    public override TpmtSymDef Symmetric { get; } = Symmetric;

    /// <inheritdoc />
    public override void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Symmetric.Marshal(writer);
        Scheme.Marshal(writer);
        writer.WriteU16((ushort)Curve);
        Kdf.Marshal(writer);
    }
}

/// <summary>TPMS_KEYEDHASH_PARMS: HMAC keys and sealed data objects.</summary>
/// <param name="Scheme">TPM_ALG_HMAC, TPM_ALG_XOR or TPM_ALG_NULL (sealed data).</param>
public sealed record KeyedHashParms(TpmtScheme Scheme) : PublicParms
{
    /// <inheritdoc />
    public override TpmtSymDef Symmetric => TpmtSymDef.Null;

    /// <inheritdoc />
    public override void Marshal(TpmWriter writer) => Scheme.Marshal(writer);
}

/// <summary>TPMS_SYMCIPHER_PARMS.</summary>
/// <param name="Sym">The symmetric key's algorithm, size and mode.</param>
public sealed record SymCipherParms(TpmtSymDef Sym) : PublicParms
{
    /// <inheritdoc />
    public override TpmtSymDef Symmetric => Sym;

    /// <inheritdoc />
    public override void Marshal(TpmWriter writer) => Sym.Marshal(writer);
}

/// <summary>TPMU_PUBLIC_ID: the unique (public key or digest) part of a public area.</summary>
public abstract record PublicId
{
    private protected PublicId()
    {
    }

    /// <summary>Marshals the unique field.</summary>
    public abstract void Marshal(TpmWriter writer);

    /// <summary>Unmarshals the unique field of object type <paramref name="type"/>.</summary>
    public static PublicId Unmarshal(TpmAlgId type, ref TpmReader reader) => type switch
    {
        TpmAlgId.Rsa => new RsaPublicId(reader.ReadTpm2b(512)),
        TpmAlgId.Ecc => new EccPoint(reader.ReadTpm2b(66), reader.ReadTpm2b(66)),
        _ => new DigestPublicId(reader.ReadTpm2b(64)),
    };
}

/// <summary>TPM2B_PUBLIC_KEY_RSA: the modulus.</summary>
/// <param name="Modulus">Big-endian modulus (empty in templates).</param>
public sealed record RsaPublicId(byte[] Modulus) : PublicId
{
    /// <inheritdoc />
    public override void Marshal(TpmWriter writer) => writer.WriteTpm2b(Modulus);
}

/// <summary>TPMS_ECC_POINT: the public point.</summary>
/// <param name="X">X coordinate.</param>
/// <param name="Y">Y coordinate.</param>
public sealed record EccPoint(byte[] X, byte[] Y) : PublicId
{
    /// <inheritdoc />
    public override void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteTpm2b(X);
        writer.WriteTpm2b(Y);
    }

    /// <summary>Unmarshals a bare TPMS_ECC_POINT.</summary>
    public static EccPoint UnmarshalPoint(ref TpmReader reader) => new(reader.ReadTpm2b(66), reader.ReadTpm2b(66));
}

/// <summary>TPM2B_DIGEST unique field of KEYEDHASH and SYMCIPHER objects.</summary>
/// <param name="Digest">The digest (empty in templates).</param>
public sealed record DigestPublicId(byte[] Digest) : PublicId
{
    /// <inheritdoc />
    public override void Marshal(TpmWriter writer) => writer.WriteTpm2b(Digest);
}

/// <summary>TPMT_PUBLIC: the public area of an object (TPM 2.0 Part 2 §12.2.4).</summary>
/// <param name="Type">TPM_ALG_RSA, TPM_ALG_ECC, TPM_ALG_KEYEDHASH or TPM_ALG_SYMCIPHER.</param>
/// <param name="NameAlg">Hash of the object's name.</param>
/// <param name="ObjectAttributes">TPMA_OBJECT.</param>
/// <param name="AuthPolicy">Policy digest (empty for none).</param>
/// <param name="Parameters">Algorithm parameters.</param>
/// <param name="Unique">Public key or digest.</param>
public sealed record TpmtPublic(TpmAlgId Type, TpmAlgId NameAlg, TpmaObject ObjectAttributes, byte[] AuthPolicy, PublicParms Parameters, PublicId Unique)
{
    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteAlg(Type);
        writer.WriteAlg(NameAlg);
        writer.WriteU32((uint)ObjectAttributes);
        writer.WriteTpm2b(AuthPolicy);
        Parameters.Marshal(writer);
        Unique.Marshal(writer);
    }

    /// <summary>The marshalled structure.</summary>
    public byte[] ToBytes()
    {
        var w = new TpmWriter();
        Marshal(w);
        return w.ToArray();
    }

    /// <summary>Marshals as TPM2B_PUBLIC (UINT16 size, then the structure).</summary>
    public void MarshalSized(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var mark = writer.BeginSize16();
        Marshal(writer);
        writer.EndSize16(mark);
    }

    /// <summary>Unmarshals the structure.</summary>
    public static TpmtPublic Unmarshal(ref TpmReader reader)
    {
        var type = reader.ReadAlg();
        var nameAlg = reader.ReadAlg();
        var attributes = (TpmaObject)reader.ReadU32();
        var policy = reader.ReadTpm2b(64);
        var parms = PublicParms.Unmarshal(type, ref reader);
        var unique = PublicId.Unmarshal(type, ref reader);
        return new TpmtPublic(type, nameAlg, attributes, policy, parms, unique);
    }

    /// <summary>Unmarshals a TPM2B_PUBLIC; the size must match the structure exactly.</summary>
    public static TpmtPublic UnmarshalSized(ref TpmReader reader)
    {
        var inner = reader.ReadSized16();
        if (inner.Remaining == 0)
        {
            throw reader.Fail(TpmRc.Size, "empty TPM2B_PUBLIC");
        }

        var result = Unmarshal(ref inner);
        inner.EnsureConsumed();
        return result;
    }

    /// <summary>Parses a TPM2B_PUBLIC (as tpm2-tools writes <c>.pub</c> files) or a bare TPMT_PUBLIC.</summary>
    /// <exception cref="TpmException">Neither form parses.</exception>
    public static TpmtPublic Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 2 && ((bytes[0] << 8) | bytes[1]) == bytes.Length - 2)
        {
            var sized = new TpmReader(bytes);
            return UnmarshalSized(ref sized);
        }

        var reader = new TpmReader(bytes);
        var result = Unmarshal(ref reader);
        reader.EnsureConsumed();
        return result;
    }

    /// <summary>The object's Name: nameAlg ‖ H_nameAlg(TPMT_PUBLIC) (TPM 2.0 Part 1 §16).</summary>
    public byte[] GetName() => TpmHash.NameOf(NameAlg, ToBytes());

    /// <summary>
    /// The object's qualified name under a parent whose qualified name is
    /// <paramref name="parentQualifiedName"/>: nameAlg ‖ H_nameAlg(parentQN ‖ Name) (TPM 2.0 Part 1
    /// §16). This is what a TPM writes in TPMS_ATTEST.qualifiedSigner and TPM2_ReadPublic returns.
    /// </summary>
    /// <exception cref="ArgumentException">nameAlg is not a supported hash.</exception>
    public byte[] GetQualifiedName(ReadOnlySpan<byte> parentQualifiedName)
    {
        if (!TpmHash.IsSupported(NameAlg))
        {
            throw new ArgumentException($"nameAlg {NameAlg} is not a supported hash: the object has no Name.", nameof(parentQualifiedName));
        }

        return TpmHash.NameOf(NameAlg, parentQualifiedName, GetName());
    }

    /// <summary>
    /// The qualified name of a primary object of <paramref name="hierarchy"/> (for example
    /// <see cref="TpmRh.Endorsement"/>): a hierarchy's qualified name is its handle, four octets
    /// big-endian (TPM 2.0 Part 1 §16).
    /// </summary>
    /// <exception cref="ArgumentException">nameAlg is not a supported hash.</exception>
    public byte[] GetPrimaryQualifiedName(uint hierarchy)
    {
        Span<byte> handle = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(handle, hierarchy);
        return GetQualifiedName(handle);
    }

    /// <summary>The same public area with another unique field (templates to keys).</summary>
    public TpmtPublic WithUnique(PublicId unique) => this with { Unique = unique };
}
