using System.Buffers.Binary;
using static TrustStack.Tpm.Hardware.Tests.Interop.DifferentialCases;

namespace TrustStack.Tpm.Hardware.Tests.Interop;

/// <summary>How a valid command is damaged.</summary>
public enum MutationKind
{
    /// <summary>Cut the command short (the size field follows).</summary>
    Truncate,

    /// <summary>XOR one octet of the handle area.</summary>
    FlipHandle,

    /// <summary>XOR one octet of the authorization area.</summary>
    FlipAuthorization,

    /// <summary>XOR one octet of the parameter area.</summary>
    FlipParameter,

    /// <summary>XOR one octet of the tag or command code.</summary>
    FlipHeader,

    /// <summary>Remove one octet (the size field follows).</summary>
    DeleteOctet,

    /// <summary>Append octets (the size field follows).</summary>
    Append,
}

/// <summary>One mutated command.</summary>
/// <param name="Base">The valid command's name.</param>
/// <param name="Kind">The mutation.</param>
/// <param name="Offset">The octet changed, removed or where the command was cut.</param>
/// <param name="Bytes">The mutated command.</param>
public sealed record Mutation(string Base, MutationKind Kind, int Offset, byte[] Bytes)
{
    /// <inheritdoc />
    public override string ToString() => $"{Base} {Kind} @{Offset}: {Convert.ToHexString(Bytes)}";
}

/// <summary>
/// Valid commands on a prepared TPM (an ECC storage primary 0x80000000, an ECC signing key
/// 0x80000001, a written 8-octet NV index 0x01500001) and the mutations the differential property
/// test sends to libtpms and our engine.
/// </summary>
public static class DifferentialMutations
{
    /// <summary>The NV index <see cref="Prepare"/> defines.</summary>
    public const uint NvIndex = 0x0150_0001;

    private static RawSession[] Pw => [RawSession.Password()];

