using System.Buffers.Binary;
using System.Security.Cryptography;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// TPM2_Commit (TPM 2.0 Part 3 §19.2) and the signing half of the split ECDAA scheme (Part 1 §C.4):
/// the commit counter, the bit array of outstanding commitments and the KDF-derived random r,
/// with the reference implementation's semantics (CryptGenerateR, CryptCommit, CryptEndCommit).
/// </summary>
internal sealed class EcdaaCommands : ICommandGroup
{
    /// <summary>Bits in gr.commitArray minus one (the reference's COMMIT_INDEX_MASK for a 16-octet array).</summary>
    internal const ushort CommitIndexMask = 127;

    public void Register(CommandTable table) =>
        table.Add(TpmCc.Commit, [new(HandleKinds.Object, AuthRole.User)], 0, Commit, CommandFlags.DecryptFirst | CommandFlags.EncryptFirst);

    /// <summary>At TPM Reset: a new commit nonce, counter zero, no outstanding commitment (CryptStartup).</summary>
    internal static void ResetCommitState(EngineState s, SoftwareTpm tpm)
    {
        s.CommitNonce?.Dispose();
        s.CommitNonce = tpm.NewSecret(32, "commitNonce");
        s.CommitCounter = 0;
        Array.Clear(s.CommitArray);
    }

    /// <summary>
    /// ECDAA signing (BnSignEcdaa): r from the commitment named by <c>scheme.Count</c> (TPM_RC_VALUE
    /// when it is not outstanding), a random nonce nT in [1, n − 1], T = H(nT ‖ digest),
    /// s = r + T·d mod n; on success the commitment is used up. Signature (nT, s).
    /// </summary>
    internal static TpmtSignature Sign(CommandContext c, TpmObject key, TpmtScheme scheme, ReadOnlySpan<byte> digest)
    {
        var ecc = (EccParms)key.Public.Parameters;
        var curve = EccCurves.Get(ecc.Curve);
        var r = GenerateR(c, curve, key.Name, scheme.Count) ?? throw new TpmException(TpmRc.Value, $"commit count {scheme.Count} is not outstanding");
        var privateKey = key.GetPrivateKey(c.Tpm.Secrets.AllowsDerivedKeyCaching, out var callerDisposes);
        try
        {
            var d = privateKey.BouncyEcc().D;
            var n = curve.Order;
            while (true)
            {
                var nonce = curve.RandomScalar(c.Tpm.Random).ToByteArrayUnsigned();
                var t = new BcBigInteger(1, TpmHash.Hash(scheme.HashAlg, nonce, digest.ToArray())).Mod(n);
                var s = t.Multiply(d).Add(r).Mod(n);
                if (t.SignValue == 0 || s.SignValue == 0)
                {
                    continue;
                }

                EndCommit(c.State, scheme.Count);
                return TpmtSignature.Ecc(TpmAlgId.Ecdaa, scheme.HashAlg, nonce, curve.EncodeScalar(s));
            }
        }
        finally
        {
            if (callerDisposes)
            {
                privateKey.Dispose();
            }
        }
    }

    private static void Commit(CommandContext c)
    {
        var key = c.Object(0);
        var r = c.ReadParameters();
        var p1 = ReadEccPoint(ref r);
        r.Parameter = 2;
        var s2 = r.ReadTpm2b(128);
        r.Parameter = 3;
        var y2 = r.ReadTpm2b(66);
        r.EnsureConsumed();

        if (key.Public.Type != TpmAlgId.Ecc || key.Public.Parameters is not EccParms ecc)
        {
            throw CommandContext.HandleError(TpmRc.Key, 1, "not an ECC key");
        }

        if (ecc.Scheme.Scheme != TpmAlgId.Ecdaa)
        {
            throw CommandContext.HandleError(TpmRc.Scheme, 1, "the key's scheme is not anonymous (ECDAA)");
        }

        if ((s2.Length == 0) != (y2.Length == 0))
        {
            throw CommandContext.ParameterError(TpmRc.Size, 3, "s2 and y2 must both be present or both be empty");
        }

        if (!EccCurves.IsSupported(ecc.Curve))
        {
            throw CommandContext.HandleError(TpmRc.Key, 1, $"curve {ecc.Curve} is not implemented");
        }

        var curve = EccCurves.Get(ecc.Curve);
        var state = c.State;
        var rValue = GenerateR(c, curve, key.Name, null) ?? throw new TpmException(TpmRc.NoResult, "no commit value");

        ECPoint? b = null;
        if (s2.Length != 0)
        {
            // x2 = H_nameAlg(s2) mod p, P2 = (x2, y2), which must be on the curve.
            var p = curve.X9.Curve.Field.Characteristic;
            var x2 = new BcBigInteger(1, TpmHash.Hash(key.Public.NameAlg, s2)).Mod(p);
            var y = new BcBigInteger(1, y2);
            if (y2.Length > curve.CoordinateSize || y.CompareTo(p) >= 0 || !IsOnCurve(curve, x2, y, out b))
            {
                throw CommandContext.ParameterError(TpmRc.EccPoint, 2, "(H(s2) mod p, y2) is not on the curve");
            }

            if (key.IsPublicOnly)
            {
                throw CommandContext.HandleError(TpmRc.Key, 1, "K = [d]P2 needs the private key");
            }
        }

        ECPoint? m = null;
        if (p1 is { } point && point.X.Length + point.Y.Length > 0)
        {
            try
            {
                m = curve.DecodePoint(point);
            }
            catch (TpmException)
            {
                throw CommandContext.ParameterError(TpmRc.EccPoint, 1, "P1 is not on the curve");
            }
        }

        // CryptEccCommitCompute: K = [d]B, L = [r]B when B; E = [r]M when M, E = [r]G when neither.
        EccPoint k = Empty, l = Empty, e = Empty;
        if (b is not null)
        {
            var privateKey = key.GetPrivateKey(c.Tpm.Secrets.AllowsDerivedKeyCaching, out var callerDisposes);
            try
            {
                k = Finite(curve, b.Multiply(privateKey.BouncyEcc().D));
            }
            finally
            {
                if (callerDisposes)
                {
                    privateKey.Dispose();
                }
            }

            l = Finite(curve, b.Multiply(rValue));
        }

        if (m is not null || b is null)
        {
            e = Finite(curve, (m ?? curve.Domain.G).Multiply(rValue));
        }

        // The commitment succeeded: set its bit and advance the counter (CryptCommit).
        var oldCount = unchecked((ushort)state.CommitCounter);
        state.CommitCounter = unchecked(state.CommitCounter + 1);
        SetBit(state.CommitArray, oldCount & CommitIndexMask, true);

        WriteEccPoint(c.Output, k);
        WriteEccPoint(c.Output, l);
        WriteEccPoint(c.Output, e);
        c.Output.WriteU16(oldCount);
    }

