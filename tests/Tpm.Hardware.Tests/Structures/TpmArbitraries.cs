using FsCheck;
using FsCheck.Fluent;

namespace TrustStack.Tpm.Hardware.Tests.Structures;

/// <summary>
/// FsCheck generators of valid TPM structures: random fields, sizes within the limits each
/// unmarshaller enforces (TPM 2.0 Part 2 buffer sizes), so a round trip must reproduce the octets.
/// </summary>
public static class TpmArbitraries
{
    private static readonly TpmAlgId[] KnownAlgorithms = Enum.GetValues<TpmAlgId>();

    private static readonly TpmAlgId[] Hashes = [TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384, TpmAlgId.Sha512];

    private static Gen<byte> Octet { get; } = Gen.Choose(0, 255).Select(v => (byte)v);

    private static Gen<ushort> U16 { get; } = Gen.Choose(0, ushort.MaxValue).Select(v => (ushort)v);

    private static Gen<uint> U32 { get; } = Gen.Zip(U16, U16, (hi, lo) => ((uint)hi << 16) | lo);

    private static Gen<ulong> U64 { get; } = Gen.Zip(U32, U32, (hi, lo) => ((ulong)hi << 32) | lo);

    private static Gen<bool> Bool { get; } = Gen.Elements(true, false);

    /// <summary>Mostly algorithms the TPM knows, sometimes any UINT16.</summary>
    private static Gen<TpmAlgId> Alg { get; } = Gen.Frequency(
        (4, Gen.Elements(KnownAlgorithms)),
        (1, U16.Select(v => (TpmAlgId)v)));

    private static Gen<TpmAlgId> Hash { get; } = Gen.Elements(Hashes);

    /// <summary>0..<paramref name="max"/> random octets.</summary>
    private static Gen<byte[]> Bytes(int max) => Gen.Choose(0, max).SelectMany(n => Gen.ArrayOf(Octet, n));

    private static Gen<PcrSelection> PcrSelectionGen { get; } =
        Gen.Zip(Alg, Bytes(PcrSelection.MaxSelectSize), (hash, select) => new PcrSelection(hash, select));

    private static Gen<PcrSelectionList> PcrSelectionListGen { get; } =
        Gen.Choose(0, PcrSelectionList.MaxBanks)
            .SelectMany(n => Gen.ArrayOf(PcrSelectionGen, n))
            .Select(banks => new PcrSelectionList(banks));

    private static Gen<TpmtScheme> SchemeGen { get; } =
        from scheme in Gen.Frequency(
            (1, Gen.Elements(TpmAlgId.Null, TpmAlgId.Rsaes, TpmAlgId.Ecdaa, TpmAlgId.Xor)),
            (3, Alg))
        from hash in Alg
        from count in U16
        from kdf in Alg
        select new TpmtScheme(
            scheme,
            scheme is TpmAlgId.Null or TpmAlgId.Rsaes ? TpmAlgId.Null : hash,
            scheme == TpmAlgId.Ecdaa ? count : (ushort)0,
            scheme == TpmAlgId.Xor ? kdf : TpmAlgId.Null);

    private static Gen<TpmtSymDef> SymDefGen { get; } =
        from alg in Gen.Frequency((1, Gen.Elements(TpmAlgId.Null, TpmAlgId.Xor, TpmAlgId.Aes)), (2, Alg))
        from bits in U16
        from mode in Alg
        select alg == TpmAlgId.Null ? TpmtSymDef.Null
            : alg == TpmAlgId.Xor ? new TpmtSymDef(alg, bits)
            : new TpmtSymDef(alg, bits, mode);

    private static Gen<(PublicParms Parms, PublicId Unique)> RsaArea { get; } =
        from sym in SymDefGen
        from scheme in SchemeGen
        from bits in U16
        from exponent in U32
        from modulus in Bytes(512)
        select ((PublicParms)new RsaParms(sym, scheme, bits, exponent), (PublicId)new RsaPublicId(modulus));

    private static Gen<(PublicParms Parms, PublicId Unique)> EccArea { get; } =
        from sym in SymDefGen
        from scheme in SchemeGen
        from curve in U16
        from kdf in SchemeGen
        from x in Bytes(66)
        from y in Bytes(66)
        select ((PublicParms)new EccParms(sym, scheme, (TpmEccCurve)curve, kdf), (PublicId)new EccPoint(x, y));

    private static Gen<(PublicParms Parms, PublicId Unique)> KeyedHashArea { get; } =
        from scheme in SchemeGen
        from digest in Bytes(64)
        select ((PublicParms)new KeyedHashParms(scheme), (PublicId)new DigestPublicId(digest));

    private static Gen<(PublicParms Parms, PublicId Unique)> SymCipherArea { get; } =
        from sym in SymDefGen
        from digest in Bytes(64)
        select ((PublicParms)new SymCipherParms(sym), (PublicId)new DigestPublicId(digest));

    private static Gen<TpmtPublic> PublicGen { get; } =
        from typed in Gen.OneOf(
            RsaArea.Select(a => (Type: TpmAlgId.Rsa, Area: a)),
            EccArea.Select(a => (Type: TpmAlgId.Ecc, Area: a)),
            KeyedHashArea.Select(a => (Type: TpmAlgId.Keyedhash, Area: a)),
            SymCipherArea.Select(a => (Type: TpmAlgId.Symcipher, Area: a)))
        from nameAlg in Alg
        from attributes in U32
        from policy in Bytes(64)
        select new TpmtPublic(typed.Type, nameAlg, (TpmaObject)attributes, policy, typed.Area.Parms, typed.Area.Unique);

