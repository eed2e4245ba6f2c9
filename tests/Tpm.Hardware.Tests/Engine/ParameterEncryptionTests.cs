using TrustStack.Tests.Shared;
using System.Buffers.Binary;
using System.Security.Cryptography;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

/// <summary>
/// Session-based parameter encryption (TPM 2.0 Part 1 §21): the engine decrypts the first command
/// parameter and encrypts the first response parameter; the client does the reverse. Round trips
/// run against our engine and against libtpms (swtpm), which proves the client's key derivation
/// matches a real TPM's and so, through the shared code, the engine's.
/// </summary>
public sealed class ParameterEncryptionTests
{
    private const uint NvIndex = 0x0150_0020;
    private static readonly byte[] IndexAuth = "nv-index-auth"u8.ToArray();
    private static readonly byte[] Plaintext = "parameter-encryption: a secret that must not travel in the clear"u8.ToArray();

    public static TheoryData<string> SessionKinds => new() { "cfb", "xor", "cfb-bound", "cfb-salted-rsa", "xor-salted-ecc", "cfb-salted-ecc-bound" };

    private static SoftwareTpm NewTpm() => new(new SoftwareTpmOptions { Seed = 21, AutoStartup = true });

    private static TpmRc Rc(Action action) => Assert.Throws<TpmException>(action).ResponseCode;

    private static TpmtSymDef XorSha256 => new(TpmAlgId.Xor, (ushort)TpmAlgId.Sha256);