    /// <summary>
    /// CryptGenerateR: r = KDFa(SHA-256, commitNonce, "ECDAA Commit", name, count, bits(n)), retried
    /// while r ≥ n or its upper half is zero. With <paramref name="count"/> (the signing phase) the
    /// count must be outstanding and within the last 128 commitments; null when it is not.
    /// </summary>
    internal static BcBigInteger? GenerateR(CommandContext c, EccCurveInfo curve, byte[] name, ushort? count)
    {
        var s = c.State;
        s.CommitNonce ??= c.Tpm.NewSecret(32, "commitNonce");
        var currentCount = s.CommitCounter;
        if (count is { } requested)
        {
            if (!TestBit(s.CommitArray, requested & CommitIndexMask))
            {
                return null;
            }

            var t1 = unchecked((ushort)currentCount);
            if ((requested & CommitIndexMask) >= (t1 & CommitIndexMask))
            {
                currentCount = unchecked(currentCount - (CommitIndexMask + 1));
            }

            t1 = unchecked((ushort)currentCount);
            if ((t1 & ~CommitIndexMask & 0xFFFF) != (requested & ~CommitIndexMask & 0xFFFF))
            {
                return null;
            }

            currentCount = (currentCount & 0xFFFF_FFFF_FFFF_0000UL) | requested;
        }

        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(counter, currentCount);
        var nBytes = curve.OrderSize;
        var nonce = new byte[s.CommitNonce.Length];
        s.CommitNonce.CopyTo(nonce);
        try
        {
            // Each retry continues the KDF counter: the next nBytes of the same KDFa stream.
            for (var attempt = 1; attempt < 64; attempt++)
            {
                var stream = TpmKdf.KdfA(TpmAlgId.Sha256, nonce, "ECDAA Commit", name, counter, nBytes * 8 * attempt);
                var candidate = stream.AsSpan(nBytes * (attempt - 1), nBytes);
                var value = new BcBigInteger(1, candidate.ToArray());
                var upperHalfSet = candidate[..((nBytes / 2) + 1)].ContainsAnyExcept((byte)0);
                CryptographicOperations.ZeroMemory(stream);
                if (value.CompareTo(curve.Order) < 0 && upperHalfSet)
                {
                    return value;
                }
            }

            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(nonce);
        }
    }

    /// <summary>CryptEndCommit: the commitment cannot be used again.</summary>
    internal static void EndCommit(EngineState s, ushort count) => SetBit(s.CommitArray, count & CommitIndexMask, false);

    private static readonly EccPoint Empty = new([], []);

    private static EccPoint? ReadEccPoint(ref TpmReader r)
    {
        var size = r.ReadU16();
        if (size == 0)
        {
            throw r.Fail(TpmRc.Size, "TPM2B_ECC_POINT of size zero");
        }

        var inner = r.ReadBytes(size);
        var reader = new TpmReader(inner) { Parameter = r.Parameter, IsCommandParameterArea = true };
        var point = EccPoint.UnmarshalPoint(ref reader);
        if (reader.RemainingSpan.Length != 0)
        {
            throw r.Fail(TpmRc.Size, "TPM2B_ECC_POINT size does not match its contents");
        }

        return point;
    }

    private static void WriteEccPoint(TpmWriter w, EccPoint point)
    {
        var inner = new TpmWriter();
        inner.WriteTpm2b(point.X);
        inner.WriteTpm2b(point.Y);
        w.WriteTpm2b(inner.ToArray());
    }

    private static bool IsOnCurve(EccCurveInfo curve, BcBigInteger x, BcBigInteger y, out ECPoint? point)
    {
        point = null;
        try
        {
            var candidate = curve.X9.Curve.CreatePoint(x, y);
            if (!candidate.IsValid())
            {
                return false;
            }

            point = candidate;
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static EccPoint Finite(EccCurveInfo curve, ECPoint point)
    {
        var normalized = point.Normalize();
        if (normalized.IsInfinity)
        {
            throw new TpmException(TpmRc.NoResult, "a commit point is the point at infinity");
        }

        return curve.EncodePoint(normalized);
    }

    private static bool TestBit(byte[] bits, int index) => (bits[index >> 3] & (1 << (index & 7))) != 0;

    private static void SetBit(byte[] bits, int index, bool value)
    {
        var mask = unchecked((byte)(1 << (index & 7)));
        bits[index >> 3] = value ? unchecked((byte)(bits[index >> 3] | mask)) : unchecked((byte)(bits[index >> 3] & ~mask));
    }
}