    /// <summary>The valid commands, by name.</summary>
    public static IReadOnlyList<(string Name, RawCommand Command)> BaseCommands { get; } =
    [
        ("GetRandom", RawCommands.BuildWithLayout(TpmCc.GetRandom, [], null, GetRandomParams(16))),
        ("PcrExtend", RawCommands.BuildWithLayout(TpmCc.PcrExtend, [16], Pw, PcrExtendParams(TpmAlgId.Sha256, new byte[32]))),
        ("PcrRead", RawCommands.BuildWithLayout(TpmCc.PcrRead, [], null, PcrReadParams(TpmAlgId.Sha256, 0x07, 0x00, 0x00))),
        ("PcrEvent", RawCommands.BuildWithLayout(TpmCc.PcrEvent, [16], Pw, w => w.WriteTpm2b("event"u8))),
        ("CreatePrimary", RawCommands.BuildWithLayout(TpmCc.CreatePrimary, [TpmRh.Owner], Pw, CreatePrimaryParams(TpmTemplates.SrkEccP256()))),
        ("Create", RawCommands.BuildWithLayout(TpmCc.Create, [0x8000_0000], Pw, CreatePrimaryParams(SigningTemplate()))),
        ("ReadPublic", RawCommands.BuildWithLayout(TpmCc.ReadPublic, [0x8000_0001], null, null)),
        ("Sign", RawCommands.BuildWithLayout(TpmCc.Sign, [0x8000_0001], Pw, SignParams(new byte[32]))),
        ("Quote", RawCommands.BuildWithLayout(TpmCc.Quote, [0x8000_0001], Pw, QuoteParams([1, 2, 3, 4], 0, 1))),
        ("Certify", RawCommands.BuildWithLayout(TpmCc.Certify, [0x8000_0000, 0x8000_0001], [RawSession.Password(), RawSession.Password()], w => { w.WriteTpm2b([9]); w.WriteAlg(TpmAlgId.Null); })),
        ("StartAuthSession", RawCommands.BuildWithLayout(TpmCc.StartAuthSession, [TpmRh.Null, TpmRh.Null], null, StartAuthSessionParams(new byte[16], TpmSe.Policy))),
        ("NvRead", RawCommands.BuildWithLayout(TpmCc.NvRead, [NvIndex, NvIndex], Pw, w => { w.WriteU16(8); w.WriteU16(0); })),
        ("NvWrite", RawCommands.BuildWithLayout(TpmCc.NvWrite, [NvIndex, NvIndex], Pw, w => { w.WriteTpm2b([1, 2, 3, 4]); w.WriteU16(2); })),
        ("NvReadPublic", RawCommands.BuildWithLayout(TpmCc.NvReadPublic, [NvIndex], null, null)),
        ("NvDefineSpace", RawCommands.BuildWithLayout(TpmCc.NvDefineSpace, [TpmRh.Owner], Pw, NvDefineParams(OrdinaryIndex(0x0150_0002, 16)))),
        ("GetCapability", RawCommands.BuildWithLayout(TpmCc.GetCapability, [], null, GetCapabilityParams(TpmCap.Handles, TpmRh.TransientFirst, 8))),
        ("ContextSave", RawCommands.BuildWithLayout(TpmCc.ContextSave, [0x8000_0001], null, null)),
        ("FlushContext", RawCommands.BuildWithLayout(TpmCc.FlushContext, [], null, w => w.WriteU32(0x8000_0001))),
        ("EvictControl", RawCommands.BuildWithLayout(TpmCc.EvictControl, [TpmRh.Owner, 0x8000_0000], Pw, w => w.WriteU32(0x8100_0001))),
        ("Hash", RawCommands.BuildWithLayout(TpmCc.Hash, [], null, w => { w.WriteTpm2b("data"u8); w.WriteAlg(TpmAlgId.Sha256); w.WriteU32(TpmRh.Owner); })),
        ("HierarchyChangeAuth", RawCommands.BuildWithLayout(TpmCc.HierarchyChangeAuth, [TpmRh.Endorsement], Pw, w => w.WriteTpm2b("new"u8))),
        ("PolicyPCR", RawCommands.BuildWithLayout(TpmCc.PolicyPCR, [PolicySession], null, w => { w.WriteTpm2b([]); PcrSelectionList.Create(TpmAlgId.Sha256, 16).Marshal(w); })),
        ("PolicyCommandCode", RawCommands.BuildWithLayout(TpmCc.PolicyCommandCode, [PolicySession], null, w => w.WriteU32((uint)TpmCc.Unseal))),
        ("PolicySecret", RawCommands.BuildWithLayout(TpmCc.PolicySecret, [TpmRh.Endorsement, PolicySession], Pw, w => { w.WriteTpm2b([]); w.WriteTpm2b([]); w.WriteTpm2b([]); w.WriteU32(0); })),
        ("PolicyGetDigest", RawCommands.BuildWithLayout(TpmCc.PolicyGetDigest, [PolicySession], null, null)),
        ("PolicyRestart", RawCommands.BuildWithLayout(TpmCc.PolicyRestart, [PolicySession], null, null)),
        ("LoadExternal", RawCommands.BuildWithLayout(TpmCc.LoadExternal, [], null, w => { w.WriteU16(0); ExternalKey().MarshalSized(w); w.WriteU32(TpmRh.Owner); })),
        ("MakeCredential", RawCommands.BuildWithLayout(TpmCc.MakeCredential, [0x8000_0000], null, w => { w.WriteTpm2b(new byte[16]); w.WriteTpm2b([0x00, 0x0B, .. new byte[32]]); })),
        ("VerifySignature", RawCommands.BuildWithLayout(TpmCc.VerifySignature, [0x8000_0001], null, w => { w.WriteTpm2b(new byte[32]); TpmtSignature.Ecc(TpmAlgId.Ecdsa, TpmAlgId.Sha256, new byte[32], new byte[32]).Marshal(w); })),
        ("PcrReset", RawCommands.BuildWithLayout(TpmCc.PcrReset, [16], Pw, null)),
        ("StirRandom", RawCommands.BuildWithLayout(TpmCc.StirRandom, [], null, w => w.WriteTpm2b([1, 2, 3]))),
        ("NvUndefineSpace", RawCommands.BuildWithLayout(TpmCc.NvUndefineSpace, [TpmRh.Owner, NvIndex], Pw, null)),
        ("Shutdown", RawCommands.BuildWithLayout(TpmCc.Shutdown, [], null, w => w.WriteU16((ushort)TpmSu.Clear))),
        ("HashSequenceStart", RawCommands.BuildWithLayout(TpmCc.HashSequenceStart, [], null, w => { w.WriteTpm2b([1, 2]); w.WriteAlg(TpmAlgId.Sha256); })),
        ("ReadClock", RawCommands.BuildWithLayout(TpmCc.ReadClock, [], null, null)),
        ("TestParms", RawCommands.BuildWithLayout(TpmCc.TestParms, [], null, w => { w.WriteAlg(TpmAlgId.Ecc); w.WriteAlg(TpmAlgId.Null); w.WriteAlg(TpmAlgId.Ecdsa); w.WriteAlg(TpmAlgId.Sha256); w.WriteU16((ushort)TpmEccCurve.NistP256); w.WriteAlg(TpmAlgId.Null); })),
        ("PolicyOR", RawCommands.BuildWithLayout(TpmCc.PolicyOR, [PolicySession], null, w => { w.WriteU32(2); w.WriteTpm2b(new byte[32]); w.WriteTpm2b(Enumerable.Repeat((byte)1, 32).ToArray()); })),
        ("ObjectChangeAuth", RawCommands.BuildWithLayout(TpmCc.ObjectChangeAuth, [0x8000_0001, 0x8000_0000], Pw, w => w.WriteTpm2b("new"u8))),
        ("GetTime", RawCommands.BuildWithLayout(TpmCc.GetTime, [TpmRh.Endorsement, 0x8000_0001], [RawSession.Password(), RawSession.Password()], w => { w.WriteTpm2b([5]); w.WriteAlg(TpmAlgId.Null); })),
        ("NvCertify", RawCommands.BuildWithLayout(TpmCc.NvCertify, [0x8000_0001, NvIndex, NvIndex], [RawSession.Password(), RawSession.Password()], w => { w.WriteTpm2b([]); w.WriteAlg(TpmAlgId.Null); w.WriteU16(4); w.WriteU16(2); })),
        ("CertifyNullSigner", RawCommands.BuildWithLayout(TpmCc.Certify, [0x8000_0000, TpmRh.Null], [RawSession.Password(), RawSession.Password()], w => { w.WriteTpm2b([7]); w.WriteAlg(TpmAlgId.Null); })),
    ];

