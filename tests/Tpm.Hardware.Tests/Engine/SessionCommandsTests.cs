using System.Buffers.Binary;
using System.Security.Cryptography;
using TrustStack.Tests.Shared;
using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class SessionCommandsTests
{
    private static readonly byte[] Secret = "endorsement-secret"u8.ToArray();

    private static SoftwareTpm NewTpm(int maxLoaded = 3, int maxActive = 64) =>
        EngineTestKit.NewTpm(11, configure: o =>
        {
            o.MaxLoadedSessions = maxLoaded;
            o.MaxActiveSessions = maxActive;
        });

    /// <summary>StartAuthSession through the client's escape hatch, with every field under the test's control.</summary>
    private static TpmResponse Start(Tpm2 client, byte[]? nonceCaller = null, byte[]? salt = null, byte type = 0, Action<TpmWriter>? symmetric = null, ushort authHash = (ushort)TpmAlgId.Sha256, uint tpmKey = TpmRh.Null, uint bind = TpmRh.Null) =>
        client.Execute(TpmCc.StartAuthSession, [tpmKey, bind], [], w =>
        {
            w.WriteTpm2b(nonceCaller ?? new byte[32]);
            w.WriteTpm2b(salt ?? []);
            w.WriteU8(type);
            if (symmetric is null)
            {
                w.WriteAlg(TpmAlgId.Null);
            }
            else
            {
                symmetric(w);
            }

            w.WriteU16(authHash);
        }, responseHandleCount: 1);

    private static void PolicySecretWith(Tpm2 client, TpmSession policy, TpmAuthorization auth, uint authHandle = TpmRh.Endorsement) =>
        client.PolicySecret(policy, authHandle, auth);

    [Fact]
    public void StartAuthSession_Hmac_FirstHandleIs0x02000000WithEmptyKey()
    {
        using var tpm = NewTpm();
        using var session = new Tpm2(tpm).StartAuthSession(TpmSe.Hmac);
        Assert.Equal(0x0200_0000u, session.Handle);
        Assert.Equal(32, session.NonceTpm.Length);
        var engine = tpm.State.Sessions[session.Handle];
        Assert.Equal(TpmSe.Hmac, engine.Type);
        Assert.Empty(engine.SessionKey);
        Assert.Null(engine.BoundEntityName);
        Assert.Equal(session.NonceTpm, engine.NonceTpm);
    }

    [Fact]
    public void StartAuthSession_MixedTypes_ShareOneIndexSpace()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var hmac = client.StartAuthSession(TpmSe.Hmac);
        using var policy = client.StartAuthSession(TpmSe.Policy);
        using var trial = client.StartAuthSession(TpmSe.Trial, TpmAlgId.Sha1);
        Assert.Equal([0x0200_0000u, 0x0300_0001u, 0x0300_0002u], new[] { hmac.Handle, policy.Handle, trial.Handle });
        Assert.Equal(new byte[20], tpm.State.Sessions[trial.Handle].PolicyDigest);
        Assert.True(tpm.State.Sessions[trial.Handle].IsTrial);
    }

    [Fact]
    public void StartAuthSession_RawBytes_ResponseCarriesHandleThenNonce()
    {
        using var tpm = NewTpm();
        var command = Convert.FromHexString(
            "8001" + "0000002B" + "00000176" // tag, commandSize 43, TPM_CC_StartAuthSession
            + "40000007" + "40000007" // tpmKey, bind: TPM_RH_NULL
            + "0010" + "000102030405060708090A0B0C0D0E0F" // nonceCaller
            + "0000" + "01" + "0010" + "000B"); // encryptedSalt, TPM_SE_POLICY, TPM_ALG_NULL, TPM_ALG_SHA256
        var response = tpm.Execute(command);
        Assert.Equal("8001" + "00000020" + "00000000" + "03000000" + "0010", Convert.ToHexString(response.AsSpan(0, 16)));
        Assert.Equal(tpm.State.Sessions[0x0300_0000].NonceTpm, response[16..]);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(20)]
    [InlineData(32)]
    public void StartAuthSession_NonceCallerSize_NonceTpmHasTheSameSize(int size)
    {
        using var tpm = NewTpm();
        var r = Start(new Tpm2(tpm), nonceCaller: new byte[size]).Reader();
        Assert.Equal(size, r.ReadTpm2b().Length);
    }

    [Theory]
    [InlineData(0, TpmAlgId.Sha256)]
    [InlineData(15, TpmAlgId.Sha256)]
    [InlineData(33, TpmAlgId.Sha256)]
    [InlineData(21, TpmAlgId.Sha1)]
    [InlineData(65, TpmAlgId.Sha256)]
    public void StartAuthSession_NonceCallerOutOfRange_ReturnsSizeParameter1(int size, TpmAlgId hash)
    {
        using var tpm = NewTpm();
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), ErrorOf(() => Start(new Tpm2(tpm), nonceCaller: new byte[size], authHash: (ushort)hash)));
        Assert.Empty(tpm.State.Sessions);
    }

    [Fact]
    public void StartAuthSession_SaltWithoutTpmKey_ReturnsValueParameter2()
    {
        using var tpm = NewTpm();
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), ErrorOf(() => Start(new Tpm2(tpm), salt: [1, 2, 3])));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(0xFF)]
    public void StartAuthSession_UnknownSessionType_ReturnsValueParameter3(byte type)
    {
        using var tpm = NewTpm();
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 3), ErrorOf(() => Start(new Tpm2(tpm), type: type)));
    }

    [Theory]
    [InlineData((ushort)TpmAlgId.Null)]
    [InlineData((ushort)0x0012)] // TPM_ALG_SM3_256
    [InlineData((ushort)TpmAlgId.Aes)]
    public void StartAuthSession_UnsupportedAuthHash_ReturnsHashParameter5(ushort hash)
    {
        using var tpm = NewTpm();
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Hash, 5), ErrorOf(() => Start(new Tpm2(tpm), authHash: hash)));
    }

    public static TheoryData<string, ushort[], TpmRc> BadSymmetric => new()
    {
        { "TDES", [0x0003, 128, (ushort)TpmAlgId.Cfb], TpmRc.Symmetric },
        { "RSA", [(ushort)TpmAlgId.Rsa, 2048, (ushort)TpmAlgId.Cfb], TpmRc.Symmetric },
        { "AES-256", [(ushort)TpmAlgId.Aes, 256, (ushort)TpmAlgId.Cfb], TpmRc.Value },
        { "AES-128-ECB", [(ushort)TpmAlgId.Aes, 128, 0x0044], TpmRc.Mode },
        { "XOR-NULL", [(ushort)TpmAlgId.Xor, (ushort)TpmAlgId.Null], TpmRc.Hash },
    };

    [Theory]
    [MemberData(nameof(BadSymmetric))]
    public void StartAuthSession_UnsupportedSymmetric_ReturnsErrorForParameter4(string name, ushort[] fields, TpmRc code)
    {
        _ = name;
        using var tpm = NewTpm();
        var rc = ErrorOf(() => Start(new Tpm2(tpm), symmetric: w =>
        {
            foreach (var f in fields)
            {
                w.WriteU16(f);
            }
        }));
        Assert.Equal(TpmResponseCode.Parameter(code, 4), rc);
    }

    [Fact]
    public void StartAuthSession_Aes128CfbOrXor_Accepted()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var aes = client.StartAuthSession(TpmSe.Hmac, symmetric: TpmtSymDef.Aes128Cfb);
        using var xor = client.StartAuthSession(TpmSe.Hmac, symmetric: new TpmtSymDef(TpmAlgId.Xor, (ushort)TpmAlgId.Sha256));
        Assert.Equal(TpmtSymDef.Aes128Cfb, tpm.State.Sessions[aes.Handle].Symmetric);
        Assert.Equal(TpmAlgId.Xor, tpm.State.Sessions[xor.Handle].Symmetric.Algorithm);
    }

    [Fact]
    public void StartAuthSession_TruncatedAuthHash_ReturnsInsufficientParameter5()
    {
        using var tpm = NewTpm();
        var rc = ErrorOf(() => new Tpm2(tpm).Execute(TpmCc.StartAuthSession, [TpmRh.Null, TpmRh.Null], [], w =>
        {
            w.WriteTpm2b(new byte[32]);
            w.WriteTpm2b([]);
            w.WriteU8(0);
            w.WriteAlg(TpmAlgId.Null);
            w.WriteU8(0);
        }, 1));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Insufficient, 5), rc);
    }

    [Fact]
    public void StartAuthSession_TpmKeyNotLoaded_ReturnsReferenceH0()
    {
        using var tpm = NewTpm();
        Assert.Equal(TpmRc.ReferenceH0, ErrorOf(() => Start(new Tpm2(tpm), salt: [1], tpmKey: 0x8000_0000)));
    }

    [Theory]
    [InlineData(TpmRh.Owner, TpmRh.Null, 1)]
    [InlineData(TpmRh.Null, 0x0200_0000u, 2)]
    [InlineData(TpmRh.Null, TpmRh.Password, 2)]
    public void StartAuthSession_WrongHandleType_ReturnsValueForThatHandle(uint tpmKey, uint bind, int n)
    {
        using var tpm = NewTpm();
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Value, n), ErrorOf(() => Start(new Tpm2(tpm), tpmKey: tpmKey, bind: bind)));
    }

    private const uint KeyHandle = 0x8000_0000;

    /// <summary>Loads a generated key at <see cref="KeyHandle"/> without TPM2_Load (which another command group owns).</summary>
    private static TpmtPublic LoadKey(SoftwareTpm tpm, string name, Func<TpmtPublic> template)
    {
        var (publicArea, sensitive) = CryptoTestData.Key(name, template);
        using (sensitive)
        {
            tpm.State.TransientObjects[KeyHandle] = new TpmObject(publicArea, SecretMarshal.StoreSensitive(tpm.Secrets, sensitive, "test key"), [], TpmRh.Owner, publicArea.GetName(), isPrimary: true) { Handle = KeyHandle };
        }

        return publicArea;
    }

    public static TheoryData<string> SaltKeys => new() { "ecc-p256", "rsa-2048" };

    private static Func<TpmtPublic> Template(string name) => name == "ecc-p256" ? () => CryptoTestData.EccStorage() : () => CryptoTestData.RsaStorage();

    [Theory]
    [MemberData(nameof(SaltKeys))]
    public void StartAuthSession_Salted_KeyIsKdfaOfTheSaltAndTheSessionAuthorizes(string keyName)
    {
        using var tpm = NewTpm();
        tpm.State.Endorsement.AuthValue = Secret;
        var keyPublic = LoadKey(tpm, "sessions-salt-" + keyName, Template(keyName));
        var (salt, encryptedSalt) = SecretSharing.Encrypt(keyPublic, "SECRET", SystemRandomSource.Instance);
        var nonceCaller = RandomNumberGenerator.GetBytes(32);
        var client = new Tpm2(tpm);
        var response = Start(client, nonceCaller: nonceCaller, salt: encryptedSalt, tpmKey: KeyHandle);
        var nonceTpm = response.Reader().ReadTpm2b();
        var expected = SessionCommands.ComputeSessionKey(TpmAlgId.Sha256, [], salt, nonceTpm, nonceCaller);
        var engine = tpm.State.Sessions[response.Handles[0]];
        Assert.Equal(expected, engine.SessionKey);

        // The client's view of the same session authorizes with an HMAC keyed by sessionKey ‖ authValue.
        using var session = new TpmSession(response.Handles[0], TpmSe.Hmac, TpmAlgId.Sha256, nonceTpm, expected.ToArray(), null) { NonceCaller = nonceCaller };
        using var trial = client.StartAuthSession(TpmSe.Trial);
        PolicySecretWith(client, trial, TpmAuthorization.Session(session, Secret));
        PolicySecretWith(client, trial, TpmAuthorization.Session(session, Secret));
    }

    [Fact]
    public void StartAuthSession_SaltedAndBound_KeyCoversBindAuthThenSalt()
    {
        using var tpm = NewTpm();
        tpm.State.Endorsement.AuthValue = Secret;
        var keyPublic = LoadKey(tpm, "sessions-salt-ecc-p256", Template("ecc-p256"));
        var (salt, encryptedSalt) = SecretSharing.Encrypt(keyPublic, "SECRET", SystemRandomSource.Instance);
        var nonceCaller = new byte[20];
        var response = Start(new Tpm2(tpm), nonceCaller: nonceCaller, salt: encryptedSalt, tpmKey: KeyHandle, bind: TpmRh.Endorsement, authHash: (ushort)TpmAlgId.Sha1);
        var nonceTpm = response.Reader().ReadTpm2b();
        Assert.Equal(SessionCommands.ComputeSessionKey(TpmAlgId.Sha1, Secret, salt, nonceTpm, nonceCaller), tpm.State.Sessions[response.Handles[0]].SessionKey);
    }

    [Fact]
    public void StartAuthSession_SaltForAnotherLabel_ReturnsValueParameter2()
    {
        using var tpm = NewTpm();
        var keyPublic = LoadKey(tpm, "sessions-salt-rsa-2048", Template("rsa-2048"));
        var (_, encryptedSalt) = SecretSharing.Encrypt(keyPublic, "IDENTITY", SystemRandomSource.Instance);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), ErrorOf(() => Start(new Tpm2(tpm), salt: encryptedSalt, tpmKey: KeyHandle)));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), ErrorOf(() => Start(new Tpm2(tpm), salt: new byte[256], tpmKey: KeyHandle)));
        Assert.Empty(tpm.State.Sessions);
    }

    [Fact]
    public void StartAuthSession_MalformedEccSalt_ReturnsValueParameter2()
    {
        using var tpm = NewTpm();
        LoadKey(tpm, "sessions-salt-ecc-p256", Template("ecc-p256"));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), ErrorOf(() => Start(new Tpm2(tpm), salt: [0, 1, 7], tpmKey: KeyHandle)));
    }

    [Fact]
    public void StartAuthSession_TpmKeyWithoutSalt_ReturnsValueParameter2()
    {
        using var tpm = NewTpm();
        LoadKey(tpm, "sessions-salt-ecc-p256", Template("ecc-p256"));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), ErrorOf(() => Start(new Tpm2(tpm), tpmKey: KeyHandle)));
    }

    [Fact]
    public void StartAuthSession_SigningKeyAsTpmKey_ReturnsAttributesHandle1()
    {
        using var tpm = NewTpm();
        LoadKey(tpm, "sessions-signing-ecc", () => CryptoTestData.EccSigning());
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Attributes, 1), ErrorOf(() => Start(new Tpm2(tpm), salt: [1, 2], tpmKey: KeyHandle)));
    }

    [Fact]
    public void StartAuthSession_SaltedOnSwtpm_ClientSaltDecryptsThereAndSessionsAuthorize()
    {
        using var swtpm = new SwtpmProcess();
        swtpm.RunTool("tpm2_changeauth", "-c", "e", "hex:" + Convert.ToHexString(Secret));
        swtpm.RunTool("tpm2_createprimary", "-C", "o", "-G", "ecc", "-c", "ecc.ctx");
        swtpm.RunTool("tpm2_evictcontrol", "-C", "o", "-c", "ecc.ctx", "0x81000001");
        swtpm.RunTool("tpm2_flushcontext", "-t");
        swtpm.RunTool("tpm2_createprimary", "-C", "o", "-G", "rsa", "-c", "rsa.ctx");
        swtpm.RunTool("tpm2_evictcontrol", "-C", "o", "-c", "rsa.ctx", "0x81000002");
        swtpm.RunTool("tpm2_flushcontext", "-t");
        using var transport = swtpm.CreateTransport();
        var client = new Tpm2(transport);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        foreach (var key in new[] { 0x8100_0001u, 0x8100_0002u })
        {
            using var salted = client.StartAuthSession(TpmSe.Hmac, tpmKey: key);
            Assert.Equal(32, salted.SessionKey.Length);
            PolicySecretWith(client, trial, TpmAuthorization.Session(salted, Secret));
            PolicySecretWith(client, trial, TpmAuthorization.Session(salted, Secret, TpmaSession.None));

            using var saltedBound = client.StartAuthSession(TpmSe.Hmac, TpmAlgId.Sha1, tpmKey: key, bind: TpmRh.Endorsement, bindAuth: Secret);
            PolicySecretWith(client, trial, TpmAuthorization.Session(saltedBound));
            Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => PolicySecretWith(client, trial, TpmAuthorization.Session(saltedBound, Secret), TpmRh.Owner)));
            PolicySecretWith(client, trial, TpmAuthorization.Session(saltedBound, attributes: TpmaSession.None));
        }
    }

    [Fact]
    public void StartAuthSession_LoadedSlotsFull_ReturnsSessionMemory()
    {
        using var tpm = NewTpm(maxLoaded: 3);
        var client = new Tpm2(tpm);
        for (var i = 0; i < 3; i++)
        {
            client.StartAuthSession(i % 2 == 0 ? TpmSe.Hmac : TpmSe.Policy);
        }

        Assert.Equal(TpmRc.SessionMemory, ErrorOf(() => client.StartAuthSession(TpmSe.Trial)));
        Assert.Equal(3, tpm.State.Sessions.Count);
    }

    [Fact]
    public void StartAuthSession_ActiveHandlesExhausted_ReturnsSessionHandles()
    {
        using var tpm = NewTpm(maxLoaded: 2, maxActive: 3);
        var client = new Tpm2(tpm);
        var a = client.StartAuthSession(TpmSe.Hmac);
        var b = client.StartAuthSession(TpmSe.Policy);

        // Context-saved sessions free their slot but keep their handle (Part 1 §30).
        tpm.State.Sessions[a.Handle].IsSaved = true;
        tpm.State.Sessions[b.Handle].IsSaved = true;
        var c = client.StartAuthSession(TpmSe.Hmac);
        Assert.Equal(0x0200_0002u, c.Handle);
        Assert.Equal(TpmRc.SessionHandles, ErrorOf(() => client.StartAuthSession(TpmSe.Hmac)));
    }

    [Fact]
    public void StartAuthSession_FreedIndex_IsReused()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var first = client.StartAuthSession(TpmSe.Hmac);
        client.StartAuthSession(TpmSe.Hmac);
        client.PolicySecret(client.StartAuthSession(TpmSe.Trial), TpmRh.Endorsement, TpmAuthorization.Session(first, attributes: TpmaSession.None));
        Assert.True(first.IsClosed);
        Assert.Equal(0x0300_0000u, client.StartAuthSession(TpmSe.Policy).Handle);
    }

    [Fact]
    public void StartAuthSession_SameSeed_SameNonceTpm()
    {
        using var a = NewTpm();
        using var b = NewTpm();
        var nonce = new byte[32];
        Assert.Equal(Start(new Tpm2(a), nonceCaller: nonce).Parameters, Start(new Tpm2(b), nonceCaller: nonce).Parameters);
    }

    // OpenSSL 3 KBKDF (SP 800-108 counter mode, HMAC, 32-bit counter and L, zero separator) equals
    // KDFa; vectors from `openssl kdf -kdfopt mac:HMAC -kdfopt digest:SHA256 -kdfopt salt:ATH ... KBKDF`.
    [Fact]
    public void ComputeSessionKey_OpenSslKbkdfVectorSha256_Matches()
    {
        var key = SessionCommands.ComputeSessionKey(TpmAlgId.Sha256, Convert.FromHexString("000102030405060708090a0b0c0d0e0f"), [], Enumerable.Repeat((byte)0xAA, 32).ToArray(), Enumerable.Repeat((byte)0xBB, 32).ToArray());
        Assert.Equal("75482DE9FA1086DB8BF47922A75EBF90257234852E0D66E1D7D1CC91852FED32", Convert.ToHexString(key));
    }

    [Fact]
    public void ComputeSessionKey_OpenSslKbkdfVectorSha1BindAuthAndSalt_Matches()
    {
        var key = SessionCommands.ComputeSessionKey(TpmAlgId.Sha1, "bindauth"u8, "salt"u8, Enumerable.Repeat((byte)0x11, 20).ToArray(), Enumerable.Repeat((byte)0x22, 16).ToArray());
        Assert.Equal("4C742F0A872CD658CA2B91DEC5756E6692AF72B5", Convert.ToHexString(key));
    }

    [Fact]
    public void StartAuthSession_Bound_ClientAndEngineDeriveTheSameKey()
    {
        using var tpm = NewTpm();
        tpm.State.Endorsement.AuthValue = Secret;
        using var session = new Tpm2(tpm).StartAuthSession(TpmSe.Hmac, bind: TpmRh.Endorsement, bindAuth: Secret);
        var engine = tpm.State.Sessions[session.Handle];
        var expected = SessionCommands.ComputeSessionKey(TpmAlgId.Sha256, Secret, [], engine.NonceTpm, engine.NonceCaller);
        Assert.Equal(expected, engine.SessionKey);
        Assert.Equal(expected, session.SessionKey);
        Assert.Equal(PermanentEntity.BigEndian(TpmRh.Endorsement), engine.BoundEntityName);
    }

    [Fact]
    public void StartAuthSession_PolicyWithBind_HasKeyButIsNotBound()
    {
        using var tpm = NewTpm();
        using var session = new Tpm2(tpm).StartAuthSession(TpmSe.Policy, bind: TpmRh.Owner);
        Assert.Equal(32, tpm.State.Sessions[session.Handle].SessionKey.Length);
        Assert.Null(tpm.State.Sessions[session.Handle].BoundEntityName);
    }

    [Fact]
    public void PolicySecret_Password_AuthorizesAndWrongPasswordIsBadAuth()
    {
        using var tpm = NewTpm();
        tpm.State.Endorsement.AuthValue = Secret;
        var client = new Tpm2(tpm);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        PolicySecretWith(client, trial, TpmAuthorization.Password(Secret));

        // Part 1 §19.6.5: trailing zeros of a password are not significant.
        PolicySecretWith(client, trial, TpmAuthorization.Password([.. Secret, 0, 0]));
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => PolicySecretWith(client, trial, TpmAuthorization.Password("wrong"u8))));
    }

    [Theory]
    [InlineData(TpmAlgId.Sha256)]
    [InlineData(TpmAlgId.Sha1)]
    [InlineData(TpmAlgId.Sha384)]
    public void HmacSession_Unbound_NoncesRollAcrossCommands(TpmAlgId hash)
    {
        using var tpm = NewTpm();
        tpm.State.Endorsement.AuthValue = Secret;
        var client = new Tpm2(tpm);
        using var hmac = client.StartAuthSession(TpmSe.Hmac, hash);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        var seen = new HashSet<string>(StringComparer.Ordinal) { Convert.ToHexString(hmac.NonceTpm) };
        for (var i = 0; i < 4; i++)
        {
            PolicySecretWith(client, trial, TpmAuthorization.Session(hmac, Secret));
            Assert.True(seen.Add(Convert.ToHexString(hmac.NonceTpm)), "nonceTPM did not roll");
            Assert.Equal(TpmHash.DigestSize(hash), hmac.NonceTpm.Length);
            Assert.Equal(hmac.NonceTpm, tpm.State.Sessions[hmac.Handle].NonceTpm);
            Assert.Equal(hmac.NonceCaller, tpm.State.Sessions[hmac.Handle].NonceCaller);
        }

        Assert.False(hmac.IsClosed);
    }

    [Fact]
    public void HmacSession_BoundToTheAuthorizedEntity_AuthValueIsInTheKeyOnly()
    {
        using var tpm = NewTpm();
        tpm.State.Endorsement.AuthValue = Secret;
        var client = new Tpm2(tpm);
        using var bound = client.StartAuthSession(TpmSe.Hmac, bind: TpmRh.Endorsement, bindAuth: Secret);
        using var trial = client.StartAuthSession(TpmSe.Trial);

        // The authValue passed with the authorization is ignored: the session is bound to this entity.
        PolicySecretWith(client, trial, TpmAuthorization.Session(bound, "ignored"u8));
        PolicySecretWith(client, trial, TpmAuthorization.Session(bound));
    }

    [Fact]
    public void HmacSession_BoundWithWrongBindAuth_ReturnsBadAuth()
    {
        using var tpm = NewTpm();
        tpm.State.Endorsement.AuthValue = Secret;
        var client = new Tpm2(tpm);
        using var bound = client.StartAuthSession(TpmSe.Hmac, bind: TpmRh.Endorsement, bindAuth: "wrong"u8);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => PolicySecretWith(client, trial, TpmAuthorization.Session(bound, Secret))));
    }

    [Fact]
    public void HmacSession_BoundToAnotherEntity_IncludesTheAuthorizedEntitysAuthValue()
    {
        using var tpm = NewTpm();
        tpm.State.Endorsement.AuthValue = Secret;
        tpm.State.Owner.AuthValue = "owner"u8.ToArray();
        var client = new Tpm2(tpm);
        using var bound = client.StartAuthSession(TpmSe.Hmac, bind: TpmRh.Endorsement, bindAuth: Secret);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        PolicySecretWith(client, trial, TpmAuthorization.Session(bound, "owner"u8), TpmRh.Owner);
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => PolicySecretWith(client, trial, TpmAuthorization.Session(bound, Secret), TpmRh.Owner)));
    }

    [Fact]
    public void HmacSession_ContinueSessionClear_FlushesTheSession()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var hmac = client.StartAuthSession(TpmSe.Hmac);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        PolicySecretWith(client, trial, TpmAuthorization.Session(hmac, attributes: TpmaSession.None));
        Assert.True(hmac.IsClosed);
        Assert.False(tpm.State.Sessions.ContainsKey(hmac.Handle));
        Assert.Throws<ObjectDisposedException>(() => PolicySecretWith(client, trial, TpmAuthorization.Session(hmac)));
    }

    [Fact]
    public void HmacSession_FlushedHandleUsedRaw_ReturnsReferenceS0()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var hmac = client.StartAuthSession(TpmSe.Hmac);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        PolicySecretWith(client, trial, TpmAuthorization.Session(hmac, attributes: TpmaSession.None));
        hmac.IsClosed = false; // pretend the client missed the flush
        Assert.Equal(TpmRc.ReferenceS0, ErrorOf(() => PolicySecretWith(client, trial, TpmAuthorization.Session(hmac))));
    }

    [Fact]
    public void HmacSession_WrongAuthValue_ReturnsBadAuthForSession1AndKeepsTheSession()
    {
        using var tpm = NewTpm();
        tpm.State.Endorsement.AuthValue = Secret;
        var client = new Tpm2(tpm);
        using var hmac = client.StartAuthSession(TpmSe.Hmac);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        var nonceBefore = tpm.State.Sessions[hmac.Handle].NonceTpm;
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => PolicySecretWith(client, trial, TpmAuthorization.Session(hmac, "wrong"u8))));
        Assert.Equal(nonceBefore, tpm.State.Sessions[hmac.Handle].NonceTpm);
        Assert.Equal(new byte[32], tpm.State.Sessions[trial.Handle].PolicyDigest);

        // The session still works with the right value.
        PolicySecretWith(client, trial, TpmAuthorization.Session(hmac, Secret));
    }

    [Fact]
    public void HmacSession_WrongLockoutAuth_ReturnsAuthFail()
    {
        using var tpm = NewTpm();
        tpm.State.Lockout.AuthValue = Secret;
        var client = new Tpm2(tpm);
        using var hmac = client.StartAuthSession(TpmSe.Hmac);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        Assert.Equal(TpmResponseCode.Session(TpmRc.AuthFail, 1), ErrorOf(() => PolicySecretWith(client, trial, TpmAuthorization.Session(hmac, "wrong"u8), TpmRh.Lockout)));
    }

    [Fact]
    public void HmacSession_TamperedResponseHmac_ClientRejectsIt()
    {
        using var tpm = NewTpm();
        var tampering = new TamperingTransport(tpm);
        var client = new Tpm2(tampering);
        using var hmac = client.StartAuthSession(TpmSe.Hmac);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        tampering.FlipLastOctet = true;
        Assert.Throws<CryptographicException>(() => PolicySecretWith(client, trial, TpmAuthorization.Session(hmac)));
    }

    [Fact]
    public void HmacSession_TamperedCommandParameter_ReturnsBadAuth()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(new TamperingTransport(tpm) { FlipPolicyRef = true });
        using var hmac = client.StartAuthSession(TpmSe.Hmac);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => client.PolicySecret(trial, TpmRh.Endorsement, TpmAuthorization.Session(hmac), policyRef: [1, 2, 3])));
    }

    [Fact]
    public void HmacSession_ReplayedCommand_ReturnsBadAuth()
    {
        using var tpm = NewTpm();
        var recorder = new TamperingTransport(tpm);
        var client = new Tpm2(recorder);
        using var hmac = client.StartAuthSession(TpmSe.Hmac);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        PolicySecretWith(client, trial, TpmAuthorization.Session(hmac));
        var replay = recorder.LastCommand!;
        var response = tpm.Execute(replay);
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), (TpmRc)BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)));
    }

    [Fact]
    public void TrialSession_UsedForAuthorization_ReturnsAttributesForSession1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        using var target = client.StartAuthSession(TpmSe.Trial);
        Assert.Equal(TpmResponseCode.Session(TpmRc.Attributes, 1), ErrorOf(() => PolicySecretWith(client, target, TpmAuthorization.Session(trial))));
    }

    [Fact]
    public void HmacSession_AgainstSwtpm_BehavesAsOurEngine()
    {
        using var swtpm = new SwtpmProcess();
        swtpm.RunTool("tpm2_changeauth", "-c", "e", "hex:" + Convert.ToHexString(Secret));
        using var ours = NewTpm();
        ours.State.Endorsement.AuthValue = Secret;
        using var swtpmTransport = swtpm.CreateTransport();
        foreach (var transport in new ITpmTransport[] { ours, swtpmTransport })
        {
            // At most three loaded sessions, as libtpms.
            var client = new Tpm2(transport);
            var expected = PolicyDigest.Initial(TpmAlgId.Sha256);
            using var trial = client.StartAuthSession(TpmSe.Trial);
            void Secret(TpmAuthorization auth, uint handle = TpmRh.Endorsement)
            {
                PolicySecretWith(client, trial, auth, handle);
                expected = PolicyDigest.PolicySecret(TpmAlgId.Sha256, expected, handle, []);
            }

            using var unbound = client.StartAuthSession(TpmSe.Hmac);
            using var bound = client.StartAuthSession(TpmSe.Hmac, bind: TpmRh.Endorsement, bindAuth: SessionCommandsTests.Secret);
            for (var i = 0; i < 3; i++)
            {
                Secret(TpmAuthorization.Session(unbound, SessionCommandsTests.Secret));
                Secret(TpmAuthorization.Session(bound));
            }

            Secret(TpmAuthorization.Password(SessionCommandsTests.Secret));
            Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => PolicySecretWith(client, trial, TpmAuthorization.Session(unbound, "wrong"u8))));
            Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => PolicySecretWith(client, trial, TpmAuthorization.Password("wrong"u8))));
            Secret(TpmAuthorization.Session(unbound, SessionCommandsTests.Secret, TpmaSession.None));
            Assert.True(unbound.IsClosed);

            using var boundSha1 = client.StartAuthSession(TpmSe.Hmac, TpmAlgId.Sha1, bind: TpmRh.Owner);
            Secret(TpmAuthorization.Session(boundSha1, SessionCommandsTests.Secret));
            Secret(TpmAuthorization.Session(boundSha1), TpmRh.Owner);
            Assert.Equal(expected, client.PolicyGetDigest(trial));

            Secret(TpmAuthorization.Session(bound, attributes: TpmaSession.None));
            Secret(TpmAuthorization.Session(boundSha1, SessionCommandsTests.Secret, TpmaSession.None));
            Assert.Equal(TpmResponseCode.Session(TpmRc.Attributes, 1), ErrorOf(() => PolicySecretWith(client, trial, TpmAuthorization.Session(trial))));
            Assert.Equal(expected, client.PolicyGetDigest(trial));
        }
    }

    /// <summary>Passes commands to the engine; can flip octets of a command or response and remembers the last command.</summary>
    private sealed class TamperingTransport(SoftwareTpm tpm) : ITpmTransport
    {
        public bool FlipLastOctet { get; set; }

        public bool FlipPolicyRef { get; set; }

        public byte[]? LastCommand { get; private set; }

        public byte[] Execute(ReadOnlySpan<byte> command)
        {
            var copy = command.ToArray();
            if (FlipPolicyRef && (TpmCc)BinaryPrimitives.ReadUInt32BigEndian(copy.AsSpan(6)) == TpmCc.PolicySecret)
            {
                // policyRef 01 02 03 sits before the 4-octet expiration at the end.
                copy[^5] ^= 0xFF;
            }

            LastCommand = copy;
            var response = tpm.Execute(copy);
            if (FlipLastOctet && response.Length > 10 && BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)) == 0)
            {
                response[^1] ^= 0x01;
            }

            return response;
        }

        public void Dispose()
        {
        }
    }
}
