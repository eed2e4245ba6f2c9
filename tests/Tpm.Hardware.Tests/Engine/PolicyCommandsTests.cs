using FsCheck.Xunit;
using TrustStack.Tests.Shared;
using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class PolicyCommandsTests
{
    // TCG EK Credential Profile 2.x, "PolicyA": TPM2_PolicySecret(TPM_RH_ENDORSEMENT).
    private const string EkPolicyASha256 = "837197674484B3F81A90CC8D46A5D724FD52D76E06520B64F2A1DA1B331469AA";
    private const string EkPolicyASha384 = "8BBF2266537C171CB56E403C4DC1D4B64F432611DC386E6F532050C3278C930E143E8BB1133824CCB431053871C6DB53";

    // TPM2_PolicyAuthValue from the zero digest, SHA-256 (EK Credential Profile, "PolicyB" building block).
    private const string PolicyAuthValueSha256 = "8FCD2169AB92694E0C633F1AB772842B8241BBC20288981FC7AC1EDDC1FDDB0E";

    private static readonly byte[] Secret = "hierarchy-secret"u8.ToArray();

    private static SoftwareTpm NewTpm(IReadOnlyList<TpmAlgId>? banks = null) =>
        EngineTestKit.NewTpm(5, configure: o => o.PcrBanks = banks ?? o.PcrBanks);

    private static byte[] Zero(TpmAlgId hash) => PolicyDigest.Initial(hash);

    [Theory]
    [InlineData(TpmAlgId.Sha256, EkPolicyASha256)]
    [InlineData(TpmAlgId.Sha384, EkPolicyASha384)]
    public void PolicySecret_EndorsementInTrialSession_IsEkCredentialProfilePolicyA(TpmAlgId hash, string expected)
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var trial = client.StartAuthSession(TpmSe.Trial, hash);
        var result = client.PolicySecret(trial, TpmRh.Endorsement, TpmAuthorization.EmptyPassword);
        Assert.Equal(expected, Convert.ToHexString(client.PolicyGetDigest(trial)));
        Assert.Equal(expected, Convert.ToHexString(PolicyDigest.PolicySecret(hash, Zero(hash), TpmRh.Endorsement, [])));

        // Expiration 0: no timeout and a null TPMT_TK_AUTH.
        Assert.Empty(result.Timeout);
        Assert.Equal(TpmSt.AuthSecret, result.PolicyTicket.Tag);
        Assert.Equal(TpmRh.Null, result.PolicyTicket.Hierarchy);
        Assert.Empty(result.PolicyTicket.Digest);
    }

    [Fact]
    public void PolicyAuthValue_TrialSession_IsTheWellKnownDigestAndPolicyPasswordEqualsIt()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var a = client.StartAuthSession(TpmSe.Trial);
        using var p = client.StartAuthSession(TpmSe.Trial);
        client.PolicyAuthValue(a);
        client.PolicyPassword(p);
        Assert.Equal(PolicyAuthValueSha256, Convert.ToHexString(client.PolicyGetDigest(a)));
        Assert.Equal(PolicyAuthValueSha256, Convert.ToHexString(client.PolicyGetDigest(p)));
        Assert.Equal(PolicyAuthValueSha256, Convert.ToHexString(PolicyDigest.PolicyPassword(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256))));
        Assert.True(a.NeedsAuthValue);
        Assert.True(p.NeedsPassword);
        Assert.True(tpm.State.Sessions[a.Handle].IsAuthValueNeeded);
        Assert.True(tpm.State.Sessions[p.Handle].IsPasswordNeeded);
    }

    [Fact]
    public void PolicyPassword_AfterPolicyAuthValue_TheLastOneWins()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Policy);
        client.PolicyAuthValue(s);
        client.PolicyPassword(s);
        var engine = tpm.State.Sessions[s.Handle];
        Assert.True(engine.IsPasswordNeeded);
        Assert.False(engine.IsAuthValueNeeded);
        client.PolicyAuthValue(s);
        Assert.False(engine.IsPasswordNeeded);
        Assert.True(engine.IsAuthValueNeeded);
    }

    [Fact]
    public void PolicyCommandCode_SameCodeTwice_ExtendsTwice()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Policy);
        client.PolicyCommandCode(s, TpmCc.PolicySecret);
        client.PolicyCommandCode(s, TpmCc.PolicySecret);
        var once = PolicyDigest.PolicyCommandCode(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256), TpmCc.PolicySecret);
        Assert.Equal(PolicyDigest.PolicyCommandCode(TpmAlgId.Sha256, once, TpmCc.PolicySecret), client.PolicyGetDigest(s));
        Assert.Equal(TpmCc.PolicySecret, tpm.State.Sessions[s.Handle].CommandCode);
    }

    [Fact]
    public void PolicyCommandCode_ConflictingCode_ReturnsValueParameter1AndKeepsTheDigest()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Trial);
        client.PolicyCommandCode(s, TpmCc.PolicySecret);
        var before = client.PolicyGetDigest(s);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), ErrorOf(() => client.PolicyCommandCode(s, TpmCc.GetRandom)));
        Assert.Equal(before, client.PolicyGetDigest(s));
    }

    [Fact]
    public void PolicyCommandCode_UnimplementedCommand_ReturnsPolicyCcParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Trial);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.PolicyCc, 1), ErrorOf(() => client.PolicyCommandCode(s, (TpmCc)0x2000_0001)));
    }

    [Fact]
    public void PolicyRestart_AfterSeveralAssertions_ReturnsToTheInitialState()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Policy, TpmAlgId.Sha1);
        client.PolicyPcr(s, PcrSelectionList.Create(TpmAlgId.Sha256, 0));
        client.PolicyCommandCode(s, TpmCc.PolicySecret);
        client.PolicyPassword(s);
        var nonce = tpm.State.Sessions[s.Handle].NonceTpm;
        client.PolicyRestart(s);
        var engine = tpm.State.Sessions[s.Handle];
        Assert.Equal(new byte[20], client.PolicyGetDigest(s));
        Assert.Equal((TpmCc)0, engine.CommandCode);
        Assert.False(engine.IsPasswordNeeded);
        Assert.Equal(-1, engine.PcrCounter);
        Assert.False(s.NeedsPassword);
        Assert.Equal(nonce, engine.NonceTpm);
    }

    [Fact]
    public void PolicyGetDigest_HmacSessionHandle_ReturnsValueHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var hmac = client.StartAuthSession(TpmSe.Hmac);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Value, 1), ErrorOf(() => client.Execute(TpmCc.PolicyGetDigest, [hmac.Handle], [], null)));
    }

    [Fact]
    public void PolicyGetDigest_SessionNotLoaded_ReturnsReferenceH0()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        Assert.Equal(TpmRc.ReferenceH0, ErrorOf(() => client.Execute(TpmCc.PolicyGetDigest, [0x0300_0005u], [], null)));
        using var saved = client.StartAuthSession(TpmSe.Policy);
        tpm.State.Sessions[saved.Handle].IsSaved = true;
        Assert.Equal(TpmRc.ReferenceH0, ErrorOf(() => client.PolicyGetDigest(saved)));
    }

    [Fact]
    public void PolicyAuthValue_TrailingParameter_ReturnsSize()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Policy);
        Assert.Equal(TpmRc.Size, ErrorOf(() => client.Execute(TpmCc.PolicyAuthValue, [s.Handle], [], w => w.WriteU8(0))));
    }

    [Fact]
    public void PolicyPcr_PolicySession_MatchesOfflineDigestAndRecordsTheCounter()
    {
        using var tpm = NewTpm();
        tpm.State.Pcrs[TpmAlgId.Sha256][1] = Enumerable.Repeat((byte)0x5A, 32).ToArray();
        tpm.State.PcrUpdateCounter = 7;
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Policy);
        var pcrs = PcrSelectionList.Parse("sha256:0,1+sha1:7");
        client.PolicyPcr(s, pcrs);
        var values = new[] { new byte[32], Enumerable.Repeat((byte)0x5A, 32).ToArray(), new byte[20] };
        Assert.Equal(PolicyDigest.PolicyPcr(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256), pcrs, values), client.PolicyGetDigest(s));
        Assert.Equal(7, tpm.State.Sessions[s.Handle].PcrCounter);
    }

    [Fact]
    public void PolicyPcr_MatchingPcrDigest_AcceptedAndWrongOneIsValueParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Policy);
        var pcrs = PcrSelectionList.Create(TpmAlgId.Sha256, 0, 17);
        var good = PolicyDigest.PcrDigest(TpmAlgId.Sha256, [new byte[32], Enumerable.Repeat((byte)0xFF, 32).ToArray()]);
        client.PolicyPcr(s, pcrs, good);
        var before = client.PolicyGetDigest(s);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), ErrorOf(() => client.PolicyPcr(s, pcrs, new byte[32])));
        Assert.Equal(before, client.PolicyGetDigest(s));
    }

    [Fact]
    public void PolicyPcr_TrialWithPcrDigest_UsesTheGivenDigest()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Trial);
        var pcrs = PcrSelectionList.Create(TpmAlgId.Sha256, 7);
        var wanted = Enumerable.Repeat((byte)0x42, 32).ToArray();
        client.PolicyPcr(s, pcrs, wanted);
        Assert.Equal(PolicyDigest.PolicyPcrWithDigest(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256), pcrs, wanted), client.PolicyGetDigest(s));
        Assert.Equal(-1, tpm.State.Sessions[s.Handle].PcrCounter);
    }

    [Fact]
    public void PolicyPcr_PcrsChangedSinceEarlierPolicyPcr_ReturnsPcrChanged()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Policy);
        client.PolicyPcr(s, PcrSelectionList.Create(TpmAlgId.Sha256, 0));
        tpm.State.PcrUpdateCounter++;
        Assert.Equal(TpmRc.PcrChanged, ErrorOf(() => client.PolicyPcr(s, PcrSelectionList.Create(TpmAlgId.Sha256, 1))));
    }

    [Fact]
    public void PolicyPcr_UnallocatedBank_IsFilteredOutOfTheDigest()
    {
        using var tpm = NewTpm([TpmAlgId.Sha256]);
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Trial);
        var asked = new PcrSelectionList([new PcrSelection(TpmAlgId.Sha1, [1, 0, 0]), new PcrSelection(TpmAlgId.Sha256, [1, 0, 0])]);
        client.PolicyPcr(s, asked);
        var filtered = new PcrSelectionList([new PcrSelection(TpmAlgId.Sha1, [0, 0, 0]), new PcrSelection(TpmAlgId.Sha256, [1, 0, 0])]);
        Assert.Equal(PolicyDigest.PolicyPcr(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256), filtered, [new byte[32]]), client.PolicyGetDigest(s));
    }

    [Theory]
    [InlineData((ushort)TpmAlgId.Sha256, 2, TpmRc.Value)]
    [InlineData((ushort)TpmAlgId.Sha256, 4, TpmRc.Value)] // PCR_SELECT_MAX is 3 for 24 PCRs, as in libtpms
    [InlineData((ushort)TpmAlgId.Sha256, 5, TpmRc.Value)]
    [InlineData((ushort)TpmAlgId.Null, 3, TpmRc.Hash)]
    [InlineData((ushort)TpmAlgId.Aes, 3, TpmRc.Hash)]
    public void PolicyPcr_MalformedSelection_ReturnsErrorForParameter2(ushort bank, int sizeofSelect, TpmRc code)
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Trial);
        var rc = ErrorOf(() => client.Execute(TpmCc.PolicyPCR, [s.Handle], [], w =>
        {
            w.WriteTpm2b([]);
            w.WriteU32(1);
            w.WriteU16(bank);
            w.WriteU8((byte)sizeofSelect);
            w.WriteBytes(new byte[sizeofSelect]);
        }));
        Assert.Equal(TpmResponseCode.Parameter(code, 2), rc);
    }

    [Fact]
    public void PolicySecret_NonceTpm_CurrentAcceptedStaleIsNonceParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Policy);
        client.PolicySecret(s, TpmRh.Owner, TpmAuthorization.EmptyPassword, nonceTpm: s.NonceTpm);
        var stale = s.NonceTpm.ToArray();
        stale[0] ^= 1;
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Nonce, 1), ErrorOf(() => client.PolicySecret(s, TpmRh.Owner, TpmAuthorization.EmptyPassword, nonceTpm: stale)));
    }

    [Fact]
    public void PolicySecret_CpHashA_WrongSizeIsSizeParameter2AndDifferentIsCpHash()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Policy);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 2), ErrorOf(() => client.PolicySecret(s, TpmRh.Owner, TpmAuthorization.EmptyPassword, cpHashA: new byte[20])));
        var cpHash = Enumerable.Repeat((byte)3, 32).ToArray();
        client.PolicySecret(s, TpmRh.Owner, TpmAuthorization.EmptyPassword, cpHashA: cpHash);
        Assert.Equal(cpHash, tpm.State.Sessions[s.Handle].CpHash);
        Assert.Equal(TpmRc.Cphash, ErrorOf(() => client.PolicySecret(s, TpmRh.Owner, TpmAuthorization.EmptyPassword, cpHashA: new byte[32])));
    }

    [Fact]
    public void PolicySecret_NonZeroExpiration_PolicySessionRefusedTrialAccepted()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var policy = client.StartAuthSession(TpmSe.Policy);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 4), ErrorOf(() => client.PolicySecret(policy, TpmRh.Owner, TpmAuthorization.EmptyPassword, expiration: -60)));
        var result = client.PolicySecret(trial, TpmRh.Owner, TpmAuthorization.EmptyPassword, expiration: -60);
        Assert.Empty(result.Timeout);
        Assert.Equal(TpmRh.Null, result.PolicyTicket.Hierarchy);
    }

    [Fact]
    public void PolicySecret_PolicyRefAndPcrEntity_EnterTheDigest()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Trial);
        client.PolicySecret(s, 7u, TpmAuthorization.EmptyPassword, policyRef: "ref"u8.ToArray());
        Assert.Equal(PolicyDigest.PolicySecret(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256), 7u, "ref"u8), client.PolicyGetDigest(s));
    }

    [Fact]
    public void PolicySecret_PolicySessionInTheAuthorizedSlot_ReturnsValueHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Trial);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Value, 1), ErrorOf(() => client.PolicySecret(s, s.Handle, TpmAuthorization.EmptyPassword)));
    }

    [Fact]
    public void PolicySecret_WithoutAuthorization_ReturnsAuthMissing()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Trial);
        Assert.Equal(TpmRc.AuthMissing, ErrorOf(() => client.Execute(TpmCc.PolicySecret, [TpmRh.Owner, s.Handle], [], w =>
        {
            w.WriteTpm2b([]);
            w.WriteTpm2b([]);
            w.WriteTpm2b([]);
            w.WriteU32(0);
        })));
    }

    // ---- policy sessions authorizing a command (endorsement gets an authPolicy) ----

    private static (SoftwareTpm Tpm, Tpm2 Client) WithEndorsementPolicy(byte[] authPolicy)
    {
        var tpm = NewTpm();
        tpm.State.Endorsement.AuthValue = Secret;
        tpm.State.Endorsement.AuthPolicy = authPolicy;
        tpm.State.Endorsement.PolicyAlg = TpmAlgId.Sha256;
        return (tpm, new Tpm2(tpm));
    }

    [Fact]
    public void PolicySession_PolicyPassword_AuthorizesWithTheClearAuthValue()
    {
        var policy = PolicyDigest.PolicyPassword(TpmAlgId.Sha256, PolicyDigest.PolicyCommandCode(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256), TpmCc.PolicySecret));
        var (tpm, client) = WithEndorsementPolicy(policy);
        using (tpm)
        {
            using var s = client.StartAuthSession(TpmSe.Policy);
            using var target = client.StartAuthSession(TpmSe.Trial);
            client.PolicyCommandCode(s, TpmCc.PolicySecret);
            client.PolicyPassword(s);
            client.PolicySecret(target, TpmRh.Endorsement, TpmAuthorization.Session(s, Secret));

            // The TPM restarted the policy after the authorization.
            Assert.Equal(new byte[32], client.PolicyGetDigest(s));
            Assert.False(s.NeedsPassword);

            client.PolicyCommandCode(s, TpmCc.PolicySecret);
            client.PolicyPassword(s);
            Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => client.PolicySecret(target, TpmRh.Endorsement, TpmAuthorization.Session(s, "wrong"u8))));
        }
    }

    [Fact]
    public void PolicySession_PolicyAuthValue_AuthorizesWithAnHmacOverTheAuthValue()
    {
        var policy = PolicyDigest.PolicyAuthValue(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256));
        var (tpm, client) = WithEndorsementPolicy(policy);
        using (tpm)
        {
            using var s = client.StartAuthSession(TpmSe.Policy, bind: TpmRh.Owner);
            using var target = client.StartAuthSession(TpmSe.Trial);
            client.PolicyAuthValue(s);
            client.PolicySecret(target, TpmRh.Endorsement, TpmAuthorization.Session(s, Secret));
            client.PolicyAuthValue(s);
            Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), ErrorOf(() => client.PolicySecret(target, TpmRh.Endorsement, TpmAuthorization.Session(s, "wrong"u8))));
        }
    }

    [Fact]
    public void PolicySession_CommandCodeForAnotherCommand_ReturnsPolicyCcSession1()
    {
        var policy = PolicyDigest.PolicyPassword(TpmAlgId.Sha256, PolicyDigest.PolicyCommandCode(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256), TpmCc.GetRandom));
        var (tpm, client) = WithEndorsementPolicy(policy);
        using (tpm)
        {
            using var s = client.StartAuthSession(TpmSe.Policy);
            using var target = client.StartAuthSession(TpmSe.Trial);
            client.PolicyCommandCode(s, TpmCc.GetRandom);
            client.PolicyPassword(s);
            Assert.Equal(TpmResponseCode.Session(TpmRc.PolicyCc, 1), ErrorOf(() => client.PolicySecret(target, TpmRh.Endorsement, TpmAuthorization.Session(s, Secret))));
        }
    }

    [Fact]
    public void PolicySession_PcrChangedAfterPolicyPcr_ReturnsPcrChanged()
    {
        var pcrs = PcrSelectionList.Create(TpmAlgId.Sha256, 0);
        var policy = PolicyDigest.PolicyPassword(TpmAlgId.Sha256, PolicyDigest.PolicyPcr(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256), pcrs, [new byte[32]]));
        var (tpm, client) = WithEndorsementPolicy(policy);
        using (tpm)
        {
            using var s = client.StartAuthSession(TpmSe.Policy);
            using var target = client.StartAuthSession(TpmSe.Trial);
            client.PolicyPcr(s, pcrs);
            client.PolicyPassword(s);
            client.PolicySecret(target, TpmRh.Endorsement, TpmAuthorization.Session(s, Secret));

            client.PolicyPcr(s, pcrs);
            client.PolicyPassword(s);

            // What PCR_Extend does: a new value and a new update counter.
            tpm.State.Pcrs[TpmAlgId.Sha256][0] = TpmHash.Extend(TpmAlgId.Sha256, new byte[32], new byte[32]);
            tpm.State.PcrUpdateCounter++;
            Assert.Equal(TpmRc.PcrChanged, ErrorOf(() => client.PolicySecret(target, TpmRh.Endorsement, TpmAuthorization.Session(s, Secret))));
        }
    }

    [Fact]
    public void PolicySession_DigestDiffersFromAuthPolicy_ReturnsPolicyFailSession1()
    {
        var (tpm, client) = WithEndorsementPolicy(PolicyDigest.PolicyPassword(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256)));
        using (tpm)
        {
            using var s = client.StartAuthSession(TpmSe.Policy);
            using var target = client.StartAuthSession(TpmSe.Trial);
            client.PolicyCommandCode(s, TpmCc.PolicySecret);
            client.PolicyPassword(s);
            Assert.Equal(TpmResponseCode.Session(TpmRc.PolicyFail, 1), ErrorOf(() => client.PolicySecret(target, TpmRh.Endorsement, TpmAuthorization.Session(s, Secret))));
        }
    }

    [Fact]
    public void PolicySession_AuthorizingPolicySecretWithoutAuthValue_ReturnsModeSession1()
    {
        var (tpm, client) = WithEndorsementPolicy(PolicyDigest.PolicyCommandCode(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256), TpmCc.PolicySecret));
        using (tpm)
        {
            using var s = client.StartAuthSession(TpmSe.Policy);
            using var target = client.StartAuthSession(TpmSe.Trial);
            client.PolicyCommandCode(s, TpmCc.PolicySecret);
            Assert.Equal(TpmResponseCode.Session(TpmRc.Mode, 1), ErrorOf(() => client.PolicySecret(target, TpmRh.Endorsement, TpmAuthorization.Session(s))));
        }
    }

    // ---- trial sessions and offline computation agree ----

    private enum Op
    {
        Pcr,
        PcrWithDigest,
        Secret,
        AuthValue,
        Password,
        CommandCode,
    }

    private static readonly TpmCc[] Codes = [TpmCc.PolicySecret, TpmCc.GetRandom, TpmCc.PolicyPCR, TpmCc.StartAuthSession];
    private static readonly uint[] Hierarchies = [TpmRh.Owner, TpmRh.Endorsement, TpmRh.Platform, TpmRh.Lockout, 16u];
    private static readonly TpmAlgId[] Hashes = [TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384];

    [Property(MaxTest = 60)]
    public bool TrialSession_RandomPolicy_EqualsOfflineDigest(int hashIndex, (int Op, int A, int B, byte[] Data)[] steps)
    {
        var hash = Hashes[Math.Abs(hashIndex % Hashes.Length)];
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var trial = client.StartAuthSession(TpmSe.Trial, hash);
        var expected = PolicyDigest.Initial(hash);
        TpmCc? code = null;
        foreach (var (opIndex, a, b, data) in (steps ?? []).Take(12))
        {
            var bytes = data ?? [];
            switch ((Op)Math.Abs(opIndex % 6))
            {
                case Op.Pcr:
                case Op.PcrWithDigest:
                    var bank = Hashes[Math.Abs(a % Hashes.Length)];
                    var pcrs = PcrSelectionList.Create(bank, Enumerable.Range(0, 24).Where(i => ((b >> i) & 1) != 0));
                    var values = pcrs.Enumerate().Select(p => tpm.State.Pcrs[p.Bank][p.Pcr]).ToArray();
                    if (Math.Abs(opIndex % 6) == (int)Op.Pcr)
                    {
                        client.PolicyPcr(trial, pcrs);
                        expected = PolicyDigest.PolicyPcr(hash, expected, pcrs, values);
                    }
                    else
                    {
                        var given = TpmHash.Hash(hash, bytes);
                        client.PolicyPcr(trial, pcrs, given);
                        expected = PolicyDigest.PolicyPcrWithDigest(hash, expected, pcrs, given);
                    }

                    break;
                case Op.Secret:
                    var handle = Hierarchies[Math.Abs(a % Hierarchies.Length)];
                    var policyRef = bytes.Take(64).ToArray();
                    client.PolicySecret(trial, handle, TpmAuthorization.EmptyPassword, policyRef: policyRef);
                    expected = PolicyDigest.PolicySecret(hash, expected, handle, policyRef);
                    break;
                case Op.AuthValue:
                    client.PolicyAuthValue(trial);
                    expected = PolicyDigest.PolicyAuthValue(hash, expected);
                    break;
                case Op.Password:
                    client.PolicyPassword(trial);
                    expected = PolicyDigest.PolicyPassword(hash, expected);
                    break;
                default:
                    // One command code per policy (a second, different one is TPM_RC_VALUE).
                    code ??= Codes[Math.Abs(a % Codes.Length)];
                    client.PolicyCommandCode(trial, code.Value);
                    expected = PolicyDigest.PolicyCommandCode(hash, expected, code.Value);
                    break;
            }
        }

        return client.PolicyGetDigest(trial).AsSpan().SequenceEqual(expected);
    }

    [Fact]
    public void PolicyDigest_WrongSizeDigest_Throws()
    {
        Assert.Throws<ArgumentException>(() => PolicyDigest.PolicyAuthValue(TpmAlgId.Sha256, new byte[20]));
        Assert.Throws<ArgumentException>(() => PolicyDigest.PolicyPcr(TpmAlgId.Sha256, new byte[32], PcrSelectionList.Create(TpmAlgId.Sha256, 0, 1), [new byte[32]]));
    }

    // ---- the same digests as tpm2-tools on swtpm ----

    [Fact]
    public void PolicyCommands_TrialSession_DigestsEqualTpm2ToolsOnSwtpm()
    {
        using var swtpm = new SwtpmProcess();
        File.WriteAllBytes(Path.Combine(swtpm.WorkingDirectory, "ref.bin"), "qualifier"u8.ToArray());
        swtpm.RunTool("tpm2_startauthsession", "-S", "s.ctx");
        swtpm.RunTool("tpm2_policypcr", "-S", "s.ctx", "-l", "sha256:0,1,17", "-L", "1.policy");
        swtpm.RunTool("tpm2_policysecret", "-S", "s.ctx", "-c", "e", "-L", "2.policy");
        swtpm.RunTool("tpm2_policysecret", "-S", "s.ctx", "-c", "o", "-q", "ref.bin", "-L", "3.policy");
        swtpm.RunTool("tpm2_policyauthvalue", "-S", "s.ctx", "-L", "4.policy");
        swtpm.RunTool("tpm2_policypassword", "-S", "s.ctx", "-L", "5.policy");
        swtpm.RunTool("tpm2_policycommandcode", "-S", "s.ctx", "-L", "6.policy", "TPM2_CC_PolicySecret");
        swtpm.RunTool("tpm2_flushcontext", "s.ctx");
        swtpm.RunTool("tpm2_startauthsession", "-g", "sha1", "-S", "t.ctx");
        swtpm.RunTool("tpm2_policypcr", "-S", "t.ctx", "-l", "sha1:7+sha256:23", "-L", "7.policy");
        swtpm.RunTool("tpm2_policysecret", "-S", "t.ctx", "-c", "p", "-L", "8.policy");
        swtpm.RunTool("tpm2_flushcontext", "t.ctx");

        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var s = client.StartAuthSession(TpmSe.Trial);
        client.PolicyPcr(s, PcrSelectionList.Parse("sha256:0,1,17"));
        Assert.Equal(swtpm.ReadFile("1.policy"), client.PolicyGetDigest(s));
        client.PolicySecret(s, TpmRh.Endorsement, TpmAuthorization.EmptyPassword);
        Assert.Equal(swtpm.ReadFile("2.policy"), client.PolicyGetDigest(s));
        client.PolicySecret(s, TpmRh.Owner, TpmAuthorization.EmptyPassword, policyRef: "qualifier"u8.ToArray());
        Assert.Equal(swtpm.ReadFile("3.policy"), client.PolicyGetDigest(s));
        client.PolicyAuthValue(s);
        Assert.Equal(swtpm.ReadFile("4.policy"), client.PolicyGetDigest(s));
        client.PolicyPassword(s);
        Assert.Equal(swtpm.ReadFile("5.policy"), client.PolicyGetDigest(s));
        client.PolicyCommandCode(s, TpmCc.PolicySecret);
        Assert.Equal(swtpm.ReadFile("6.policy"), client.PolicyGetDigest(s));

        using var t = client.StartAuthSession(TpmSe.Trial, TpmAlgId.Sha1);
        client.PolicyPcr(t, PcrSelectionList.Parse("sha1:7+sha256:23"));
        Assert.Equal(swtpm.ReadFile("7.policy"), client.PolicyGetDigest(t));
        client.PolicySecret(t, TpmRh.Platform, TpmAuthorization.EmptyPassword);
        Assert.Equal(swtpm.ReadFile("8.policy"), client.PolicyGetDigest(t));
    }

    [Fact]
    public void PolicyDigest_Offline_EqualsTpm2ToolsOnSwtpm()
    {
        using var swtpm = new SwtpmProcess();
        swtpm.RunTool("tpm2_startauthsession", "-S", "s.ctx");
        swtpm.RunTool("tpm2_policycommandcode", "-S", "s.ctx", "-L", "1.policy", "TPM2_CC_GetRandom");
        swtpm.RunTool("tpm2_policysecret", "-S", "s.ctx", "-c", "e", "-L", "2.policy");
        swtpm.RunTool("tpm2_policypcr", "-S", "s.ctx", "-l", "sha256:16,18", "-L", "3.policy");
        swtpm.RunTool("tpm2_flushcontext", "s.ctx");

        var d = PolicyDigest.PolicyCommandCode(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256), TpmCc.GetRandom);
        Assert.Equal(swtpm.ReadFile("1.policy"), d);
        d = PolicyDigest.PolicySecret(TpmAlgId.Sha256, d, TpmRh.Endorsement, []);
        Assert.Equal(swtpm.ReadFile("2.policy"), d);
        d = PolicyDigest.PolicyPcr(TpmAlgId.Sha256, d, PcrSelectionList.Create(TpmAlgId.Sha256, 16, 18), [new byte[32], Enumerable.Repeat((byte)0xFF, 32).ToArray()]);
        Assert.Equal(swtpm.ReadFile("3.policy"), d);
    }

    private static void PolicyOr(Tpm2 client, TpmSession session, params byte[][] digests) =>
        client.Execute(TpmCc.PolicyOR, [session.Handle], [], w =>
        {
            w.WriteU32((uint)digests.Length);
            foreach (var d in digests)
            {
                w.WriteTpm2b(d);
            }
        });

    [Fact]
    public void PolicyOr_TrialSession_IsHashOfZeroCommandCodeAndBranches()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        var a = PolicyDigest.PolicyAuthValue(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256));
        var b = PolicyDigest.PolicyCommandCode(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256), TpmCc.Unseal);

        PolicyOr(client, trial, a, b);

        // Part 3 §23.6: policyDigest = H(0…0 ‖ TPM_CC_PolicyOR ‖ digests).
        Assert.Equal(TpmHash.Hash(TpmAlgId.Sha256, [new byte[32], [0x00, 0x00, 0x01, 0x71], a, b]), client.PolicyGetDigest(trial));
    }

    [Fact]
    public void PolicyOr_PolicySessionOnOneBranch_ReachesTheOrDigestAndUnseals()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var a = PolicyDigest.PolicyAuthValue(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256));
        var b = PolicyDigest.PolicyCommandCode(TpmAlgId.Sha256, Zero(TpmAlgId.Sha256), TpmCc.Unseal);
        var or = TpmHash.Hash(TpmAlgId.Sha256, [new byte[32], [0x00, 0x00, 0x01, 0x71], a, b]);
        var parent = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle;
        var sealedObject = client.Create(parent, TpmTemplates.SealedData(or), new TpmsSensitiveCreate([], "or-sealed"u8.ToArray()));
        var loaded = client.Load(parent, sealedObject.Private, sealedObject.Public).Handle;

        using var policy = client.StartAuthSession(TpmSe.Policy);
        client.PolicyCommandCode(policy, TpmCc.Unseal);
        PolicyOr(client, policy, a, b);
        Assert.Equal(or, client.PolicyGetDigest(policy));
        Assert.Equal("or-sealed"u8.ToArray(), client.Unseal(loaded, TpmAuthorization.Session(policy)));
    }

    [Fact]
    public void PolicyOr_CurrentDigestNotListed_ReturnsValueParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var policy = client.StartAuthSession(TpmSe.Policy);
        var before = client.PolicyGetDigest(policy);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 1), ErrorOf(() => PolicyOr(client, policy, new byte[32].Select(_ => (byte)1).ToArray(), new byte[32].Select(_ => (byte)2).ToArray())));
        Assert.Equal(before, client.PolicyGetDigest(policy));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public void PolicyOr_FewerThanTwoOrMoreThanEightDigests_ReturnsSizeParameter1(int count)
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        using var trial = client.StartAuthSession(TpmSe.Trial);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), ErrorOf(() => PolicyOr(client, trial, [.. Enumerable.Repeat(new byte[32], count)])));
    }
}
