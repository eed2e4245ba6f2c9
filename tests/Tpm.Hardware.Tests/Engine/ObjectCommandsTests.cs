using System.Security.Cryptography;
using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class ObjectCommandsTests
{
    private static readonly byte[] Secret = "the sealed secret"u8.ToArray();

    // ---- CreatePrimary ----

    [Fact]
    public void CreatePrimary_EccEk_ReturnsKeyMatchingTheTemplate()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ek = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());

        Assert.Equal(TpmRh.TransientFirst, ek.Handle);
        Assert.Equal(ek.Public.GetName(), ek.Name);
        Assert.Equal(TpmTemplates.EkAttributes, ek.Public.ObjectAttributes);
        var point = Assert.IsType<EccPoint>(ek.Public.Unique);
        Assert.Equal(32, point.X.Length);
        Assert.Equal(32, point.Y.Length);

        // The point is a valid P-256 public key.
        using var ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = point.X, Y = point.Y } });
        Assert.Equal(256, ecdsa.KeySize);
    }

    [Fact]
    public void CreatePrimary_RsaEk_ReturnsA2048BitModulus()
    {
        using var tpm = NewTpm();
        var ek = new Tpm2(tpm).CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkRsa2048());

        var modulus = Assert.IsType<RsaPublicId>(ek.Public.Unique).Modulus;
        Assert.Equal(256, modulus.Length);
        Assert.True(modulus[0] >= 0x80);
    }

    [Fact]
    public void CreatePrimary_SameTemplateTwice_SameKey()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var first = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        var second = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());

        Assert.NotEqual(first.Handle, second.Handle);
        Assert.Equal(first.Name, second.Name);
    }

    [Fact]
    public void CreatePrimary_RsaSameTemplateTwice_SameKey()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var first = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkRsa2048());
        var second = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkRsa2048());

        Assert.Equal(first.Name, second.Name);
    }

    [Fact]
    public void CreatePrimary_AcrossEngineRestartsWithStateFolder_SameKey()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-objects-");
        try
        {
            byte[] first;
            using (var tpm = NewTpm(seed: null, stateDirectory: dir.FullName))
            {
                first = new Tpm2(tpm).CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256()).Name;
            }

            using (var tpm = NewTpm(seed: null, stateDirectory: dir.FullName))
            {
                Assert.Equal(first, new Tpm2(tpm).CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256()).Name);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void CreatePrimary_SeparateEnginesWithTheSameSeed_SameKey()
    {
        using var a = NewTpm(seed: 5);
        using var b = NewTpm(seed: 5);
        using var c = NewTpm(seed: 6);
        var nameA = new Tpm2(a).CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256()).Name;

        Assert.Equal(nameA, new Tpm2(b).CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256()).Name);
        Assert.NotEqual(nameA, new Tpm2(c).CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256()).Name);
    }

    [Fact]
    public void CreatePrimary_OtherHierarchyOrUniqueOrData_OtherKey()
    {
        using var tpm = NewTpm(slots: 5);
        var client = new Tpm2(tpm);
        var template = TpmTemplates.SrkEccP256();
        var baseline = client.CreatePrimary(TpmRh.Owner, template).Public.ToBytes();

        var otherHierarchy = client.CreatePrimary(TpmRh.Endorsement, template).Public.ToBytes();
        var otherUnique = client.CreatePrimary(TpmRh.Owner, template with { Unique = new EccPoint([1], []) }).Public.ToBytes();
        var otherData = client.CreatePrimary(TpmRh.Owner, template, new TpmsSensitiveCreate([], [1, 2, 3])).Public.ToBytes();
        var sameAgain = client.CreatePrimary(TpmRh.Owner, template).Public.ToBytes();

        Assert.Equal(baseline, sameAgain);
        Assert.NotEqual(baseline, otherHierarchy);
        Assert.NotEqual(baseline, otherUnique);
        Assert.NotEqual(baseline, otherData);
    }

    [Fact]
    public void CreatePrimary_NullHierarchy_NewKeyAfterTpmReset()
    {
        using var tpm = NewTpm(seed: null);
        var before = new Tpm2(tpm).CreatePrimary(TpmRh.Null, TpmTemplates.SrkEccP256()).Name;
        tpm.PowerOff();
        tpm.PowerOn();

        Assert.NotEqual(before, new Tpm2(tpm).CreatePrimary(TpmRh.Null, TpmTemplates.SrkEccP256()).Name);
    }

    [Fact]
    public void CreatePrimary_AllSlotsTaken_ReturnsObjectMemory()
    {
        using var tpm = NewTpm(slots: 3);
        var client = new Tpm2(tpm);
        var handles = Enumerable.Range(0, 3).Select(_ => client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle).ToArray();

        Assert.Equal([0x80000000u, 0x80000001u, 0x80000002u], handles);
        Assert.Equal(TpmRc.ObjectMemory, ErrorOf(() => client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256())));
    }

    [Fact]
    public void CreatePrimary_FreedSlot_IsReused()
    {
        using var tpm = NewTpm(slots: 3);
        var client = new Tpm2(tpm);
        for (var i = 0; i < 3; i++)
        {
            client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        }

        // What TPM2_FlushContext does to the engine state.
        tpm.State.TransientObjects.Remove(0x80000001, out var flushed);
        flushed!.Dispose();

        Assert.Equal(0x80000001u, client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle);
    }

    [Fact]
    public void CreatePrimary_CreationOutputs_FollowPart3()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var pcrs = PcrSelectionList.Create(TpmAlgId.Sha256, 0, 1, 2);
        var result = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256(), creationPcrs: pcrs, outsideInfo: [9, 8, 7]);
        var data = result.CreationData;

        Assert.Equal(SHA256.HashData(new byte[3 * 32]), data.PcrDigest);
        Assert.Equal(pcrs.ToString(), data.PcrSelect.ToString());
        Assert.Equal(1, data.Locality);
        Assert.Equal(TpmAlgId.Null, data.ParentNameAlg);
        Assert.Equal(Convert.FromHexString("40000001"), data.ParentName);
        Assert.Equal(Convert.FromHexString("40000001"), data.ParentQualifiedName);
        Assert.Equal([9, 8, 7], data.OutsideInfo);
        Assert.Equal(SHA256.HashData(data.ToBytes()), result.CreationHash);

        // Creation ticket = HMAC(proof, TPM_ST_CREATION ‖ Name ‖ creationHash), Part 2 §10.7.3.
        var proof = tpm.State.ShProof!.Reveal();
        var expected = HMACSHA256.HashData(proof, (byte[])[0x80, 0x21, .. result.Name, .. result.CreationHash]);
        Assert.Equal(TpmSt.Creation, result.CreationTicket.Tag);
        Assert.Equal(TpmRh.Owner, result.CreationTicket.Hierarchy);
        Assert.Equal(expected, result.CreationTicket.Digest);
    }

    [Fact]
    public void CreatePrimary_UnallocatedCreationBank_IsFilteredOut()
    {
        using var tpm = NewTpm();
        var result = new Tpm2(tpm).CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256(), creationPcrs: PcrSelectionList.Create(TpmAlgId.Sha512, 0, 1));

        Assert.Empty(result.CreationData.PcrSelect.Selections[0].Pcrs);
        Assert.Equal(SHA256.HashData([]), result.CreationData.PcrDigest);
    }

    [Fact]
    public void CreatePrimary_QualifiedName_IsHashOfHierarchyAndName()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ek = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        var read = client.ReadPublic(ek.Handle);

        Assert.Equal([0x00, 0x0B, .. SHA256.HashData([0x40, 0x00, 0x00, 0x0B, .. ek.Name])], read.QualifiedName);
    }

    [Fact]
    public void CreatePrimary_WithAuthValue_KeyNeedsIt()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256(), new TpmsSensitiveCreate("pw"u8.ToArray(), []));
        var digest = SHA256.HashData("x"u8);

        Assert.Equal(TpmResponseCode.Session(TpmRc.AuthFail, 1), ErrorOf(() => client.Sign(key.Handle, digest)));
        Assert.True(VerifyWithDotNet(key.Public, digest, client.Sign(key.Handle, digest, auth: TpmAuthorization.Password("pw"u8))));
    }

    [Fact]
    public void CreatePrimary_WrongHierarchyPassword_ReturnsBadAuth()
    {
        using var tpm = NewTpm();
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => new Tpm2(tpm).CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256(), hierarchyAuth: TpmAuthorization.Password("nope"u8))));
    }

    [Fact]
    public void CreatePrimary_SealedDataPrimary_Unseals()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var sealedPrimary = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SealedData(), new TpmsSensitiveCreate([], Secret));

        Assert.Equal(Secret, client.Unseal(sealedPrimary.Handle));
    }

    public static TheoryData<string> InvalidTemplateCases => [.. InvalidTemplates.Keys];

    private static readonly Dictionary<string, (Func<TpmtPublic> Template, byte[] Data, TpmRc Expected)> InvalidTemplates = new()
    {
        ["NameAlgNull"] = (() => TpmTemplates.SrkEccP256() with { NameAlg = TpmAlgId.Null }, [], TpmRc.Hash),
        ["NameAlgNotImplemented"] = (() => TpmTemplates.SrkEccP256() with { NameAlg = TpmAlgId.Sm3256 }, [], TpmRc.Hash),
        ["FixedTpmWithoutFixedParent"] = (() => TpmTemplates.SrkEccP256() with { ObjectAttributes = TpmTemplates.SrkAttributes & ~TpmaObject.FixedParent }, [], TpmRc.Attributes),
        ["RestrictedSignAndDecrypt"] = (() => TpmTemplates.AkEccP256() with { ObjectAttributes = TpmTemplates.AkAttributes | TpmaObject.Decrypt }, [], TpmRc.Attributes),
        ["NeitherSignNorDecrypt"] = (() => TpmTemplates.SigningEccP256() with { ObjectAttributes = TpmTemplates.SigningKeyAttributes & ~TpmaObject.Sign }, [], TpmRc.Attributes),
        ["RestrictedSigningWithoutScheme"] = (() => TpmTemplates.AkEccP256() with { Parameters = new EccParms(TpmtSymDef.Null, TpmtScheme.Null, TpmEccCurve.NistP256, TpmtScheme.Null) }, [], TpmRc.Scheme),
        ["SigningKeyWithDecryptScheme"] = (() => TpmTemplates.SigningEccP256(new TpmtScheme(TpmAlgId.Ecdh, TpmAlgId.Sha256)), [], TpmRc.Scheme),
        ["StorageKeyWithScheme"] = (() => TpmTemplates.SrkEccP256() with { Parameters = new EccParms(TpmtSymDef.Aes128Cfb, new TpmtScheme(TpmAlgId.Ecdh, TpmAlgId.Sha256), TpmEccCurve.NistP256, TpmtScheme.Null) }, [], TpmRc.Scheme),
        ["StorageKeyWithoutSymmetric"] = (() => TpmTemplates.SrkEccP256() with { Parameters = new EccParms(TpmtSymDef.Null, TpmtScheme.Null, TpmEccCurve.NistP256, TpmtScheme.Null) }, [], TpmRc.Symmetric),
        ["SigningKeyWithSymmetric"] = (() => TpmTemplates.SigningEccP256() with { Parameters = new EccParms(TpmtSymDef.Aes128Cfb, new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256), TpmEccCurve.NistP256, TpmtScheme.Null) }, [], TpmRc.Symmetric),
        ["CurveNotImplemented"] = (() => TpmTemplates.SigningEccP256() with { Parameters = new EccParms(TpmtSymDef.Null, new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256), (TpmEccCurve)0x0099, TpmtScheme.Null) }, [], TpmRc.Curve),
        ["EccKeyWithKdf"] = (() => TpmTemplates.SigningEccP256() with { Parameters = new EccParms(TpmtSymDef.Null, new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256), TpmEccCurve.NistP256, new TpmtScheme(TpmAlgId.Kdf1Sp800108, TpmAlgId.Sha256)) }, [], TpmRc.Kdf),
        ["RsaKeySizeNotImplemented"] = (() => TpmTemplates.SigningRsa2048() with { Parameters = new RsaParms(TpmtSymDef.Null, new TpmtScheme(TpmAlgId.Rsassa, TpmAlgId.Sha256), 1000, 0) }, [], TpmRc.Value),
        ["AuthPolicyNotANameAlgDigest"] = (() => TpmTemplates.SrkEccP256() with { AuthPolicy = new byte[20] }, [], TpmRc.Size),
        ["AsymmetricKeyWithoutSensitiveDataOrigin"] = (() => TpmTemplates.SigningEccP256() with { ObjectAttributes = TpmTemplates.SigningKeyAttributes & ~TpmaObject.SensitiveDataOrigin }, [1, 2, 3], TpmRc.Attributes),
        ["SealedDataWithSensitiveDataOrigin"] = (() => TpmTemplates.SealedData() with { ObjectAttributes = TpmTemplates.SealedData().ObjectAttributes | TpmaObject.SensitiveDataOrigin }, [1, 2, 3], TpmRc.Attributes),
        ["SealedDataWithoutData"] = (() => TpmTemplates.SealedData(), [], TpmRc.Attributes),
        ["FixedTpmWithEncryptedDuplication"] = (() => TpmTemplates.SrkEccP256() with { ObjectAttributes = TpmTemplates.SrkAttributes | TpmaObject.EncryptedDuplication }, [], TpmRc.Attributes),
    };

    [Theory]
    [MemberData(nameof(InvalidTemplateCases))]
    public void CreatePrimary_InvalidTemplate_ReturnsCodeForParameter2(string name)
    {
        var (template, data, expected) = InvalidTemplates[name];
        using var tpm = NewTpm();

        Assert.Equal(P(expected, 2), ErrorOf(() => new Tpm2(tpm).CreatePrimary(TpmRh.Owner, template(), new TpmsSensitiveCreate([], data))));
        Assert.Empty(tpm.State.TransientObjects);
    }

    [Fact]
    public void CreatePrimary_UserAuthLongerThanNameAlgDigest_ReturnsSizeParameter1()
    {
        using var tpm = NewTpm();
        var auth = Enumerable.Repeat((byte)1, 33).ToArray();
        Assert.Equal(P(TpmRc.Size, 1), ErrorOf(() => new Tpm2(tpm).CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256(), new TpmsSensitiveCreate(auth, []))));
    }

    [Fact]
    public void CreatePrimary_UserAuthWithTrailingZeros_IsTrimmed()
    {
        using var tpm = NewTpm();
        var auth = new byte[40];
        auth[0] = 7;
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256(), new TpmsSensitiveCreate(auth, []));

        _ = client.Sign(key.Handle, new byte[32], auth: TpmAuthorization.Password([7]));
    }

    [Fact]
    public void CreatePrimary_SealedDataLongerThan128_ReturnsSizeParameter1()
    {
        using var tpm = NewTpm();
        Assert.Equal(P(TpmRc.Size, 1), ErrorOf(() => new Tpm2(tpm).CreatePrimary(TpmRh.Owner, TpmTemplates.SealedData(), new TpmsSensitiveCreate([], new byte[129]))));
    }

    [Fact]
    public void CreatePrimary_Raw_LockoutHandle_ReturnsValueHandle1()
    {
        using var tpm = NewTpm();
        Assert.Equal(H(TpmRc.Value, 1), Execute(tpm, TpmCc.CreatePrimary, [TpmRh.Lockout], 1, CreationParameters(TpmTemplates.SrkEccP256())));
    }

    [Fact]
    public void CreatePrimary_Raw_UnknownObjectType_ReturnsTypeParameter2()
    {
        using var tpm = NewTpm();
        var rc = Execute(tpm, TpmCc.CreatePrimary, [TpmRh.Owner], 1, w =>
        {
            TpmsSensitiveCreate.Empty.MarshalSized(w);
            w.WriteU16(12);
            w.WriteU16(0x0099);
            w.WriteU16((ushort)TpmAlgId.Sha256);
            w.WriteU32((uint)TpmTemplates.SrkAttributes);
            w.WriteU16(0);
            w.WriteU16(0);
            w.WriteTpm2b([]);
            w.WriteU32(0);
        });
        Assert.Equal(P(TpmRc.Type, 2), rc);
    }

    [Fact]
    public void CreatePrimary_Raw_EmptyPublic_ReturnsSizeParameter2()
    {
        using var tpm = NewTpm();
        var rc = Execute(tpm, TpmCc.CreatePrimary, [TpmRh.Owner], 1, w =>
        {
            TpmsSensitiveCreate.Empty.MarshalSized(w);
            w.WriteU16(0);
            w.WriteTpm2b([]);
            w.WriteU32(0);
        });
        Assert.Equal(P(TpmRc.Size, 2), rc);
    }

    [Fact]
    public void CreatePrimary_Raw_OutsideInfoTooLong_ReturnsSizeParameter3()
    {
        using var tpm = NewTpm();
        var rc = Execute(tpm, TpmCc.CreatePrimary, [TpmRh.Owner], 1, w =>
        {
            TpmsSensitiveCreate.Empty.MarshalSized(w);
            TpmTemplates.SrkEccP256().MarshalSized(w);
            w.WriteTpm2b(new byte[67]);
            w.WriteU32(0);
        });

        // TPM2B_DATA holds at most sizeof(TPMT_HA) = 66 octets.
        Assert.Equal(P(TpmRc.Size, 3), rc);
    }

    [Theory]
    [InlineData(0x0099, 3, TpmRc.Hash)]
    [InlineData((int)TpmAlgId.Sha256, 2, TpmRc.Value)]
    [InlineData((int)TpmAlgId.Sha256, 5, TpmRc.Value)]
    public void CreatePrimary_Raw_BadCreationPcrSelection_ReturnsCodeForParameter4(int hash, int sizeofSelect, TpmRc expected)
    {
        using var tpm = NewTpm();
        var rc = Execute(tpm, TpmCc.CreatePrimary, [TpmRh.Owner], 1, w =>
        {
            TpmsSensitiveCreate.Empty.MarshalSized(w);
            TpmTemplates.SrkEccP256().MarshalSized(w);
            w.WriteTpm2b([]);
            w.WriteU32(1);
            w.WriteU16((ushort)hash);
            w.WriteU8((byte)sizeofSelect);
            w.WriteBytes(new byte[sizeofSelect]);
        });
        Assert.Equal(P(expected, 4), rc);
    }

    [Fact]
    public void CreatePrimary_Raw_TrailingOctets_ReturnsSize()
    {
        using var tpm = NewTpm();
        var rc = Execute(tpm, TpmCc.CreatePrimary, [TpmRh.Owner], 1, w =>
        {
            CreationParameters(TpmTemplates.SrkEccP256())(w);
            w.WriteU8(0);
        });
        Assert.Equal(TpmRc.Size, TpmResponseCode.Base(rc));
        Assert.Empty(tpm.State.TransientObjects);
    }

    // ---- Create / Load ----

    [Fact]
    public void Create_SigningKeyUnderSrk_LoadsAndSigns()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var created = client.Create(srk.Handle, TpmTemplates.SigningEccP256());
        var loaded = client.Load(srk.Handle, created.Private, created.Public);

        Assert.Equal(created.Name, loaded.Name);
        Assert.Equal(TpmAlgId.Sha256, created.CreationData.ParentNameAlg);
        Assert.Equal(srk.Name, created.CreationData.ParentName);
        var digest = SHA256.HashData("message"u8);
        Assert.True(VerifyWithDotNet(created.Public, digest, client.Sign(loaded.Handle, digest)));
    }

    [Fact]
    public void Create_CreationTicket_UsesTheParentsHierarchy()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ek = client.CreatePrimary(TpmRh.Null, TpmTemplates.SrkEccP256());
        var created = client.Create(ek.Handle, TpmTemplates.SigningEccP256());

        var proof = tpm.State.NullProof!.Reveal();
        Assert.Equal(TpmRh.Null, created.CreationTicket.Hierarchy);
        Assert.Equal(HMACSHA256.HashData(proof, (byte[])[0x80, 0x21, .. created.Name, .. created.CreationHash]), created.CreationTicket.Digest);
    }

    [Fact]
    public void Create_TwiceWithTheSameTemplate_DifferentKeys()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);

        Assert.NotEqual(client.Create(srk.Handle, TpmTemplates.SigningEccP256()).Name, client.Create(srk.Handle, TpmTemplates.SigningEccP256()).Name);
    }

    [Fact]
    public void Create_ChildQualifiedName_ChainsParentQualifiedName()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var srkQn = client.ReadPublic(srk.Handle).QualifiedName;
        var created = client.Create(srk.Handle, TpmTemplates.SigningEccP256());
        var loaded = client.Load(srk.Handle, created.Private, created.Public);

        Assert.Equal([0x00, 0x0B, .. SHA256.HashData([.. srkQn, .. loaded.Name])], client.ReadPublic(loaded.Handle).QualifiedName);
    }

    [Fact]
    public void Create_RsaStorageChild_CanParentItsOwnChildren()
    {
        using var tpm = NewTpm(slots: 4);
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var storage = client.Create(srk.Handle, TpmTemplates.SrkEccP256() with { Unique = new EccPoint([], []) });
        var storageHandle = client.Load(srk.Handle, storage.Private, storage.Public).Handle;
        var grandchild = client.Create(storageHandle, TpmTemplates.SealedData(), new TpmsSensitiveCreate([], Secret));
        var sealedHandle = client.Load(storageHandle, grandchild.Private, grandchild.Public).Handle;

        Assert.Equal(Secret, client.Unseal(sealedHandle));
    }

    [Fact]
    public void Create_ParentIsSigningKey_ReturnsTypeHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Owner, TpmTemplates.AkEccP256());

        Assert.Equal(H(TpmRc.Type, 1), ErrorOf(() => client.Create(ak.Handle, TpmTemplates.SigningEccP256())));
    }

    [Fact]
    public void Create_SensitiveDataOriginWithData_ReturnsAttributesParameter2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);

        Assert.Equal(P(TpmRc.Attributes, 2), ErrorOf(() => client.Create(srk.Handle, TpmTemplates.HmacKey(), new TpmsSensitiveCreate([], [1, 2, 3]))));
    }

    [Fact]
    public void Create_NonDuplicableStorageChildWithOtherNameAlg_ReturnsHashParameter2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);

        Assert.Equal(P(TpmRc.Hash, 2), ErrorOf(() => client.Create(srk.Handle, TpmTemplates.SrkEccP256() with { NameAlg = TpmAlgId.Sha384 })));
    }

    [Fact]
    public void Create_NoFreeSlot_ReturnsObjectMemory()
    {
        using var tpm = NewTpm(slots: 1);
        var client = new Tpm2(tpm);
        var srk = Srk(client);

        Assert.Equal(TpmRc.ObjectMemory, ErrorOf(() => client.Create(srk.Handle, TpmTemplates.SigningEccP256())));
    }

    [Fact]
    public void Create_RsaSigningKey_SignsWithRsassa()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var created = client.Create(srk.Handle, TpmTemplates.SigningRsa2048());
        var handle = client.Load(srk.Handle, created.Private, created.Public).Handle;
        var digest = SHA256.HashData("rsa"u8);

        var signature = client.Sign(handle, digest);
        Assert.Equal(TpmAlgId.Rsassa, signature.SigAlg);
        Assert.True(VerifyWithDotNet(created.Public, digest, signature));
    }

    [Fact]
    public void Load_TamperedPrivate_ReturnsIntegrityParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var created = client.Create(srk.Handle, TpmTemplates.SigningEccP256());
        var tampered = (byte[])created.Private.Clone();
        tampered[^1] ^= 1;

        Assert.Equal(P(TpmRc.Integrity, 1), ErrorOf(() => client.Load(srk.Handle, tampered, created.Public)));
        Assert.Single(tpm.State.TransientObjects);
    }

    [Fact]
    public void Load_OtherPublicArea_ReturnsIntegrityParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var a = client.Create(srk.Handle, TpmTemplates.SigningEccP256());
        var b = client.Create(srk.Handle, TpmTemplates.SigningEccP256());

        Assert.Equal(P(TpmRc.Integrity, 1), ErrorOf(() => client.Load(srk.Handle, a.Private, b.Public)));
    }

    [Fact]
    public void Load_UnderAnotherParent_ReturnsIntegrityParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var otherParent = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.SrkEccP256());
        var created = client.Create(srk.Handle, TpmTemplates.SigningEccP256());

        Assert.Equal(P(TpmRc.Integrity, 1), ErrorOf(() => client.Load(otherParent.Handle, created.Private, created.Public)));
    }

    [Fact]
    public void Load_EmptyPrivate_ReturnsSizeParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);

        Assert.Equal(P(TpmRc.Size, 1), ErrorOf(() => client.Load(srk.Handle, [], TpmTemplates.SigningEccP256())));
    }

    [Fact]
    public void Load_ParentIsNotAStorageKey_ReturnsTypeHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var created = client.Create(srk.Handle, TpmTemplates.SigningEccP256());
        var ak = client.CreatePrimary(TpmRh.Owner, TpmTemplates.AkEccP256());

        Assert.Equal(H(TpmRc.Type, 1), ErrorOf(() => client.Load(ak.Handle, created.Private, created.Public)));
    }

    [Fact]
    public void Load_NoFreeSlot_ReturnsObjectMemory()
    {
        using var tpm = NewTpm(slots: 2);
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var created = client.Create(srk.Handle, TpmTemplates.SigningEccP256());
        client.Load(srk.Handle, created.Private, created.Public);

        Assert.Equal(TpmRc.ObjectMemory, ErrorOf(() => client.Load(srk.Handle, created.Private, created.Public)));
    }

    [Fact]
    public void Load_UnderDuplicableParent_ValidatesTheKeysAndRejectsAForeignSensitiveWithBinding()
    {
        using var tpm = NewTpm(slots: 4);
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        const TpmaObject duplicable = TpmaObject.SensitiveDataOrigin | TpmaObject.UserWithAuth | TpmaObject.NoDA | TpmaObject.Restricted | TpmaObject.Decrypt;
        var parentTemplate = TpmTemplates.SrkEccP256() with { ObjectAttributes = duplicable, Unique = new EccPoint([], []) };
        var parentCreated = client.Create(srk.Handle, parentTemplate);
        var parent = client.Load(srk.Handle, parentCreated.Private, parentCreated.Public).Handle;
        var childTemplate = TpmTemplates.SigningEccP256() with { ObjectAttributes = TpmaObject.SensitiveDataOrigin | TpmaObject.UserWithAuth | TpmaObject.Sign };
        var a = client.Create(parent, childTemplate);
        var b = client.Create(parent, childTemplate);

        // An attacker who knows the parent's seed wraps b's private key under a's Name.
        using var parentSensitive = tpm.State.TransientObjects[parent].ReadSensitive();
        var nameAlg = parentCreated.Public.NameAlg;
        var symmetric = parentCreated.Public.Parameters.Symmetric;
        using var bSensitive = ObjectProtection.Unwrap(nameAlg, parentSensitive.SeedValue, symmetric, b.Name, b.Private);
        var forged = ObjectProtection.Wrap(nameAlg, parentSensitive.SeedValue, symmetric, a.Name, bSensitive);

        Assert.Equal(TpmRc.Binding, ErrorOf(() => client.Load(parent, forged, a.Public)));
        Assert.Equal(a.Name, client.Load(parent, a.Private, a.Public).Name);
    }

    [Fact]
    public void Load_FixedTpmChildUnderDuplicableParent_ReturnsAttributesParameter2()
    {
        using var tpm = NewTpm(slots: 4);
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        const TpmaObject duplicable = TpmaObject.SensitiveDataOrigin | TpmaObject.UserWithAuth | TpmaObject.NoDA | TpmaObject.Restricted | TpmaObject.Decrypt;
        var parentCreated = client.Create(srk.Handle, TpmTemplates.SrkEccP256() with { ObjectAttributes = duplicable });
        var parent = client.Load(srk.Handle, parentCreated.Private, parentCreated.Public).Handle;

        Assert.Equal(P(TpmRc.Attributes, 2), ErrorOf(() => client.Create(parent, TpmTemplates.SigningEccP256())));
    }

    // ---- LoadExternal ----

    [Fact]
    public void LoadExternal_PublicEccKey_VerifiesADotNetSignature()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicArea = EccPublic(ecdsa.ExportParameters(false), TpmaObject.Sign | TpmaObject.UserWithAuth, new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256));
        var loaded = client.LoadExternal(publicArea);
        var digest = SHA256.HashData("external"u8);
        var rs = ecdsa.SignHash(digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

        var ticket = client.VerifySignature(loaded.Handle, digest, TpmtSignature.Ecc(TpmAlgId.Ecdsa, TpmAlgId.Sha256, rs[..32], rs[32..]));

        Assert.Equal(publicArea.GetName(), loaded.Name);
        Assert.Equal(TpmSt.Verified, ticket.Tag);
        Assert.Equal(TpmRh.Null, ticket.Hierarchy);
        Assert.Empty(ticket.Digest);
    }

    [Fact]
    public void LoadExternal_QualifiedName_IsTheName()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var loaded = client.LoadExternal(EccPublic(ecdsa.ExportParameters(false), TpmaObject.Sign, TpmtScheme.Null), hierarchy: TpmRh.Owner);

        var read = client.ReadPublic(loaded.Handle);
        Assert.Equal(read.Name, read.QualifiedName);
    }

    [Fact]
    public void LoadExternal_PrivateEccKeyInNullHierarchy_SignsVerifiablyByDotNet()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = ecdsa.ExportParameters(true);
        var publicArea = EccPublic(parameters, TpmaObject.Sign | TpmaObject.UserWithAuth, new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256));
        using var sensitive = new TpmtSensitive(TpmAlgId.Ecc, [], [], parameters.D!);
        var loaded = client.LoadExternal(publicArea, sensitive);
        var digest = SHA256.HashData("sign me"u8);

        var signature = client.Sign(loaded.Handle, digest);
        Assert.True(ecdsa.VerifyHash(digest, (byte[])[.. signature.SignatureR, .. signature.SignatureS], DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public void LoadExternal_PrivateKeyOutsideNullHierarchy_ReturnsHierarchyParameter3()
    {
        using var tpm = NewTpm();
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = ecdsa.ExportParameters(true);
        using var sensitive = new TpmtSensitive(TpmAlgId.Ecc, [], [], parameters.D!);

        Assert.Equal(P(TpmRc.Hierarchy, 3), ErrorOf(() => new Tpm2(tpm).LoadExternal(EccPublic(parameters, TpmaObject.Sign, TpmtScheme.Null), sensitive, TpmRh.Owner)));
    }

    [Fact]
    public void LoadExternal_PrivateKeyMarkedFixedTpm_ReturnsAttributesParameter2()
    {
        using var tpm = NewTpm();
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = ecdsa.ExportParameters(true);
        using var sensitive = new TpmtSensitive(TpmAlgId.Ecc, [], [], parameters.D!);

        Assert.Equal(P(TpmRc.Attributes, 2), ErrorOf(() => new Tpm2(tpm).LoadExternal(EccPublic(parameters, TpmaObject.Sign | TpmaObject.FixedTpm | TpmaObject.FixedParent, TpmtScheme.Null), sensitive)));
    }

    [Fact]
    public void LoadExternal_PrivateKeyOfAnotherPublicKey_ReturnsBinding()
    {
        using var tpm = NewTpm();
        using var a = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var b = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var sensitive = new TpmtSensitive(TpmAlgId.Ecc, [], [], b.ExportParameters(true).D!);

        Assert.Equal(TpmRc.Binding, ErrorOf(() => new Tpm2(tpm).LoadExternal(EccPublic(a.ExportParameters(false), TpmaObject.Sign, TpmtScheme.Null), sensitive)));
        Assert.Empty(tpm.State.TransientObjects);
    }

    [Fact]
    public void LoadExternal_SensitiveOfAnotherType_ReturnsTypeParameter1()
    {
        using var tpm = NewTpm();
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = ecdsa.ExportParameters(true);
        using var sensitive = new TpmtSensitive(TpmAlgId.Rsa, [], [], parameters.D!);

        Assert.Equal(P(TpmRc.Type, 1), ErrorOf(() => new Tpm2(tpm).LoadExternal(EccPublic(parameters, TpmaObject.Sign, TpmtScheme.Null), sensitive)));
    }

    [Fact]
    public void LoadExternal_PointNotOnCurve_ReturnsEccPointParameter2()
    {
        using var tpm = NewTpm();
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = ecdsa.ExportParameters(false);
        parameters.Q.Y![31] ^= 1;

        Assert.Equal(P(TpmRc.EccPoint, 2), ErrorOf(() => new Tpm2(tpm).LoadExternal(EccPublic(parameters, TpmaObject.Sign, TpmtScheme.Null))));
    }

    [Fact]
    public void LoadExternal_ShortRsaModulus_ReturnsKeyParameter2()
    {
        using var tpm = NewTpm();
        var publicArea = new TpmtPublic(TpmAlgId.Rsa, TpmAlgId.Sha256, TpmaObject.Sign, [], new RsaParms(TpmtSymDef.Null, TpmtScheme.Null, 2048, 0), new RsaPublicId(new byte[255]));

        Assert.Equal(P(TpmRc.Key, 2), ErrorOf(() => new Tpm2(tpm).LoadExternal(publicArea)));
    }

    [Fact]
    public void LoadExternal_PublicRsaKey_VerifiesADotNetSignature()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var rsa = RSA.Create(2048);
        var publicArea = new TpmtPublic(TpmAlgId.Rsa, TpmAlgId.Sha256, TpmaObject.Sign | TpmaObject.UserWithAuth, [], new RsaParms(TpmtSymDef.Null, TpmtScheme.Null, 2048, 0), new RsaPublicId(rsa.ExportParameters(false).Modulus!));
        var loaded = client.LoadExternal(publicArea, hierarchy: TpmRh.Owner);
        var digest = SHA256.HashData("rsa external"u8);
        var signature = rsa.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        var ticket = client.VerifySignature(loaded.Handle, digest, TpmtSignature.Rsa(TpmAlgId.Rsassa, TpmAlgId.Sha256, signature));
        Assert.Equal(TpmRh.Owner, ticket.Hierarchy);
        Assert.Equal(32, ticket.Digest.Length);
    }

    [Fact]
    public void LoadExternal_Raw_BadHierarchy_ReturnsValueParameter3()
    {
        using var tpm = NewTpm();
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rc = Execute(tpm, TpmCc.LoadExternal, [], 0, w =>
        {
            w.WriteU16(0);
            EccPublic(ecdsa.ExportParameters(false), TpmaObject.Sign, TpmtScheme.Null).MarshalSized(w);
            w.WriteU32(TpmRh.Lockout);
        });
        Assert.Equal(P(TpmRc.Value, 3), rc);
    }

    [Fact]
    public void LoadExternal_PublicOnlyKey_CannotSign()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var loaded = client.LoadExternal(EccPublic(ecdsa.ExportParameters(false), TpmaObject.Sign | TpmaObject.UserWithAuth, new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256)));

        Assert.Equal(TpmRc.AuthUnavailable, ErrorOf(() => client.Sign(loaded.Handle, new byte[32])));
    }

    [Fact]
    public void LoadExternal_PublicOnlyStorageKey_IsNotAParent()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var external = client.LoadExternal(srk.Public, hierarchy: TpmRh.Owner);

        // The authorization check comes first: a public-only object has no usable authValue
        // (reference IsAuthValueAvailable, libtpms TPM_RC_AUTH_UNAVAILABLE).
        Assert.Equal(TpmRc.AuthUnavailable, ErrorOf(() => client.Create(external.Handle, TpmTemplates.SigningEccP256())));
    }

    // ---- ReadPublic / Unseal ----

    [Fact]
    public void ReadPublic_Primary_ReturnsPublicAndName()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ek = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        var read = client.ReadPublic(ek.Handle);

        Assert.Equal(ek.Public.ToBytes(), read.Public.ToBytes());
        Assert.Equal(ek.Name, read.Name);
    }

    [Fact]
    public void ReadPublic_Raw_NeedsNoAuthorization()
    {
        using var tpm = NewTpm();
        new Tpm2(tpm).CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());

        Assert.Equal(TpmRc.Success, Execute(tpm, TpmCc.ReadPublic, [TpmRh.TransientFirst], 0, null));
        Assert.Equal(TpmRc.ReferenceH0, Execute(tpm, TpmCc.ReadPublic, [TpmRh.TransientFirst + 1], 0, null));
    }

    [Fact]
    public void Unseal_SealedUnderSrk_ReturnsTheData()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var created = client.Create(srk.Handle, TpmTemplates.SealedData(), new TpmsSensitiveCreate("pw"u8.ToArray(), Secret));
        var handle = client.Load(srk.Handle, created.Private, created.Public).Handle;

        Assert.Equal(Secret, client.Unseal(handle, TpmAuthorization.Password("pw"u8)));
    }

    [Fact]
    public void Unseal_WrongPassword_ReturnsAuthFail()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var created = client.Create(srk.Handle, TpmTemplates.SealedData(), new TpmsSensitiveCreate("pw"u8.ToArray(), Secret));
        var handle = client.Load(srk.Handle, created.Private, created.Public).Handle;

        Assert.Equal(TpmResponseCode.Session(TpmRc.AuthFail, 1), ErrorOf(() => client.Unseal(handle, TpmAuthorization.Password("px"u8))));
    }

    [Fact]
    public void Unseal_PolicySealedWithPassword_ReturnsAuthUnavailable()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var created = client.Create(srk.Handle, TpmTemplates.SealedData(SHA256.HashData("some policy"u8)), new TpmsSensitiveCreate([], Secret));
        var handle = client.Load(srk.Handle, created.Private, created.Public).Handle;

        Assert.Equal(TpmRc.AuthUnavailable, ErrorOf(() => client.Unseal(handle)));
    }

    [Fact]
    public void Unseal_PolicySealedWithSatisfiedPolicySession_ReturnsTheDataUntilPcrsChange()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);

        // PolicyPCR(sha256:0) from the empty digest: H(0^32 ‖ TPM_CC_PolicyPCR ‖ TPML_PCR_SELECTION ‖ H(PCR 0)).
        var selection = PcrSelectionList.Create(TpmAlgId.Sha256, 0);
        var w = new TpmWriter();
        selection.Marshal(w);
        var policy = SHA256.HashData([.. new byte[32], 0x00, 0x00, 0x01, 0x7F, .. w.ToArray(), .. SHA256.HashData(new byte[32])]);
        var created = client.Create(srk.Handle, TpmTemplates.SealedData(policy), new TpmsSensitiveCreate([], Secret));
        var handle = client.Load(srk.Handle, created.Private, created.Public).Handle;

        // The engine state a PolicyPCR command leaves in an unsalted, unbound policy session.
        const uint sessionHandle = TpmRh.PolicySessionFirst;
        var nonceTpm = new byte[32];
        tpm.State.Sessions[sessionHandle] = new AuthSession(sessionHandle, TpmSe.Policy, TpmAlgId.Sha256, TpmtSymDef.Null, nonceTpm, [], null)
        {
            PolicyDigest = policy,
            PcrCounter = tpm.State.PcrUpdateCounter,
        };
        using var session = new TpmSession(sessionHandle, TpmSe.Policy, TpmAlgId.Sha256, nonceTpm, [], null);

        Assert.Equal(Secret, client.Unseal(handle, TpmAuthorization.Session(session)));

        tpm.State.Sessions[sessionHandle].PolicyDigest = policy;
        tpm.State.Sessions[sessionHandle].PcrCounter = tpm.State.PcrUpdateCounter;
        tpm.State.PcrUpdateCounter++;
        Assert.Equal(TpmRc.PcrChanged, ErrorOf(() => client.Unseal(handle, TpmAuthorization.Session(session))));
    }

    [Fact]
    public void Unseal_SigningKey_ReturnsTypeHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());

        Assert.Equal(H(TpmRc.Type, 1), ErrorOf(() => client.Unseal(key.Handle)));
    }

    [Fact]
    public void Unseal_HmacKey_ReturnsAttributesHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.HmacKey());

        Assert.Equal(H(TpmRc.Attributes, 1), ErrorOf(() => client.Unseal(key.Handle)));
    }

    // ---- ObjectChangeAuth ----

    private static byte[] ObjectChangeAuth(Tpm2 client, uint handle, uint parent, byte[] oldAuth, byte[] newAuth) =>
        client.Execute(TpmCc.ObjectChangeAuth, [handle, parent], [TpmAuthorization.Password(oldAuth)], w => w.WriteTpm2b(newAuth)).Reader().ReadTpm2b();

    [Fact]
    public void ObjectChangeAuth_SigningKey_NewPrivateLoadsWithTheNewAuthOnly()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var parent = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle;
        var created = client.Create(parent, TpmTemplates.SigningEccP256(), new TpmsSensitiveCreate("old-auth"u8.ToArray(), []));
        var loaded = client.Load(parent, created.Private, created.Public).Handle;
        var digest = SHA256.HashData("message"u8);

        var newPrivate = ObjectChangeAuth(client, loaded, parent, "old-auth"u8.ToArray(), "new-auth"u8.ToArray());

        // The loaded object keeps its old authValue; the new private area carries the new one.
        client.Sign(loaded, digest, auth: TpmAuthorization.Password("old-auth"u8));
        client.FlushContext(loaded);
        var reloaded = client.Load(parent, newPrivate, created.Public).Handle;
        Assert.True(VerifyWithDotNet(created.Public, digest, client.Sign(reloaded, digest, auth: TpmAuthorization.Password("new-auth"u8))));
        Assert.Equal(TpmResponseCode.Session(TpmRc.AuthFail, 1), ErrorOf(() => client.Sign(reloaded, digest, auth: TpmAuthorization.Password("old-auth"u8))));
    }

    [Fact]
    public void ObjectChangeAuth_WrongParent_ReturnsTypeHandle2()
    {
        using var tpm = NewTpm(slots: 4);
        var client = new Tpm2(tpm);
        var parent = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle;
        var other = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkRsa2048()).Handle;
        var created = client.Create(parent, TpmTemplates.SigningEccP256());
        var loaded = client.Load(parent, created.Private, created.Public).Handle;

        Assert.Equal(H(TpmRc.Type, 2), ErrorOf(() => ObjectChangeAuth(client, loaded, other, [], "x"u8.ToArray())));
    }

    [Fact]
    public void ObjectChangeAuth_PrimaryKey_ReturnsTypeHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var parent = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle;
        Assert.Equal(H(TpmRc.Type, 1), ErrorOf(() => ObjectChangeAuth(client, parent, parent, [], "x"u8.ToArray())));
    }

    [Fact]
    public void ObjectChangeAuth_NewAuthLongerThanNameAlgDigest_ReturnsSizeParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var parent = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle;
        var created = client.Create(parent, TpmTemplates.SigningEccP256());
        var loaded = client.Load(parent, created.Private, created.Public).Handle;
        Assert.Equal(P(TpmRc.Size, 1), ErrorOf(() => ObjectChangeAuth(client, loaded, parent, [], new byte[33].Select(_ => (byte)1).ToArray())));
    }
}