    [Fact]
    public void Apply_CfbCommand_IsAesCfbUnderKdfaKeyAndIv()
    {
        // Independent computation: KDFa(SHA-256, sessionKey ‖ authValue, "CFB", nonceCaller, nonceTPM, 256) = key ‖ iv, then AES-128-CFB128.
        byte[] sessionKey = [1, 2, 3, 4], authValue = [5, 6], nonceCaller = [.. Enumerable.Repeat((byte)0xCA, 32)], nonceTpm = [.. Enumerable.Repeat((byte)0x7B, 32)];
        var data = new byte[48];
        RandomNumberGenerator.Fill(data);
        var keyIv = TpmKdf.KdfA(TpmAlgId.Sha256, [1, 2, 3, 4, 5, 6], "CFB", nonceCaller, nonceTpm, 256);
        using var aes = Aes.Create();
        aes.Key = keyIv[..16];
        var expected = aes.EncryptCfb(data, keyIv[16..], PaddingMode.None, feedbackSizeInBits: 128);

        var actual = data.ToArray();
        ParameterEncryption.Apply(TpmtSymDef.Aes128Cfb, TpmAlgId.Sha256, sessionKey, authValue, nonceCaller, nonceTpm, ParameterEncryption.Direction.Command, encrypt: true, actual);

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Apply_XorResponse_MasksWithKdfaOfNonceTpmThenNonceCaller()
    {
        byte[] sessionKey = [9, 9], nonceCaller = [.. Enumerable.Repeat((byte)1, 16)], nonceTpm = [.. Enumerable.Repeat((byte)2, 16)];
        var data = new byte[21];
        var mask = TpmKdf.KdfA(TpmAlgId.Sha1, sessionKey, "XOR", nonceTpm, nonceCaller, data.Length * 8);

        ParameterEncryption.Apply(new TpmtSymDef(TpmAlgId.Xor, (ushort)TpmAlgId.Sha256), TpmAlgId.Sha1, sessionKey, [], nonceCaller, nonceTpm, ParameterEncryption.Direction.Response, encrypt: true, data);

        // XOR masks with the session's authHash (reference CryptParameterEncryption), not the XOR definition's hash.
        Assert.Equal(mask, data);
    }

    [Property(MaxTest = 200)]
    public bool Apply_EncryptThenDecrypt_RoundTripsForEveryDirectionAndAlgorithm(byte[] data, bool xor, bool response)
    {
        data ??= [];
        var symmetric = xor ? XorSha256 : TpmtSymDef.Aes128Cfb;
        var direction = response ? ParameterEncryption.Direction.Response : ParameterEncryption.Direction.Command;
        byte[] key = [3, 1, 4], nonceA = [.. Enumerable.Repeat((byte)0xAA, 16)], nonceB = [.. Enumerable.Repeat((byte)0xBB, 16)];
        var copy = data.ToArray();
        ParameterEncryption.Apply(symmetric, TpmAlgId.Sha256, key, [], nonceA, nonceB, direction, encrypt: true, copy);
        var changed = data.Length == 0 || !copy.AsSpan().SequenceEqual(data) || data.Length < 4;
        ParameterEncryption.Apply(symmetric, TpmAlgId.Sha256, key, [], nonceA, nonceB, direction, encrypt: false, copy);
        return changed && copy.AsSpan().SequenceEqual(data);
    }

    [Fact]
    public void Apply_CommandAndResponseDirections_UseDifferentKeys()
    {
        byte[] nonceA = [.. Enumerable.Repeat((byte)0xAA, 16)], nonceB = [.. Enumerable.Repeat((byte)0xBB, 16)];
        var command = new byte[32];
        var response = new byte[32];
        ParameterEncryption.Apply(TpmtSymDef.Aes128Cfb, TpmAlgId.Sha256, [7], [], nonceA, nonceB, ParameterEncryption.Direction.Command, encrypt: true, command);
        ParameterEncryption.Apply(TpmtSymDef.Aes128Cfb, TpmAlgId.Sha256, [7], [], nonceA, nonceB, ParameterEncryption.Direction.Response, encrypt: true, response);
        Assert.NotEqual(command, response);
    }

    [Theory]
    [MemberData(nameof(SessionKinds))]
    public void NvWriteRead_EncryptedSessionOnEngine_RoundTripsAndNothingTravelsInTheClear(string kind)
    {
        using var tpm = NewTpm();
        var recorder = new RecordingTransport(tpm);
        var client = new Tpm2(recorder);
        RoundTrip(client, recorder, kind, storedData: () => tpm.State.NvIndices[NvIndex].Data);
    }

    [Theory]
    [MemberData(nameof(SessionKinds))]
    public void NvWriteRead_EncryptedSessionOnSwtpm_ClientEncryptionMatchesLibtpms(string kind)
    {
        using var swtpm = new SwtpmProcess();
        using var transport = swtpm.CreateTransport();
        var recorder = new RecordingTransport(transport);
        var client = new Tpm2(recorder);
        RoundTrip(client, recorder, kind, storedData: null);
    }

    [Fact]
    public void NvRead_EncryptOnlySessionAfterPasswordAuthorization_EncryptsResponseWithSessionKeyAlone()
    {
        using var tpm = NewTpm();
        var recorder = new RecordingTransport(tpm);
        var client = new Tpm2(recorder);
        client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(NvIndex, TpmAlgId.Sha256, TpmaNv.OwnerWrite | TpmaNv.OwnerRead, [], (ushort)Plaintext.Length), []);
        client.NvWrite(TpmRh.Owner, NvIndex, Plaintext);
        using var encrypt = client.StartAuthSession(TpmSe.Hmac, symmetric: TpmtSymDef.Aes128Cfb);

        var response = client.Execute(TpmCc.NvRead, [TpmRh.Owner, NvIndex], [TpmAuthorization.EmptyPassword, TpmAuthorization.Session(encrypt, attributes: TpmaSession.ContinueSession | TpmaSession.Encrypt)], w =>
        {
            w.WriteU16((ushort)Plaintext.Length);
            w.WriteU16(0);
        });

        Assert.Equal(Plaintext, response.Reader().ReadTpm2b());
        Assert.False(Contains(recorder.LastResponse!, Plaintext));
    }