    /// <summary>The policy session <see cref="Prepare"/> starts (the first session slot).</summary>
    public const uint PolicySession = 0x0300_0000;

    /// <summary>Brings a reset TPM to the state the base commands expect.</summary>
    public static void Prepare(DiffContext c)
    {
        _ = c.Primary();
        _ = c.Child(SigningTemplate());
        DefineIndex(c, OrdinaryIndex(NvIndex, 8));
        c.SendOk(RawCommands.Build(TpmCc.NvWrite, [NvIndex, NvIndex], Pw, w => { w.WriteTpm2b(new byte[8]); w.WriteU16(0); }));
        var session = c.Session(TpmSe.Policy);
        if (session.Handle != PolicySession)
        {
            throw new InvalidOperationException($"{c.Target.Name} started policy session 0x{session.Handle:x8}");
        }
    }

    /// <summary>Applies mutation <paramref name="kind"/> to base command <paramref name="baseIndex"/>.</summary>
    /// <param name="baseIndex">Any integer; taken modulo the number of base commands.</param>
    /// <param name="kind">The mutation.</param>
    /// <param name="position">Any non-negative integer; taken modulo the mutated area.</param>
    /// <param name="value">The XOR mask (0 becomes 0xFF) or the appended octet.</param>
    public static Mutation Mutate(int baseIndex, MutationKind kind, int position, byte value)
    {
        var (name, command) = BaseCommands[baseIndex % BaseCommands.Count];
        var bytes = command.Bytes;
        var mask = value == 0 ? (byte)0xFF : value;
        int Pick(int from, int to) => to > from ? from + (position % (to - from)) : -1;
        switch (kind)
        {
            case MutationKind.Truncate:
                {
                    var length = Pick(10, bytes.Length);
                    return new Mutation(name, kind, length, RawCommands.FixSize(bytes.AsSpan(0, length).ToArray()));
                }

            case MutationKind.FlipHandle:
            case MutationKind.FlipAuthorization:
            case MutationKind.FlipParameter:
            case MutationKind.FlipHeader:
                {
                    var (from, to) = kind switch
                    {
                        MutationKind.FlipHandle => (command.HandleOffset, command.AuthOffset < 0 ? command.ParameterOffset : command.AuthOffset),
                        MutationKind.FlipAuthorization => (command.AuthOffset, command.ParameterOffset),
                        MutationKind.FlipParameter => (command.ParameterOffset, bytes.Length),
                        _ => (0, 10),
                    };
                    var offset = command.AuthOffset < 0 && kind == MutationKind.FlipAuthorization ? -1 : Pick(from, to);
                    if (kind == MutationKind.FlipHeader && offset is >= 2 and < 6)
                    {
                        // The size field: TPM_RC_COMMAND_SIZE on both, always; flip the command code instead.
                        offset += 4;
                    }

                    if (offset < 0)
                    {
                        // No such area in this command: cut it instead.
                        return Mutate(baseIndex, MutationKind.Truncate, position, value);
                    }

                    var copy = bytes.ToArray();
                    copy[offset] ^= mask;
                    return new Mutation(name, kind, offset, copy);
                }

            case MutationKind.DeleteOctet:
                {
                    var offset = Pick(10, bytes.Length);
                    return new Mutation(name, kind, offset, RawCommands.FixSize([.. bytes.AsSpan(0, offset), .. bytes.AsSpan(offset + 1)]));
                }

            default:
                {
                    var extra = Enumerable.Repeat(value, 1 + (position % 4)).ToArray();
                    return new Mutation(name, kind, bytes.Length, RawCommands.FixSize([.. bytes, .. extra]));
                }
        }
    }

