using System.Buffers.Binary;
using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class NvCommandsTests : IDisposable
{
    private const uint Index = 0x01500010;
    private const TpmaNv OwnerRw = TpmaNv.OwnerWrite | TpmaNv.OwnerRead | TpmaNv.NoDA;
    private const TpmaNv AuthRw = TpmaNv.AuthWrite | TpmaNv.AuthRead | TpmaNv.NoDA;

    private readonly SoftwareTpm _tpm = new(new SoftwareTpmOptions { Seed = 1, AutoStartup = true });
    private readonly Tpm2 _client;

    public NvCommandsTests() => _client = new Tpm2(_tpm);

    public void Dispose() => _tpm.Dispose();

    private static TpmsNvPublic Public(TpmaNv attributes, ushort size = 32, uint index = Index, TpmAlgId nameAlg = TpmAlgId.Sha256, byte[]? policy = null) =>
        new(index, nameAlg, attributes, policy ?? [], size);

    private void Define(TpmaNv attributes, ushort size = 32, uint index = Index, byte[]? auth = null, uint hierarchy = TpmRh.Owner) =>
        _client.NvDefineSpace(hierarchy, Public(attributes, size, index), auth ?? []);

    /// <summary>Restarts the TPM through an orderly TPM2_Shutdown(CLEAR) and power cycle (a TPM Reset).</summary>
    private void Reboot()
    {
        _client.Shutdown();
        _tpm.PowerOff();
        _tpm.PowerOn();
    }

    [Fact]
    public void NvDefineSpace_ThenReadPublic_ReturnsThePublicAreaAndItsName()
    {
        Define(OwnerRw);
        var result = _client.NvReadPublic(Index);
        Assert.Equal(Index, result.NvPublic.NvIndex);
        Assert.Equal(OwnerRw, result.NvPublic.Attributes);
        Assert.Equal(32, result.NvPublic.DataSize);
        Assert.Equal(Public(OwnerRw).GetName(), result.Name);
    }

    [Fact]
    public void NvWrite_OwnerAuthorized_ReadsBackAndSetsWritten()
    {
        Define(OwnerRw);
        _client.NvWrite(TpmRh.Owner, Index, "hello"u8, offset: 3);
        Assert.Equal("hello"u8.ToArray(), _client.NvRead(TpmRh.Owner, Index, 5, 3));
        Assert.Equal(new byte[3], _client.NvRead(TpmRh.Owner, Index, 3));
        var pub = _client.NvReadPublic(Index);
        Assert.Equal(OwnerRw | TpmaNv.Written, pub.NvPublic.Attributes);
        Assert.Equal(Public(OwnerRw | TpmaNv.Written).GetName(), pub.Name);
    }

    [Fact]
    public void NvWrite_IndexPassword_ReadsBackWithIndexPassword()
    {
        Define(AuthRw, auth: "secret"u8.ToArray());
        var auth = TpmAuthorization.Password("secret"u8);
        _client.NvWrite(Index, Index, "data"u8, auth: auth);
        Assert.Equal("data"u8.ToArray(), _client.NvRead(Index, Index, 4, auth: auth));
    }

    [Fact]
    public void NvWrite_WrongIndexPassword_ReturnsBadAuthAndWritesNothing()
    {
        Define(AuthRw, auth: "secret"u8.ToArray());
        var e = Assert.Throws<TpmException>(() => _client.NvWrite(Index, Index, "data"u8, auth: TpmAuthorization.Password("wrong"u8)));
        Assert.Equal(TpmRc.BadAuth, e.BaseCode);
        Assert.Equal(TpmRc.NvUninitialized, ErrorOf(() => _client.NvRead(Index, Index, 4, auth: TpmAuthorization.Password("secret"u8))));
    }

    [Fact]
    public void NvWrite_LargerThanBuffer_IsChunkedAndReadBackChunked()
    {
        Define(OwnerRw, size: 2048);
        var data = Enumerable.Range(0, 2048).Select(i => unchecked((byte)(i * 7))).ToArray();
        _client.NvWrite(TpmRh.Owner, Index, data);
        Assert.Equal(data, _client.NvRead(TpmRh.Owner, Index, 2048));
    }

    [Fact]
    public void NvDefineSpace_Twice_ReturnsNvDefined()
    {
        Define(OwnerRw);
        Assert.Equal(TpmRc.NvDefined, ErrorOf(() => Define(OwnerRw)));
    }

    public static TheoryData<TpmaNv, ushort, TpmRc> BadDefinitions => new()
    {
        { TpmaNv.OwnerWrite, 8, TpmResponseCode.Parameter(TpmRc.Attributes, 2) }, // no way to read
        { TpmaNv.OwnerRead, 8, TpmResponseCode.Parameter(TpmRc.Attributes, 2) }, // no way to write
        { OwnerRw | TpmaNv.Written, 8, TpmResponseCode.Parameter(TpmRc.Attributes, 2) },
        { OwnerRw | TpmaNv.WriteLocked, 8, TpmResponseCode.Parameter(TpmRc.Attributes, 2) },
        { OwnerRw | TpmaNv.ReadLocked, 8, TpmResponseCode.Parameter(TpmRc.Attributes, 2) },
        { OwnerRw | TpmaNv.PolicyDelete, 8, TpmResponseCode.Parameter(TpmRc.Attributes, 2) },
        { OwnerRw | TpmaNv.ClearStClear | TpmaNv.WriteDefine, 8, TpmResponseCode.Parameter(TpmRc.Attributes, 2) },
        { OwnerRw | TpmaNv.TypeCounter | TpmaNv.ClearStClear, 8, TpmResponseCode.Parameter(TpmRc.Attributes, 2) },
        { OwnerRw | (TpmaNv)0x80, 8, TpmResponseCode.Parameter(TpmRc.Attributes, 2) }, // TPM_NT_PIN_FAIL: not implemented
        { OwnerRw | TpmaNv.TypeCounter, 4, TpmResponseCode.Parameter(TpmRc.Size, 2) },
        { OwnerRw | TpmaNv.TypeBits, 16, TpmResponseCode.Parameter(TpmRc.Size, 2) },
        { OwnerRw | TpmaNv.TypeExtend, 20, TpmResponseCode.Parameter(TpmRc.Size, 2) }, // SHA-256 index needs 32
        { OwnerRw, 2049, TpmResponseCode.Parameter(TpmRc.Size, 2) },
        { OwnerRw | TpmaNv.WriteAll, 1025, TpmResponseCode.Parameter(TpmRc.Size, 2) },
        { OwnerRw | TpmaNv.PlatformCreate, 8, TpmResponseCode.Handle(TpmRc.Attributes, 1) }, // owner cannot create a platform index
        { OwnerRw | (TpmaNv)0x100, 8, TpmResponseCode.Parameter(TpmRc.ReservedBits, 2) },
    };

    [Theory]
    [MemberData(nameof(BadDefinitions))]
    public void NvDefineSpace_InconsistentPublicArea_IsRefused(TpmaNv attributes, ushort size, TpmRc expected)
    {
        Assert.Equal(expected, ErrorOf(() => Define(attributes, size)));
        Assert.Empty(_tpm.State.NvIndices);
    }

    [Fact]
    public void NvDefineSpace_PinIndices_CheckedAsTheReferenceThenRefusedAsNotImplemented()
    {
        var pinPass = (TpmaNv)(9u << 4);
        var pinFail = (TpmaNv)(8u << 4);

        // As libtpms: a PIN index has dataSize 8, a PIN-fail index is NO_DA (found by the mutation test).
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 2), ErrorOf(() => Define(OwnerRw | pinPass, 16)));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Attributes, 2), ErrorOf(() => Define(TpmaNv.OwnerWrite | TpmaNv.OwnerRead | pinFail, 8)));
        // A well-formed one: not implemented here (documented difference).
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Attributes, 2), ErrorOf(() => Define(OwnerRw | pinPass, 8)));
    }

    [Fact]
    public void NvDefineSpace_PlatformWithoutPlatformCreate_ReturnsAttributesHandle1()
    {
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Attributes, 1), ErrorOf(() => Define(TpmaNv.PpWrite | TpmaNv.PpRead, hierarchy: TpmRh.Platform)));
    }

    [Theory]
    [InlineData(0x01000000u - 1)]
    [InlineData(0x02000000u)]
    [InlineData(0x81000000u)]
    public void NvDefineSpace_HandleOutsideNvRange_ReturnsValueParameter2(uint index)
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), ErrorOf(() => Define(OwnerRw, index: index)));
    }

    [Fact]
    public void NvDefineSpace_NullNameAlg_ReturnsHashParameter2()
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Hash, 2), ErrorOf(() => _client.NvDefineSpace(TpmRh.Owner, Public(OwnerRw, nameAlg: TpmAlgId.Null), [])));
    }

    [Fact]
    public void NvDefineSpace_PolicyOfWrongSize_ReturnsSizeParameter2()
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 2), ErrorOf(() => _client.NvDefineSpace(TpmRh.Owner, Public(OwnerRw, policy: new byte[20]), [])));
    }

    [Fact]
    public void NvDefineSpace_AuthLongerThanNameAlgDigest_ReturnsSizeParameter1()
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), ErrorOf(() => _client.NvDefineSpace(TpmRh.Owner, Public(OwnerRw, nameAlg: TpmAlgId.Sha1), Enumerable.Repeat((byte)1, 21).ToArray())));
    }

    [Fact]
    public void NvDefineSpace_EmptyPublicArea_ReturnsSizeParameter2()
    {
        var e = Assert.Throws<TpmException>(() => _client.Execute(TpmCc.NvDefineSpace, [TpmRh.Owner], [TpmAuthorization.EmptyPassword], w =>
        {
            w.WriteTpm2b([]);
            w.WriteU16(0);
        }));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 2), e.ResponseCode);
    }

    [Fact]
    public void NvDefineSpace_BeyondNvMemory_ReturnsNvSpace()
    {
        var index = Index;
        var rc = ErrorOf(() =>
        {
            while (true)
            {
                Define(OwnerRw, size: 2048, index: index++);
            }
        });
        Assert.Equal(TpmRc.NvSpace, rc);
        Assert.InRange(_tpm.State.NvIndices.Count, 20, 40);
    }

    [Fact]
    public void NvWrite_OwnerWithoutOwnerWrite_ReturnsNvAuthorization()
    {
        Define(TpmaNv.AuthWrite | TpmaNv.OwnerRead);
        Assert.Equal(TpmRc.NvAuthorization, ErrorOf(() => _client.NvWrite(TpmRh.Owner, Index, "x"u8)));
    }

    [Fact]
    public void NvRead_OwnerWithoutOwnerRead_ReturnsNvAuthorization()
    {
        Define(TpmaNv.OwnerWrite | TpmaNv.AuthRead);
        _client.NvWrite(TpmRh.Owner, Index, "x"u8);
        Assert.Equal(TpmRc.NvAuthorization, ErrorOf(() => _client.NvRead(TpmRh.Owner, Index, 1)));
    }

    [Fact]
    public void NvWrite_PlatformWithoutPpWrite_ReturnsNvAuthorization()
    {
        Define(OwnerRw);
        Assert.Equal(TpmRc.NvAuthorization, ErrorOf(() => _client.NvWrite(TpmRh.Platform, Index, "x"u8)));
    }

    [Fact]
    public void NvWrite_AuthorizedByAnotherIndex_ReturnsNvAuthorization()
    {
        Define(AuthRw);
        Define(AuthRw, index: Index + 1);
        Assert.Equal(TpmRc.NvAuthorization, ErrorOf(() => _client.NvWrite(Index + 1, Index, "x"u8)));
    }

    /// <summary>As the reference implementation (IsAuthValueAvailable), an index whose TPMA_NV forbids its authValue for the operation answers TPM_RC_AUTH_UNAVAILABLE, even for a wrong password.</summary>
    [Fact]
    public void NvWrite_IndexAuthWithoutAuthWrite_ReturnsAuthUnavailable()
    {
        Define(TpmaNv.OwnerWrite | TpmaNv.AuthRead, auth: "pw"u8.ToArray());
        Assert.Equal(TpmRc.AuthUnavailable, ErrorOf(() => _client.NvWrite(Index, Index, "x"u8, auth: TpmAuthorization.Password("pw"u8))));
        Assert.Equal(TpmRc.AuthUnavailable, ErrorOf(() => _client.NvWrite(Index, Index, "x"u8, auth: TpmAuthorization.Password("wrong"u8))));
    }

    [Fact]
    public void NvRead_IndexAuthWithoutAuthRead_ReturnsAuthUnavailable()
    {
        Define(TpmaNv.AuthWrite | TpmaNv.OwnerRead);
        _client.NvWrite(Index, Index, "x"u8);
        Assert.Equal(TpmRc.AuthUnavailable, ErrorOf(() => _client.NvRead(Index, Index, 1)));
    }

    [Fact]
    public void CheckAuthAvailable_PolicyRules_FollowPolicyReadAndPolicyWrite()
    {
        var policy = new byte[32];
        var nv = new NvIndex(Public(TpmaNv.PolicyWrite | TpmaNv.OwnerRead, policy: policy), [], new byte[32]);
        NvCommands.CheckAuthAvailable(TpmCc.NvWrite, AuthRole.User, nv, policySession: true);
        Assert.Equal(TpmRc.AuthUnavailable, ErrorOf(() => NvCommands.CheckAuthAvailable(TpmCc.NvRead, AuthRole.User, nv, policySession: true)));
        Assert.Equal(TpmRc.AuthUnavailable, ErrorOf(() => NvCommands.CheckAuthAvailable(TpmCc.NvWrite, AuthRole.User, nv, policySession: false)));
        Assert.Equal(TpmRc.AuthType, ErrorOf(() => NvCommands.CheckAuthAvailable(TpmCc.NvChangeAuth, AuthRole.Admin, nv, policySession: false)));

        var noPolicy = new NvIndex(Public(TpmaNv.PolicyWrite | TpmaNv.OwnerRead), [], new byte[32]);
        Assert.Equal(TpmRc.AuthUnavailable, ErrorOf(() => NvCommands.CheckAuthAvailable(TpmCc.NvWrite, AuthRole.User, noPolicy, policySession: true)));
    }

    [Fact]
    public void NvWrite_BeyondTheIndex_ReturnsNvRange()
    {
        Define(OwnerRw, size: 8);
        Assert.Equal(TpmRc.NvRange, ErrorOf(() => _client.NvWrite(TpmRh.Owner, Index, new byte[5], offset: 4)));
    }

    [Fact]
    public void NvWrite_OffsetBeyondTheIndex_ReturnsValueParameter2()
    {
        Define(OwnerRw, size: 8);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), ErrorOf(() => _client.NvWrite(TpmRh.Owner, Index, [], offset: 9)));
    }

    [Fact]
    public void NvWrite_PartialWriteOfWriteAllIndex_ReturnsNvRange()
    {
        Define(OwnerRw | TpmaNv.WriteAll, size: 8);
        Assert.Equal(TpmRc.NvRange, ErrorOf(() => _client.NvWrite(TpmRh.Owner, Index, new byte[7])));
        _client.NvWrite(TpmRh.Owner, Index, new byte[8]);
    }

    [Theory]
    [InlineData(TpmaNv.TypeCounter, 8)]
    [InlineData(TpmaNv.TypeBits, 8)]
    [InlineData(TpmaNv.TypeExtend, 32)]
    public void NvWrite_NonOrdinaryIndex_ReturnsAttributes(TpmaNv type, ushort size)
    {
        Define(OwnerRw | type, size);
        Assert.Equal(TpmRc.Attributes, ErrorOf(() => _client.NvWrite(TpmRh.Owner, Index, new byte[8])));
    }

    [Fact]
    public void NvWrite_MoreThan1024Octets_ReturnsSizeParameter1()
    {
        Define(OwnerRw, size: 2048);
        var e = Assert.Throws<TpmException>(() => _client.Execute(TpmCc.NvWrite, [TpmRh.Owner, Index], [TpmAuthorization.EmptyPassword], w =>
        {
            w.WriteTpm2b(new byte[1025]);
            w.WriteU16(0);
        }));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), e.ResponseCode);
    }

    [Fact]
    public void NvRead_NotWritten_ReturnsNvUninitialized()
    {
        Define(OwnerRw);
        Assert.Equal(TpmRc.NvUninitialized, ErrorOf(() => _client.NvRead(TpmRh.Owner, Index, 1)));
    }

    [Fact]
    public void NvRead_MoreThan1024OctetsInOneCommand_ReturnsValueParameter1()
    {
        Define(OwnerRw, size: 2048);
        _client.NvWrite(TpmRh.Owner, Index, new byte[2048]);
        var e = Assert.Throws<TpmException>(() => _client.Execute(TpmCc.NvRead, [TpmRh.Owner, Index], [TpmAuthorization.EmptyPassword], w =>
        {
            w.WriteU16(1025);
            w.WriteU16(0);
        }));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), e.ResponseCode);
    }

    [Fact]
    public void NvRead_BeyondTheIndex_ReturnsNvRange()
    {
        Define(OwnerRw, size: 8);
        _client.NvWrite(TpmRh.Owner, Index, new byte[8]);
        Assert.Equal(TpmRc.NvRange, ErrorOf(() => _client.NvRead(TpmRh.Owner, Index, 4, 5)));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), ErrorOf(() => _client.NvRead(TpmRh.Owner, Index, 0, 9)));
    }

    [Fact]
    public void NvReadPublic_UndefinedIndex_ReturnsHandle1()
    {
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Handle, 1), ErrorOf(() => _client.NvReadPublic(Index)));
    }

    [Fact]
    public void NvWriteLock_WriteDefine_LocksUntilUndefinedEvenAcrossReboots()
    {
        Define(OwnerRw | TpmaNv.WriteDefine, size: 8);
        _client.NvWrite(TpmRh.Owner, Index, new byte[8]);
        _client.NvWriteLock(TpmRh.Owner, Index);
        Assert.Equal(TpmRc.NvLocked, ErrorOf(() => _client.NvWrite(TpmRh.Owner, Index, new byte[8])));
        _client.NvWriteLock(TpmRh.Owner, Index); // locking again is no error
        Reboot();
        Assert.Equal(TpmRc.NvLocked, ErrorOf(() => _client.NvWrite(TpmRh.Owner, Index, new byte[8])));
    }

    [Fact]
    public void NvWriteLock_WriteStClear_UnlocksAtNextStartup()
    {
        Define(OwnerRw | TpmaNv.WriteStClear, size: 8);
        _client.NvWriteLock(TpmRh.Owner, Index);
        Assert.Equal(TpmRc.NvLocked, ErrorOf(() => _client.NvWrite(TpmRh.Owner, Index, new byte[8])));
        Reboot();
        _client.NvWrite(TpmRh.Owner, Index, new byte[8]);
    }

    [Fact]
    public void NvWriteLock_WithoutLockAttribute_ReturnsAttributesHandle2()
    {
        Define(OwnerRw);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Attributes, 2), ErrorOf(() => _client.NvWriteLock(TpmRh.Owner, Index)));
    }

    [Fact]
    public void NvReadLock_ReadStClear_LocksReadsUntilNextStartup()
    {
        Define(OwnerRw | TpmaNv.ReadStClear, size: 8);
        _client.NvWrite(TpmRh.Owner, Index, new byte[8]);
        _client.NvReadLock(TpmRh.Owner, Index);
        Assert.Equal(TpmRc.NvLocked, ErrorOf(() => _client.NvRead(TpmRh.Owner, Index, 8)));
        Reboot();
        Assert.Equal(new byte[8], _client.NvRead(TpmRh.Owner, Index, 8));
    }

    [Fact]
    public void NvWrite_ClearStClearIndex_IsUnwrittenAfterReboot()
    {
        Define(OwnerRw | TpmaNv.ClearStClear, size: 8);
        _client.NvWrite(TpmRh.Owner, Index, new byte[8]);
        Reboot();
        Assert.Equal(TpmRc.NvUninitialized, ErrorOf(() => _client.NvRead(TpmRh.Owner, Index, 8)));
    }

    [Fact]
    public void NvExtend_TwoExtends_ChainNameAlgHashesFromZero()
    {
        _client.NvDefineSpace(TpmRh.Owner, Public(OwnerRw | TpmaNv.TypeExtend, 48, nameAlg: TpmAlgId.Sha384), []);
        _client.NvExtend(TpmRh.Owner, Index, "one"u8);
        _client.NvExtend(TpmRh.Owner, Index, "two"u8);
        var first = TpmHash.Hash(TpmAlgId.Sha384, new byte[48], "one"u8.ToArray());
        var second = TpmHash.Hash(TpmAlgId.Sha384, first, "two"u8.ToArray());
        Assert.Equal(second, _client.NvRead(TpmRh.Owner, Index, 48));
    }

    [Fact]
    public void NvExtend_OrdinaryIndex_ReturnsAttributesHandle2()
    {
        Define(OwnerRw);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Attributes, 2), ErrorOf(() => _client.NvExtend(TpmRh.Owner, Index, "x"u8)));
    }

    [Fact]
    public void NvIncrement_Counter_CountsAndNewCounterStartsAtTheLargest()
    {
        Define(OwnerRw | TpmaNv.TypeCounter, size: 8);
        _client.NvIncrement(TpmRh.Owner, Index);
        _client.NvIncrement(TpmRh.Owner, Index);
        Assert.Equal(2UL, BinaryPrimitives.ReadUInt64BigEndian(_client.NvRead(TpmRh.Owner, Index, 8)));
        Define(OwnerRw | TpmaNv.TypeCounter, size: 8, index: Index + 1);
        _client.NvIncrement(TpmRh.Owner, Index + 1);
        Assert.Equal(3UL, BinaryPrimitives.ReadUInt64BigEndian(_client.NvRead(TpmRh.Owner, Index + 1, 8)));
    }

    [Fact]
    public void NvIncrement_OrdinaryIndex_ReturnsAttributesHandle2()
    {
        Define(OwnerRw, size: 8);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Attributes, 2), ErrorOf(() => _client.NvIncrement(TpmRh.Owner, Index)));
    }

    [Fact]
    public void NvSetBits_BitField_OrsBits()
    {
        Define(OwnerRw | TpmaNv.TypeBits, size: 8);
        _client.NvSetBits(TpmRh.Owner, Index, 0x5);
        _client.NvSetBits(TpmRh.Owner, Index, 0x100);
        Assert.Equal(0x105UL, BinaryPrimitives.ReadUInt64BigEndian(_client.NvRead(TpmRh.Owner, Index, 8)));
    }

    [Fact]
    public void NvUndefineSpace_OwnerIndex_RemovesIt()
    {
        Define(OwnerRw);
        _client.NvUndefineSpace(TpmRh.Owner, Index);
        Assert.Empty(_tpm.State.NvIndices);
        Define(OwnerRw);
    }

    [Fact]
    public void NvUndefineSpace_OwnerDeletingPlatformIndex_ReturnsNvAuthorization()
    {
        Define(TpmaNv.PlatformCreate | TpmaNv.PpWrite | TpmaNv.PpRead, hierarchy: TpmRh.Platform);
        Assert.Equal(TpmRc.NvAuthorization, ErrorOf(() => _client.NvUndefineSpace(TpmRh.Owner, Index)));
        _client.NvUndefineSpace(TpmRh.Platform, Index);
    }

    [Fact]
    public void NvUndefineSpace_PlatformDeletingOwnerIndex_Succeeds()
    {
        Define(OwnerRw);
        _client.NvUndefineSpace(TpmRh.Platform, Index);
        Assert.Empty(_tpm.State.NvIndices);
    }

    [Fact]
    public void NvUndefineSpace_PolicyDeleteIndex_ReturnsAttributesHandle2()
    {
        var pub = Public(TpmaNv.PlatformCreate | TpmaNv.PpWrite | TpmaNv.PpRead | TpmaNv.PolicyDelete, policy: new byte[32]);
        _tpm.State.NvIndices[Index] = new NvIndex(pub, [], new byte[32]);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Attributes, 2), ErrorOf(() => _client.NvUndefineSpace(TpmRh.Platform, Index)));
    }

    [Fact]
    public void NvDefineSpace_WrongOwnerPassword_ReturnsBadAuth()
    {
        var e = Assert.Throws<TpmException>(() => _client.NvDefineSpace(TpmRh.Owner, Public(OwnerRw), [], TpmAuthorization.Password("nope"u8)));
        Assert.Equal(TpmRc.BadAuth, e.BaseCode);
    }

    /// <summary>
    /// TCG EK Credential Profile: a manufacturer defines the RSA EK certificate index 0x01C00002 with
    /// platformAuth, writes the certificate, locks it, and the owner reads it back (tpm2_getekcertificate).
    /// </summary>
    [Fact]
    public void EkCertificateIndex_PlatformProvisioned_OwnerReadsItBack()
    {
        const uint ekCertIndex = 0x01C00002;
        var attributes = TpmaNv.PlatformCreate | TpmaNv.PpWrite | TpmaNv.OwnerRead | TpmaNv.AuthRead | TpmaNv.PpRead | TpmaNv.NoDA | TpmaNv.WriteDefine;
        var certificate = Enumerable.Range(0, 1350).Select(i => unchecked((byte)(i ^ 0x5A))).ToArray();
        _client.NvDefineSpace(TpmRh.Platform, Public(attributes, (ushort)certificate.Length, ekCertIndex), []);
        _client.NvWrite(TpmRh.Platform, ekCertIndex, certificate);
        _client.NvWriteLock(TpmRh.Platform, ekCertIndex);

        var owner = new Tpm2(_tpm);
        var pub = owner.NvReadPublic(ekCertIndex).NvPublic;
        Assert.Equal(attributes | TpmaNv.Written | TpmaNv.WriteLocked, pub.Attributes);
        Assert.Equal(certificate, owner.NvRead(TpmRh.Owner, ekCertIndex, pub.DataSize));
        Assert.Equal(certificate, owner.NvRead(ekCertIndex, ekCertIndex, pub.DataSize));
        Assert.Equal(TpmRc.NvLocked, ErrorOf(() => owner.NvWrite(TpmRh.Platform, ekCertIndex, "x"u8)));
        Assert.Equal(TpmRc.NvAuthorization, ErrorOf(() => owner.NvUndefineSpace(TpmRh.Owner, ekCertIndex)));
    }

    [Fact]
    public void NvWrite_WithStateFolder_SurvivesANewEngine()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-nv-");
        try
        {
            using (var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 4, AutoStartup = true, StateDirectory = dir.FullName }))
            {
                var client = new Tpm2(tpm);
                client.NvDefineSpace(TpmRh.Owner, Public(OwnerRw, 4), []);
                client.NvWrite(TpmRh.Owner, Index, "keep"u8);
            }

            using var again = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, StateDirectory = dir.FullName });
            Assert.Equal("keep"u8.ToArray(), new Tpm2(again).NvRead(TpmRh.Owner, Index, 4));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