    [Fact]
    public void GetRandom_EncryptOnlySession_ResponseStillVerifiesAndDecrypts()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var encrypt = client.StartAuthSession(TpmSe.Hmac, symmetric: XorSha256);
        for (var i = 0; i < 3; i++)
        {
            var response = client.Execute(TpmCc.GetRandom, [], [TpmAuthorization.Session(encrypt, attributes: TpmaSession.ContinueSession | TpmaSession.Encrypt)], w => w.WriteU16(16));
            Assert.Equal(16, response.Reader().ReadTpm2b().Length);
        }
    }

    [Fact]
    public void Execute_DecryptOnCommandWithoutTpm2bParameter_ReturnsAttributesSession1()
    {
        using var tpm = NewTpm();
        using var session = new Tpm2(tpm).StartAuthSession(TpmSe.Hmac, symmetric: TpmtSymDef.Aes128Cfb);

        // TPM2_GetRandom (bytesRequested is a UINT16) with a decrypt session.
        var response = tpm.Execute(SessionCommand(TpmCc.GetRandom, session.Handle, TpmaSession.ContinueSession | TpmaSession.Decrypt, [0x00, 0x10]));

        Assert.Equal(TpmResponseCode.Session(TpmRc.Attributes, 1), ResponseCode(response));
    }

    [Fact]
    public void Execute_EncryptOnCommandWithoutTpm2bResponse_ReturnsAttributesSession1()
    {
        using var tpm = NewTpm();
        using var session = new Tpm2(tpm).StartAuthSession(TpmSe.Hmac, symmetric: TpmtSymDef.Aes128Cfb);

        // TPM2_StirRandom returns nothing.
        var response = tpm.Execute(SessionCommand(TpmCc.StirRandom, session.Handle, TpmaSession.ContinueSession | TpmaSession.Encrypt, [0x00, 0x01, 0x42]));

        Assert.Equal(TpmResponseCode.Session(TpmRc.Attributes, 1), ResponseCode(response));
    }

    [Fact]
    public void Execute_DecryptWithSessionWithoutSymmetric_ReturnsSymmetricSession1()
    {
        using var tpm = NewTpm();
        using var session = new Tpm2(tpm).StartAuthSession(TpmSe.Hmac);

        var response = tpm.Execute(SessionCommand(TpmCc.StirRandom, session.Handle, TpmaSession.ContinueSession | TpmaSession.Decrypt, [0x00, 0x01, 0x42]));

        Assert.Equal(TpmResponseCode.Session(TpmRc.Symmetric, 1), ResponseCode(response));
    }

    [Fact]
    public void Execute_TwoDecryptSessions_ReturnsAttributesSession2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var first = client.StartAuthSession(TpmSe.Hmac, symmetric: TpmtSymDef.Aes128Cfb);
        using var second = client.StartAuthSession(TpmSe.Hmac, symmetric: TpmtSymDef.Aes128Cfb);

        var response = tpm.Execute(SessionCommand(TpmCc.StirRandom, [(first.Handle, TpmaSession.ContinueSession | TpmaSession.Decrypt), (second.Handle, TpmaSession.ContinueSession | TpmaSession.Decrypt)], [0x00, 0x01, 0x42]));

        Assert.Equal(TpmResponseCode.Session(TpmRc.Attributes, 2), ResponseCode(response));
        Assert.Throws<ArgumentException>(() => client.Execute(TpmCc.StirRandom, [], [TpmAuthorization.Session(first, attributes: TpmaSession.Decrypt), TpmAuthorization.Session(second, attributes: TpmaSession.Decrypt)], w => w.WriteTpm2b([1])));
    }

    [Fact]
    public void Execute_SessionForNothing_ReturnsAttributesSession1()
    {
        using var tpm = NewTpm();
        using var session = new Tpm2(tpm).StartAuthSession(TpmSe.Hmac, symmetric: TpmtSymDef.Aes128Cfb);

        // A session that authorizes no handle and is neither audit, encrypt nor decrypt (reference ParseSessionBuffer).
        var response = tpm.Execute(SessionCommand(TpmCc.StirRandom, session.Handle, TpmaSession.ContinueSession, [0x00, 0x01, 0x42]));

        Assert.Equal(TpmResponseCode.Session(TpmRc.Attributes, 1), ResponseCode(response));
    }

    [Fact]
    public void Execute_EncryptOnlySessionWithWrongHmac_ReturnsBadAuthSession1AndKeepsState()
    {
        using var tpm = NewTpm();
        using var session = new Tpm2(tpm).StartAuthSession(TpmSe.Hmac, symmetric: TpmtSymDef.Aes128Cfb);
        var nonceBefore = tpm.State.Sessions[session.Handle].NonceTpm;

        var response = tpm.Execute(SessionCommand(TpmCc.GetRandom, [(session.Handle, TpmaSession.ContinueSession | TpmaSession.Encrypt)], [0x00, 0x10], hmac: new byte[32]));

        // Reference IncrementLockout: a session that includes no authValue and is not bound to a
        // DA-protected entity fails with TPM_RC_BAD_AUTH (libtpms agrees: DifferentialTests).
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ResponseCode(response));
        Assert.Equal(nonceBefore, tpm.State.Sessions[session.Handle].NonceTpm);
    }

    [Fact]
    public void Execute_EncryptedParameterLargerThanTheParameterArea_ReturnsSizeSession1()
    {
        using var tpm = NewTpm();
        using var session = new Tpm2(tpm).StartAuthSession(TpmSe.Hmac, symmetric: TpmtSymDef.Aes128Cfb);

        // StirRandom's inData claims 0x40 octets but two follow; the empty-key session needs no HMAC.
        var response = tpm.Execute(SessionCommand(TpmCc.StirRandom, session.Handle, TpmaSession.ContinueSession | TpmaSession.Decrypt, [0x00, 0x40, 0x01, 0x02]));

        Assert.Equal(TpmResponseCode.Session(TpmRc.Size, 1), ResponseCode(response));
    }

    [Fact]
    public void Execute_PasswordSessionWithDecrypt_ReturnsAttributesSession1()
    {
        using var tpm = NewTpm();
        var response = tpm.Execute(SessionCommand(TpmCc.NvDefineSpace, [(TpmRh.Password, TpmaSession.ContinueSession | TpmaSession.Decrypt)], [0x00, 0x00], handles: [TpmRh.Owner], nonceSize: 0, hmac: []));
        Assert.Equal(TpmResponseCode.Session(TpmRc.Attributes, 1), ResponseCode(response));
    }

    [Fact]
    public void CommandTable_DecryptAndEncryptFlags_MatchTheClientsTables()
    {
        // The engine's DecryptFirst/EncryptFirst flags and the client's lists (Part 3 command tables) must agree.
        using var tpm = NewTpm();
        foreach (var code in tpm.ImplementedCommands)
        {
            Assert.True(tpm.CommandsForTests.TryGet(code, out var d));
            Assert.True(((d.Flags & CommandFlags.DecryptFirst) != 0) == ParameterEncryption.DecryptableCommands.Contains(code), $"decrypt flag of {code}");
            Assert.True(((d.Flags & CommandFlags.EncryptFirst) != 0) == ParameterEncryption.EncryptableResponses.Contains(code), $"encrypt flag of {code}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EncryptionSession_TypedMethods_SendAndReceiveSecretsEncrypted(bool onSwtpm)
    {
        using var swtpm = onSwtpm ? new SwtpmProcess() : null;
        using var tpm = onSwtpm ? null : NewTpm();
        using var transport = swtpm?.CreateTransport();
        var recorder = new RecordingTransport(transport ?? (ITpmTransport)tpm!);
        var client = new Tpm2(recorder);
        var srk = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle;
        using var session = client.StartAuthSession(TpmSe.Hmac, tpmKey: srk, symmetric: TpmtSymDef.Aes128Cfb);
        client.EncryptionSession = session;

        client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(NvIndex, TpmAlgId.Sha256, TpmaNv.AuthWrite | TpmaNv.AuthRead | TpmaNv.NoDA, [], (ushort)Plaintext.Length), IndexAuth);
        Assert.False(Contains(recorder.LastCommand!, IndexAuth));
        client.NvWrite(NvIndex, NvIndex, Plaintext, auth: TpmAuthorization.Password(IndexAuth));
        Assert.False(Contains(recorder.LastCommand!, Plaintext));
        Assert.Equal(Plaintext, client.NvRead(NvIndex, NvIndex, (ushort)Plaintext.Length, auth: TpmAuthorization.Password(IndexAuth)));
        Assert.False(Contains(recorder.LastResponse!, Plaintext));
        Assert.Equal(8, client.GetRandom(8).Length);

        client.EncryptionSession = null;
        Assert.Equal(Plaintext, client.NvRead(NvIndex, NvIndex, (ushort)Plaintext.Length, auth: TpmAuthorization.Password(IndexAuth)));
        Assert.True(Contains(recorder.LastResponse!, Plaintext));
        Assert.Throws<ArgumentException>(() => client.EncryptionSession = client.StartAuthSession(TpmSe.Hmac));
    }

    /// <summary>
    /// Defines an index with an authValue, writes it through a decrypt session that authorizes the
    /// index, checks the plaintext is nowhere on the wire but is what the TPM stored (read back
    /// with a plain password), then reads through an encrypt session.
    /// </summary>
    private static void RoundTrip(Tpm2 client, RecordingTransport recorder, string kind, Func<byte[]>? storedData)
    {
        client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(NvIndex, TpmAlgId.Sha256, TpmaNv.AuthWrite | TpmaNv.AuthRead | TpmaNv.NoDA, [], (ushort)Plaintext.Length), IndexAuth);
        uint saltKey = TpmRh.Null;
        if (kind.Contains("salted", StringComparison.Ordinal))
        {
            saltKey = client.CreatePrimary(TpmRh.Owner, kind.Contains("rsa", StringComparison.Ordinal) ? TpmTemplates.SrkRsa2048() : TpmTemplates.SrkEccP256()).Handle;
        }

        var bound = kind.Contains("bound", StringComparison.Ordinal);
        using var session = client.StartAuthSession(
            TpmSe.Hmac,
            tpmKey: saltKey,
            bind: bound ? NvIndex : TpmRh.Null,
            bindAuth: bound ? IndexAuth : default,
            symmetric: kind.StartsWith("xor", StringComparison.Ordinal) ? XorSha256 : TpmtSymDef.Aes128Cfb);
        Assert.Equal(bound || saltKey != TpmRh.Null, session.SessionKey.Length > 0);

        for (var round = 0; round < 2; round++)
        {
            client.NvWrite(NvIndex, NvIndex, Plaintext, auth: TpmAuthorization.Session(session, IndexAuth, TpmaSession.ContinueSession | TpmaSession.Decrypt));
            Assert.False(Contains(recorder.LastCommand!, Plaintext));
            if (storedData is not null)
            {
                Assert.Equal(Plaintext, storedData());
            }

            Assert.Equal(Plaintext, client.NvRead(NvIndex, NvIndex, (ushort)Plaintext.Length, auth: TpmAuthorization.Password(IndexAuth)));
            Assert.True(Contains(recorder.LastResponse!, Plaintext));

            var read = client.NvRead(NvIndex, NvIndex, (ushort)Plaintext.Length, auth: TpmAuthorization.Session(session, IndexAuth, TpmaSession.ContinueSession | TpmaSession.Encrypt));
            Assert.Equal(Plaintext, read);
            Assert.False(Contains(recorder.LastResponse!, Plaintext));
        }

        // A decrypt attribute on TPM2_NV_Read (no TPM2B first parameter) is refused before anything is sent.
        Assert.Throws<ArgumentException>(() => client.NvRead(NvIndex, NvIndex, (ushort)Plaintext.Length, auth: TpmAuthorization.Session(session, IndexAuth, TpmaSession.ContinueSession | TpmaSession.Decrypt)));
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    private static TpmRc ResponseCode(byte[] response) => (TpmRc)BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6));

    private static byte[] SessionCommand(TpmCc code, uint session, TpmaSession attributes, byte[] parameters) =>
        SessionCommand(code, [(session, attributes)], parameters);

    /// <summary>A TPM_ST_SESSIONS command with the given sessions (32-octet nonces, empty HMACs unless given).</summary>
    private static byte[] SessionCommand(TpmCc code, (uint Handle, TpmaSession Attributes)[] sessions, byte[] parameters, uint[]? handles = null, int nonceSize = 32, byte[]? hmac = null)
    {
        var w = new TpmWriter();
        w.WriteU16((ushort)TpmSt.Sessions);
        var size = w.BeginSize32();
        w.WriteU32((uint)code);
        foreach (var h in handles ?? [])
        {
            w.WriteU32(h);
        }

        var auth = w.BeginSize32();
        foreach (var (handle, attributes) in sessions)
        {
            w.WriteU32(handle);
            w.WriteTpm2b(new byte[nonceSize]);
            w.WriteU8((byte)attributes);
            w.WriteTpm2b(hmac ?? []);
        }

        w.EndSize32(auth);
        w.WriteBytes(parameters);
        w.EndSize32(size, includeField: true);
        return w.ToArray();
    }

    /// <summary>Passes commands through and keeps the last command and response.</summary>
    private sealed class RecordingTransport(ITpmTransport inner) : ITpmTransport
    {
        public byte[]? LastCommand { get; private set; }

        public byte[]? LastResponse { get; private set; }

        public byte[] Execute(ReadOnlySpan<byte> command)
        {
            LastCommand = command.ToArray();
            LastResponse = inner.Execute(command);
            return LastResponse;
        }

        public void Dispose()
        {
        }
    }
}