    private static Gen<TpmtSignature> SignatureGen { get; } = Gen.OneOf(
        from scheme in Gen.Elements(TpmAlgId.Rsassa, TpmAlgId.Rsapss)
        from hash in Alg
        from signature in Bytes(512)
        select TpmtSignature.Rsa(scheme, hash, signature),
        from scheme in Gen.Elements(TpmAlgId.Ecdsa, TpmAlgId.Ecdaa, TpmAlgId.Sm2, TpmAlgId.Ecschnorr)
        from hash in Alg
        from r in Bytes(66)
        from s in Bytes(66)
        select TpmtSignature.Ecc(scheme, hash, r, s),
        from hash in Hash
        from digest in Gen.ArrayOf(Octet, TpmHash.DigestSize(hash))
        select new TpmtSignature(TpmAlgId.Hmac, hash, digest, [], []),
        Gen.Constant(TpmtSignature.Null));

    private static Gen<TpmsClockInfo> ClockGen { get; } =
        from clock in U64
        from reset in U32
        from restart in U32
        from safe in Bool
        select new TpmsClockInfo(clock, reset, restart, safe);

    private static Gen<AttestInfo> AttestInfoGen { get; } = Gen.OneOf(
        from pcrs in PcrSelectionListGen
        from digest in Bytes(64)
        select (AttestInfo)new QuoteInfo(pcrs, digest),
        from name in Bytes(68)
        from qualified in Bytes(68)
        select (AttestInfo)new CertifyInfo(name, qualified),
        from name in Bytes(68)
        from hash in Bytes(64)
        select (AttestInfo)new CreationInfo(name, hash),
        from name in Bytes(68)
        from offset in U16
        from contents in Bytes(2048)
        select (AttestInfo)new NvCertifyInfo(name, offset, contents));

    private static Gen<TpmsAttest> AttestGen { get; } =
        from magic in Gen.Frequency((3, Gen.Constant(TpmsAttest.GeneratedValue)), (1, U32))
        from signer in Bytes(68)
        from extra in Bytes(64)
        from clock in ClockGen
        from firmware in U64
        from info in AttestInfoGen
        select new TpmsAttest(magic, signer, extra, clock, firmware, info);

    private static Gen<TpmsNvPublic> NvPublicGen { get; } =
        from index in U32
        from nameAlg in Alg
        from attributes in U32
        from policy in Bytes(64)
        from size in U16
        select new TpmsNvPublic(index, nameAlg, (TpmaNv)attributes, policy, size);

    private static Gen<TpmsContext> ContextGen { get; } =
        from sequence in U64
        from saved in U32
        from hierarchy in U32
        from blob in Bytes(4096)
        select new TpmsContext(sequence, saved, hierarchy, blob);

    private static Gen<TpmsCreationData> CreationDataGen { get; } =
        from pcrs in PcrSelectionListGen
        from digest in Bytes(64)
        from locality in Octet
        from parentNameAlg in Alg
        from parentName in Bytes(68)
        from parentQualified in Bytes(68)
        from outside in Bytes(64)
        select new TpmsCreationData(pcrs, digest, locality, parentNameAlg, parentName, parentQualified, outside);

    /// <summary>Random TPMS_PCR_SELECTION.</summary>
    public static Arbitrary<PcrSelection> PcrSelections() => PcrSelectionGen.ToArbitrary();

    /// <summary>Random TPML_PCR_SELECTION.</summary>
    public static Arbitrary<PcrSelectionList> PcrSelectionLists() => PcrSelectionListGen.ToArbitrary();

    /// <summary>Random schemes of every shape (NULL, RSAES, ECDAA, XOR, hash-only).</summary>
    public static Arbitrary<TpmtScheme> Schemes() => SchemeGen.ToArbitrary();

    /// <summary>Random TPMT_SYM_DEF (NULL, XOR, block ciphers).</summary>
    public static Arbitrary<TpmtSymDef> SymDefs() => SymDefGen.ToArbitrary();

    /// <summary>Random RSA, ECC, KEYEDHASH and SYMCIPHER public areas.</summary>
    public static Arbitrary<TpmtPublic> PublicAreas() => PublicGen.ToArbitrary();

    /// <summary>Random RSA, ECC, HMAC and NULL signatures.</summary>
    public static Arbitrary<TpmtSignature> Signatures() => SignatureGen.ToArbitrary();

    /// <summary>Random quote, certify, creation and NV-certify attestations.</summary>
    public static Arbitrary<TpmsAttest> Attestations() => AttestGen.ToArbitrary();

    /// <summary>Random TPMS_NV_PUBLIC.</summary>
    public static Arbitrary<TpmsNvPublic> NvPublicAreas() => NvPublicGen.ToArbitrary();

    /// <summary>Random TPMS_CONTEXT.</summary>
    public static Arbitrary<TpmsContext> Contexts() => ContextGen.ToArbitrary();

    /// <summary>Random TPMS_CREATION_DATA.</summary>
    public static Arbitrary<TpmsCreationData> CreationData() => CreationDataGen.ToArbitrary();
}
