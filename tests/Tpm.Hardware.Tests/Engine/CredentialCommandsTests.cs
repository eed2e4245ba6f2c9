using TrustStack.Tests.Shared;
using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

/// <summary>
/// A state folder holding an RSA-2048 EK persisted at 0x81010001: RSA primary generation is slow,
/// so it is made once and every test opens its own engine on a copy.
/// </summary>
public sealed class PersistedRsaEkFixture
{
    public const uint EkHandle = 0x8101_0001;

    public PersistedRsaEkFixture()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-ek-");
        try
        {
            using (var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 41, AutoStartup = true, StateDirectory = dir.FullName }))
            {
                var client = new Tpm2(tpm);
                var ek = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkRsa2048());
                client.EvictControl(TpmRh.Owner, ek.Handle, EkHandle);
                EkPublic = ek.Public;
                EkName = ek.Name;
            }

            State = File.ReadAllBytes(Path.Combine(dir.FullName, "tpm-state.bin"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    public TpmtPublic EkPublic { get; }

    public byte[] EkName { get; }

    public byte[] State { get; }

    /// <summary>An engine on a private copy of the state; dispose the engine, then the folder is removed.</summary>
    public SoftwareTpm Open(out DirectoryInfo directory)
    {
        directory = Directory.CreateTempSubdirectory("truststack-ek-copy-");
        File.WriteAllBytes(Path.Combine(directory.FullName, "tpm-state.bin"), State);
        return new SoftwareTpm(new SoftwareTpmOptions { Seed = 41, AutoStartup = true, StateDirectory = directory.FullName });
    }
}

public sealed class CredentialCommandsTests(PersistedRsaEkFixture rsaEk) : IClassFixture<PersistedRsaEkFixture>
{
    private static readonly byte[] Credential = "0123456789abcdef0123456789abcdef"u8.ToArray();

    /// <summary>The EK's USER role: a policy session satisfying PolicySecret(TPM_RH_ENDORSEMENT) (EK Credential Profile).</summary>
    private static TpmAuthorization EkPolicy(Tpm2 client)
    {
        var session = client.StartAuthSession(TpmSe.Policy);
        client.PolicySecret(session, TpmRh.Endorsement, TpmAuthorization.EmptyPassword);
        return TpmAuthorization.Session(session, attributes: TpmaSession.None);
    }

    /// <summary>Runs <paramref name="body"/> with an engine holding an EK of <paramref name="kind"/> ("rsa": persistent, "ecc": transient).</summary>
    private void WithEk(string kind, Action<SoftwareTpm, Tpm2, uint, TpmtPublic> body)
    {
        if (kind == "rsa")
        {
            var tpm = rsaEk.Open(out var dir);
            try
            {
                body(tpm, new Tpm2(tpm), PersistedRsaEkFixture.EkHandle, rsaEk.EkPublic);
            }
            finally
            {
                tpm.Dispose();
                dir.Delete(recursive: true);
            }
        }
        else
        {
            using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 42, AutoStartup = true });
            var client = new Tpm2(tpm);
            var ek = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
            body(tpm, client, ek.Handle, ek.Public);
        }
    }

    private static CreatePrimaryResult Ak(Tpm2 client) => client.CreatePrimary(TpmRh.Owner, TpmTemplates.AkEccP256());

    // ---- the EK/AK flow ----

    [Theory]
    [InlineData("rsa")]
    [InlineData("ecc")]
    public void ActivateCredential_MadeOnTheEngine_RecoversTheCredential(string kind) => WithEk(kind, (_, client, ek, _) =>
    {
        var ak = Ak(client);
        var made = client.MakeCredential(ek, Credential, ak.Name);
        var recovered = client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, EkPolicy(client));
        Assert.Equal(Credential, recovered);
    });

    [Theory]
    [InlineData("rsa")]
    [InlineData("ecc")]
    public void ActivateCredential_MadeOffline_RecoversTheCredential(string kind) => WithEk(kind, (_, client, ek, ekPublic) =>
    {
        var ak = Ak(client);
        var made = Tpm2.MakeCredentialOffline(ekPublic, Credential, ak.Name);
        Assert.Equal(Credential, client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, EkPolicy(client)));
    });

    [Fact]
    public void ActivateCredential_LoadedAkWithAuth_RecoversTheCredential() => WithEk("ecc", (_, client, ek, ekPublic) =>
    {
        var srk = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        var akKeys = client.Create(srk.Handle, TpmTemplates.AkEccP256(), new TpmsSensitiveCreate("ak-auth"u8.ToArray(), []));
        var ak = client.Load(srk.Handle, akKeys.Private, akKeys.Public);
        client.FlushContext(srk.Handle);
        var made = Tpm2.MakeCredentialOffline(ekPublic, Credential, ak.Name);
        Assert.Equal(Credential, client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret, TpmAuthorization.Password("ak-auth"u8), EkPolicy(client)));
    });

    [Fact]
    public void ActivateCredential_EmptyCredential_RecoversIt() => WithEk("ecc", (_, client, ek, ekPublic) =>
    {
        var ak = Ak(client);
        var made = client.MakeCredential(ek, [], ak.Name);
        Assert.Empty(client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, EkPolicy(client)));
    });

    [Fact]
    public void MakeCredential_LoadExternalPublicEk_ActivatesOnTheRealEk() => WithEk("ecc", (_, client, ek, ekPublic) =>
    {
        var ak = Ak(client);
        var external = client.LoadExternal(ekPublic, hierarchy: TpmRh.Owner);
        var made = client.MakeCredential(external.Handle, Credential, ak.Name);
        Assert.Equal(Credential, client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, EkPolicy(client)));
    });

    [Fact]
    public void PersistedRsaEk_AfterEngineRestart_IsTheSameKey() => WithEk("rsa", (tpm, client, ek, ekPublic) =>
    {
        Assert.Equal(rsaEk.EkName, client.ReadPublic(ek).Name);
        Assert.Equal(TpmRh.Endorsement, tpm.State.PersistentObjects[ek].Hierarchy);
    });

    // ---- ActivateCredential errors ----

    [Theory]
    [InlineData("rsa")]
    [InlineData("ecc")]
    public void ActivateCredential_MadeForAnotherName_ReturnsIntegrityParameter1(string kind) => WithEk(kind, (_, client, ek, ekPublic) =>
    {
        var ak = Ak(client);
        var other = ak.Name.ToArray();
        other[^1] ^= 1;
        var made = Tpm2.MakeCredentialOffline(ekPublic, Credential, other);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Integrity, 1), ErrorOf(() => client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, EkPolicy(client))));
    });

    [Fact]
    public void ActivateCredential_RsaSecretForAnotherKey_ReturnsValueParameter2() => WithEk("rsa", (_, client, ek, ekPublic) =>
    {
        var ak = Ak(client);
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var otherEk = ekPublic with { Unique = new RsaPublicId(rsa.ExportParameters(false).Modulus!) };
        var made = Tpm2.MakeCredentialOffline(otherEk, Credential, ak.Name);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), ErrorOf(() => client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, EkPolicy(client))));
    });

    [Fact]
    public void ActivateCredential_EccSecretForAnotherKey_ReturnsIntegrityParameter1() => WithEk("ecc", (_, client, ek, _) =>
    {
        var ak = Ak(client);
        var otherEk = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256() with { Unique = new EccPoint([1], [2]) });
        var made = client.MakeCredential(otherEk.Handle, Credential, ak.Name);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Integrity, 1), ErrorOf(() => client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, EkPolicy(client))));
    });

    [Fact]
    public void ActivateCredential_CorruptRsaSecret_ReturnsValueParameter2() => WithEk("rsa", (_, client, ek, _) =>
    {
        var ak = Ak(client);
        var made = client.MakeCredential(ek, Credential, ak.Name);
        made.Secret[17] ^= 0x40;
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), ErrorOf(() => client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, EkPolicy(client))));
    });

    [Fact]
    public void ActivateCredential_EccSecretOffTheCurve_ReturnsEccPointParameter2() => WithEk("ecc", (_, client, ek, _) =>
    {
        var ak = Ak(client);
        var made = client.MakeCredential(ek, Credential, ak.Name);
        made.Secret[^1] ^= 1; // y of the ephemeral point
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.EccPoint, 2), ErrorOf(() => client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, EkPolicy(client))));
    });

    [Fact]
    public void ActivateCredential_TruncatedEccSecret_ReturnsAnErrorForParameter2() => WithEk("ecc", (_, client, ek, _) =>
    {
        var ak = Ak(client);
        var made = client.MakeCredential(ek, Credential, ak.Name);
        var rc = ErrorOf(() => client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret[..^3], TpmAuthorization.EmptyPassword, EkPolicy(client)));
        Assert.Equal(0x240u, (uint)rc & 0xF40u);
    });

    [Theory]
    [InlineData(1, TpmRc.Insufficient)]
    [InlineData(2, TpmRc.Integrity)]
    [InlineData(40, TpmRc.Integrity)]
    [InlineData(-1, TpmRc.Integrity)]
    public void ActivateCredential_TamperedBlob_ReturnsErrorForParameter1(int index, TpmRc expected) => WithEk("ecc", (_, client, ek, _) =>
    {
        var ak = Ak(client);
        var made = client.MakeCredential(ek, Credential, ak.Name);
        var blob = index == 1 ? made.CredentialBlob[..1] : made.CredentialBlob;
        if (index != 1)
        {
            blob[index < 0 ? blob.Length - 1 : index] ^= 1;
        }

        Assert.Equal(TpmResponseCode.Parameter(expected, 1), ErrorOf(() => client.ActivateCredential(ak.Handle, ek, blob, made.Secret, TpmAuthorization.EmptyPassword, EkPolicy(client))));
    });

    [Fact]
    public void ActivateCredential_EkWithPassword_ReturnsAuthUnavailable() => WithEk("ecc", (_, client, ek, ekPublic) =>
    {
        var ak = Ak(client);
        var made = Tpm2.MakeCredentialOffline(ekPublic, Credential, ak.Name);
        Assert.Equal(TpmRc.AuthUnavailable, ErrorOf(() => client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, TpmAuthorization.EmptyPassword)));
    });

    [Fact]
    public void ActivateCredential_EkPolicyWithoutPolicySecret_ReturnsPolicyFailSession2() => WithEk("ecc", (_, client, ek, ekPublic) =>
    {
        var ak = Ak(client);
        var made = Tpm2.MakeCredentialOffline(ekPublic, Credential, ak.Name);
        using var session = client.StartAuthSession(TpmSe.Policy);
        Assert.Equal(
            TpmResponseCode.Session(TpmRc.PolicyFail, 2),
            ErrorOf(() => client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, TpmAuthorization.Session(session))));
    });

    [Fact]
    public void ActivateCredential_WrongAkPassword_ReturnsAuthFailSession1() => WithEk("ecc", (_, client, ek, ekPublic) =>
    {
        var ak = Ak(client);
        var made = Tpm2.MakeCredentialOffline(ekPublic, Credential, ak.Name);
        Assert.Equal(
            TpmResponseCode.Session(TpmRc.AuthFail, 1),
            ErrorOf(() => client.ActivateCredential(ak.Handle, ek, made.CredentialBlob, made.Secret, TpmAuthorization.Password("x"u8), EkPolicy(client))));
    });

    [Fact]
    public void ActivateCredential_SigningKeyAsDecryptionKey_ReturnsTypeHandle2() => WithEk("ecc", (_, client, ek, ekPublic) =>
    {
        var ak = Ak(client);
        var made = Tpm2.MakeCredentialOffline(ekPublic, Credential, ak.Name);
        Assert.Equal(
            TpmResponseCode.Handle(TpmRc.Type, 2),
            ErrorOf(() => client.ActivateCredential(ak.Handle, ak.Handle, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, TpmAuthorization.EmptyPassword)));
    });

    [Fact]
    public void ActivateCredential_PublicOnlyEk_ReturnsAuthUnavailable() => WithEk("ecc", (_, client, ek, ekPublic) =>
    {
        var ak = Ak(client);
        var external = client.LoadExternal(ekPublic, hierarchy: TpmRh.Owner);
        var made = client.MakeCredential(external.Handle, Credential, ak.Name);
        Assert.Equal(
            TpmRc.AuthUnavailable,
            ErrorOf(() => client.ActivateCredential(ak.Handle, external.Handle, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, EkPolicy(client))));
    });

    // ---- MakeCredential errors ----

    [Fact]
    public void MakeCredential_SigningKey_ReturnsTypeHandle1() => WithEk("ecc", (_, client, _, _) =>
    {
        var ak = Ak(client);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Type, 1), ErrorOf(() => client.MakeCredential(ak.Handle, Credential, ak.Name)));
    });

    [Fact]
    public void MakeCredential_UnrestrictedDecryptionKey_ReturnsTypeHandle1() => WithEk("ecc", (_, client, _, _) =>
    {
        var template = TpmTemplates.SrkEccP256();
        var key = client.CreatePrimary(TpmRh.Owner, template with
        {
            ObjectAttributes = template.ObjectAttributes & ~TpmaObject.Restricted,
            Parameters = new EccParms(TpmtSymDef.Null, TpmtScheme.Null, TpmEccCurve.NistP256, TpmtScheme.Null),
        });
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Type, 1), ErrorOf(() => client.MakeCredential(key.Handle, Credential, key.Name)));
    });

    [Fact]
    public void MakeCredential_CredentialLongerThanNameDigest_ReturnsSizeParameter1() => WithEk("ecc", (_, client, ek, _) =>
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), ErrorOf(() => client.MakeCredential(ek, new byte[33], new byte[34])));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), ErrorOf(() => client.MakeCredential(ek, new byte[65], new byte[34])));
    });

    [Fact]
    public void MakeCredential_NameTooLong_ReturnsSizeParameter2() => WithEk("ecc", (_, client, ek, _) =>
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 2), ErrorOf(() => client.MakeCredential(ek, Credential, new byte[67])));
    });

    [Fact]
    public void MakeCredential_UnknownHandle_ReturnsReferenceH0()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 42, AutoStartup = true });
        Assert.Equal(TpmRc.ReferenceH0, ErrorOf(() => new Tpm2(tpm).MakeCredential(0x8000_0000, Credential, new byte[34])));
    }

    [Fact]
    public void MakeCredentialOffline_NotARestrictedDecryptionKey_Throws()
    {
        Assert.Throws<ArgumentException>(() => Tpm2.MakeCredentialOffline(TpmTemplates.AkEccP256(), Credential, new byte[34]));
        Assert.Throws<ArgumentException>(() => Tpm2.MakeCredentialOffline(TpmTemplates.EkEccP256(), new byte[33], new byte[34]));
    }

    // ---- tpm2-tools interop and the credential file ----

    [Fact]
    public void ActivateCredential_Tpm2ToolsOfflineMakeCredential_RecoversTheSecret() => WithEk("rsa", (_, client, ek, ekPublic) =>
    {
        var ak = Ak(client);
        var dir = Directory.CreateTempSubdirectory("truststack-makecredential-");
        try
        {
            var pub = new TpmWriter();
            ekPublic.MarshalSized(pub);
            File.WriteAllBytes(Path.Combine(dir.FullName, "ek.pub"), pub.ToArray());
            File.WriteAllBytes(Path.Combine(dir.FullName, "secret"), Credential);
            PeerTools.RunChecked("tpm2_makecredential", ["--tcti", "none", "-u", "ek.pub", "-s", "secret", "-n", Convert.ToHexString(ak.Name), "-o", "cred.out"], workingDirectory: dir.FullName);

            var file = File.ReadAllBytes(Path.Combine(dir.FullName, "cred.out"));
            var credential = CredentialBlobFile.Read(file);
            Assert.Equal(file, CredentialBlobFile.Write(credential));
            Assert.Equal(Credential, client.ActivateCredential(ak.Handle, ek, credential.CredentialBlob, credential.Secret, TpmAuthorization.EmptyPassword, EkPolicy(client)));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    });

    [Fact]
    public void CredentialBlobFile_Write_IsTheTpm2ToolsLayout()
    {
        var bytes = CredentialBlobFile.Write(new TpmCredential([1, 2, 3], [4, 5]));
        Assert.Equal(Convert.FromHexString("BADCC0DE00000001" + "0003010203" + "00020405"), bytes);
        var read = CredentialBlobFile.Read(bytes);
        Assert.Equal(new byte[] { 1, 2, 3 }, read.CredentialBlob);
        Assert.Equal(new byte[] { 4, 5 }, read.Secret);
    }

    [Theory]
    [InlineData("")]
    [InlineData("BADCC0DF00000001" + "0000" + "0000")]
    [InlineData("BADCC0DE00000002" + "0000" + "0000")]
    [InlineData("BADCC0DE00000001" + "0003010203")]
    [InlineData("BADCC0DE00000001" + "0000" + "000200")]
    [InlineData("BADCC0DE00000001" + "0000" + "0000" + "FF")]
    public void CredentialBlobFile_Read_MalformedFile_ThrowsFormatException(string hex) =>
        Assert.Throws<FormatException>(() => CredentialBlobFile.Read(Convert.FromHexString(hex)));
}