    /// <summary>
    /// Why a mutated command is not compared (a documented difference), or null to compare it.
    /// </summary>
    /// <param name="mutation">The command.</param>
    /// <param name="referenceOnlyCommands">Command codes libtpms implements and the engine does not.</param>
    public static string? KnownDifference(Mutation mutation, IReadOnlySet<uint> referenceOnlyCommands)
    {
        var tag = BinaryPrimitives.ReadUInt16BigEndian(mutation.Bytes);
        if (tag is not ((ushort)TpmSt.Sessions or (ushort)TpmSt.NoSessions) && !IsTpmSt(tag))
        {
            return "tag is no TPM_ST value (libtpms TPM_RC_VALUE, engine TPM_RC_BAD_TAG)";
        }

        var code = BinaryPrimitives.ReadUInt32BigEndian(mutation.Bytes.AsSpan(6));
        if (referenceOnlyCommands.Contains(code))
        {
            return $"command 0x{code:x} is implemented by libtpms only";
        }

        if (code == (uint)TpmCc.PolicyCommandCode && mutation.Bytes.Length >= 18
            && referenceOnlyCommands.Contains(BinaryPrimitives.ReadUInt32BigEndian(mutation.Bytes.AsSpan(mutation.Bytes.Length - 4))))
        {
            return "PolicyCommandCode for a command only libtpms implements (the engine answers TPM_RC_POLICY_CC)";
        }

        // The base PolicySecret ends with expiration 0; a damaged one may ask for a time limit.
        return code == (uint)TpmCc.PolicySecret && mutation.Bytes.Length >= 14 && BinaryPrimitives.ReadUInt32BigEndian(mutation.Bytes.AsSpan(mutation.Bytes.Length - 4)) != 0
            ? "PolicySecret with an expiration: the engine keeps no session timeouts (TPM_RC_VALUE + parameter 4)"
            : null;
    }

    /// <summary>
    /// Why two different answers are a documented difference, or null: libtpms checks that a
    /// TPM_ST field holds a TPM_ST value (TPM_RC_VALUE) before the structure's own tag check, which
    /// the reference implementation and our engine answer with TPM_RC_TAG.
    /// </summary>
    public static string? KnownResultDifference(TpmRc libtpms, TpmRc engine)
    {
        var tag = TpmResponseCode.Base(engine) == TpmRc.Tag && TpmResponseCode.Base(libtpms) == TpmRc.Value
            && ((uint)engine & 0xFC0) == ((uint)libtpms & 0xFC0);
        return tag ? "a ticket tag that is no TPM_ST value (libtpms TPM_RC_VALUE, engine TPM_RC_TAG)" : null;
    }

    /// <summary>The TPM_ST values libtpms accepts in TPM_ST_Unmarshal.</summary>
    private static bool IsTpmSt(ushort tag) => tag is 0x00C4 or (>= 0x8000 and <= 0x8002) or (>= 0x8014 and <= 0x801A) or (>= 0x8021 and <= 0x8025);

    /// <summary>A P-256 public key for TPM2_LoadExternal (one per test run; both TPMs get the same).</summary>
    private static TpmtPublic ExternalKey()
    {
        using var ecdsa = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        return TpmPublicKeys.FromECDsa(ecdsa);
    }

    private static TpmtPublic SigningTemplate() => TpmTemplates.SigningEccP256() with
    {
        ObjectAttributes = TpmTemplates.SigningKeyAttributes | TpmaObject.NoDA,
    };
}
