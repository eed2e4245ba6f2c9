using System.Security.Cryptography;
using System.Text;

namespace TrustStack.Tpm.Hardware.Tests.Interop;

/// <summary>
/// tpm2-tools 5.4 against our engine served in-process, over both the swtpm and the mssim TCTI;
/// every flow also runs against a real swtpm (libtpms) so that a failure there means the flow,
/// not the engine, is wrong. Without a resource manager only three objects fit, so each step is
/// followed by <c>tpm2_flushcontext -t</c>, as a user of tpm2-tools on swtpm must do.
/// </summary>
public sealed class TpmToolsInteropTests
{
    public static TheoryData<string> Targets => new() { TpmToolsInteropTarget.OursSwtpm, TpmToolsInteropTarget.OursMssim, TpmToolsInteropTarget.Libtpms };

    [Theory]
    [MemberData(nameof(Targets))]
    public void CreateEk_RsaAndEcc_DeterministicAndReadPublicMatches(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        foreach (var alg in new[] { "rsa", "ecc" })
        {
            t.Step("tpm2_createek", "-c", $"ek-{alg}.ctx", "-G", alg, "-u", $"ek-{alg}.pub");
            t.Step("tpm2_readpublic", "-c", $"ek-{alg}.ctx", "-o", $"ek-{alg}.read.pub");
            Assert.Equal(File.ReadAllBytes(t.PathOf($"ek-{alg}.pub")), File.ReadAllBytes(t.PathOf($"ek-{alg}.read.pub")));

            // Primary keys derive from the seed and the template: the same EK comes back.
            t.Step("tpm2_createek", "-c", $"ek-{alg}2.ctx", "-G", alg, "-u", $"ek-{alg}2.pub");
            Assert.Equal(File.ReadAllBytes(t.PathOf($"ek-{alg}.pub")), File.ReadAllBytes(t.PathOf($"ek-{alg}2.pub")));
        }

        var rsa = ReadPublic(t, "ek-rsa.pub");
        var ecc = ReadPublic(t, "ek-ecc.pub");
        Assert.Equal(TpmAlgId.Rsa, rsa.Type);
        Assert.Equal(TpmTemplates.EkAuthPolicySha256(), rsa.AuthPolicy);
        Assert.Equal(TpmAlgId.Ecc, ecc.Type);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void CreateAk_UnderRsaEk_NameMatchesReadPublic(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        CreateEkAndAk(t);
        var output = t.Step("tpm2_readpublic", "-c", "ak.ctx", "-o", "ak.read.pub");
        var name = File.ReadAllBytes(t.PathOf("ak.name"));
        Assert.Contains(Convert.ToHexString(name).ToLowerInvariant(), output, StringComparison.Ordinal);
        var ak = ReadPublic(t, "ak.read.pub");
        Assert.Equal(name, ak.GetName());
        Assert.True((ak.ObjectAttributes & TpmaObject.Restricted) != 0 && (ak.ObjectAttributes & TpmaObject.Sign) != 0);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Quote_Sha256Pcrs_CheckQuoteVerifies(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        CreateEkAndAk(t);
        t.Step("tpm2_pcrextend", "0:sha256=" + new string('a', 64));
        t.Step("tpm2_quote", "-c", "ak.ctx", "-l", "sha256:0,1,2,16", "-q", "abcdef0123", "-m", "quote.msg", "-s", "quote.sig", "-o", "quote.pcrs", "-g", "sha256");
        t.Step("tpm2_checkquote", "-u", "ak.pub", "-m", "quote.msg", "-s", "quote.sig", "-f", "quote.pcrs", "-g", "sha256", "-q", "abcdef0123");

        // A wrong nonce is caught.
        var (exitCode, _, _) = t.Run("tpm2_checkquote", "-u", "ak.pub", "-m", "quote.msg", "-s", "quote.sig", "-f", "quote.pcrs", "-g", "sha256", "-q", "abcdef0124");
        Assert.NotEqual(0, exitCode);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void MakeActivateCredential_PolicySecretSession_RecoversTheSecret(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        CreateEkAndAk(t);
        File.WriteAllText(t.PathOf("cred.in"), "credential-secret");
        var akName = Convert.ToHexString(File.ReadAllBytes(t.PathOf("ak.name")));
        t.Step("tpm2_makecredential", "-T", "none", "-u", "ek.pub", "-s", "cred.in", "-n", akName, "-o", "cred.blob");
        t.Step("tpm2_startauthsession", "--policy-session", "-S", "session.ctx");
        t.Step("tpm2_policysecret", "-S", "session.ctx", "-c", "e");
        t.Step("tpm2_activatecredential", "-c", "ak.ctx", "-C", "ek.ctx", "-i", "cred.blob", "-o", "cred.out", "-P", "session:session.ctx");
        t.Step("tpm2_flushcontext", "session.ctx");
        Assert.Equal("credential-secret", File.ReadAllText(t.PathOf("cred.out")));

        // Without the policy session the EK refuses (its authPolicy needs PolicySecret(endorsement)).
        t.FailingStep("tpm2_activatecredential", "-c", "ak.ctx", "-C", "ek.ctx", "-i", "cred.blob", "-o", "cred.out2");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void PcrExtendEventRead_ValuesAreTheExpectedDigests(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        var extend = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var eventData = Encoding.ASCII.GetBytes("measured event\n");
        File.WriteAllBytes(t.PathOf("event.bin"), eventData);

        t.Step("tpm2_pcrreset", "16");
        t.Step("tpm2_pcrextend", "16:sha256=" + Convert.ToHexString(extend));
        t.Step("tpm2_pcrevent", "16", "event.bin");
        t.Step("tpm2_pcrread", "sha256:16", "-o", "pcr16-sha256.bin");
        t.Step("tpm2_pcrread", "sha1:16", "-o", "pcr16-sha1.bin");
        var listing = t.Step("tpm2_pcrread", "sha256:16+sha1:16");

        var sha256 = SHA256.HashData([.. SHA256.HashData([.. new byte[32], .. extend]), .. SHA256.HashData(eventData)]);
        var sha1 = SHA1.HashData([.. new byte[20], .. SHA1.HashData(eventData)]);
        Assert.Equal(sha256, File.ReadAllBytes(t.PathOf("pcr16-sha256.bin")));
        Assert.Equal(sha1, File.ReadAllBytes(t.PathOf("pcr16-sha1.bin")));
        Assert.Contains("0x" + Convert.ToHexString(sha256), listing, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Unseal_PcrPolicy_SucceedsThenFailsAfterPcrChange(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        File.WriteAllText(t.PathOf("seal.in"), "sealed-secret");
        t.Step("tpm2_pcrreset", "16");
        t.Step("tpm2_createprimary", "-C", "o", "-c", "primary.ctx");
        t.Step("tpm2_pcrread", "-o", "pcr.bin", "sha256:16");
        t.Step("tpm2_startauthsession", "-S", "trial.ctx");
        t.Step("tpm2_policypcr", "-S", "trial.ctx", "-l", "sha256:16", "-f", "pcr.bin", "-L", "pcr.policy");
        t.Step("tpm2_flushcontext", "trial.ctx");
        t.Step("tpm2_create", "-C", "primary.ctx", "-L", "pcr.policy", "-i", "seal.in", "-u", "seal.pub", "-r", "seal.priv");
        t.Step("tpm2_load", "-C", "primary.ctx", "-u", "seal.pub", "-r", "seal.priv", "-c", "seal.ctx");
        t.Step("tpm2_unseal", "-c", "seal.ctx", "-p", "pcr:sha256:16", "-o", "seal.out");
        Assert.Equal("sealed-secret", File.ReadAllText(t.PathOf("seal.out")));

        t.Step("tpm2_pcrextend", "16:sha256=" + new string('0', 63) + "2");
        var error = t.FailingStep("tpm2_unseal", "-c", "seal.ctx", "-p", "pcr:sha256:16", "-o", "seal.out2");

        // TPM_RC_POLICY_FAIL for session 1, as libtpms answers.
        Assert.Contains("0x99D", error, StringComparison.Ordinal);
        Assert.False(File.Exists(t.PathOf("seal.out2")));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Nv_DefineWriteReadReadPublic_RoundTrips(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        File.WriteAllText(t.PathOf("nv.in"), "nv-data-0123456789");
        t.Step("tpm2_nvdefine", "0x1500016", "-C", "o", "-s", "32", "-a", "ownerread|ownerwrite|authread|authwrite");
        t.Step("tpm2_nvwrite", "0x1500016", "-C", "o", "-i", "nv.in");
        t.Step("tpm2_nvread", "0x1500016", "-C", "o", "-s", "18", "-o", "nv.out");
        Assert.Equal("nv-data-0123456789", File.ReadAllText(t.PathOf("nv.out")));
        t.Step("tpm2_nvread", "0x1500016", "-C", "0x1500016", "-s", "4", "--offset", "3", "-o", "nv.part");
        Assert.Equal("data", File.ReadAllText(t.PathOf("nv.part")));

        var readPublic = t.Step("tpm2_nvreadpublic", "0x1500016");
        Assert.Contains("0x1500016", readPublic, StringComparison.Ordinal);
        Assert.Contains("size: 32", readPublic, StringComparison.Ordinal);
        Assert.Contains("written", readPublic, StringComparison.Ordinal);

        t.Step("tpm2_nvundefine", "0x1500016", "-C", "o");
        t.FailingStep("tpm2_nvreadpublic", "0x1500016");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Sign_RsaAndEccKeys_OpenSslVerifies(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        File.WriteAllText(t.PathOf("message.txt"), "message to sign");
        t.Step("tpm2_createprimary", "-C", "o", "-c", "primary.ctx");
        foreach (var (name, alg) in new[] { ("rsa", "rsa2048:rsassa-sha256"), ("ecc", "ecc256:ecdsa-sha256") })
        {
            t.Step("tpm2_create", "-C", "primary.ctx", "-G", alg, "-u", $"{name}.pub", "-r", $"{name}.priv");
            t.Step("tpm2_load", "-C", "primary.ctx", "-u", $"{name}.pub", "-r", $"{name}.priv", "-c", $"{name}.ctx");
            t.Step("tpm2_sign", "-c", $"{name}.ctx", "-g", "sha256", "-f", "plain", "-o", $"{name}.sig", "message.txt");
            t.Step("tpm2_readpublic", "-c", $"{name}.ctx", "-f", "pem", "-o", $"{name}.pem");
            Assert.Contains("Verified OK", t.OpenSsl("dgst", "-sha256", "-verify", $"{name}.pem", "-signature", $"{name}.sig", "message.txt"), StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Certify_KeyByAk_OpenSslVerifiesTheAttestation(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        CreateEkAndAk(t);
        t.Step("tpm2_readpublic", "-c", "ak.ctx", "-f", "pem", "-o", "ak.pem");
        t.Step("tpm2_createprimary", "-C", "o", "-c", "primary.ctx");
        t.Step("tpm2_create", "-C", "primary.ctx", "-G", "ecc256:ecdsa-sha256", "-u", "key.pub", "-r", "key.priv");
        t.Step("tpm2_load", "-C", "primary.ctx", "-u", "key.pub", "-r", "key.priv", "-c", "key.ctx", "-n", "key.name");
        t.Step("tpm2_certify", "-c", "key.ctx", "-C", "ak.ctx", "-g", "sha256", "-o", "certify.attest", "-s", "certify.sig", "-f", "plain");
        Assert.Contains("Verified OK", t.OpenSsl("dgst", "-sha256", "-verify", "ak.pem", "-signature", "certify.sig", "certify.attest"), StringComparison.Ordinal);

        var attest = TpmsAttest.Parse(File.ReadAllBytes(t.PathOf("certify.attest")));
        Assert.Equal(TpmSt.AttestCertify, attest.Type);
        var certified = Assert.IsType<CertifyInfo>(attest.Attested);
        Assert.Equal(File.ReadAllBytes(t.PathOf("key.name")), certified.Name);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void EvictControl_PersistReadPublicEvict(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        t.Step("tpm2_createprimary", "-C", "o", "-c", "primary.ctx");
        t.Step("tpm2_readpublic", "-c", "primary.ctx", "-o", "primary.pub");
        t.Step("tpm2_evictcontrol", "-C", "o", "-c", "primary.ctx", "0x81010010");
        Assert.Contains("0x81010010", t.Step("tpm2_getcap", "handles-persistent"), StringComparison.Ordinal);
        t.Step("tpm2_readpublic", "-c", "0x81010010", "-o", "persistent.pub");
        Assert.Equal(File.ReadAllBytes(t.PathOf("primary.pub")), File.ReadAllBytes(t.PathOf("persistent.pub")));
        t.Step("tpm2_evictcontrol", "-C", "o", "-c", "0x81010010");
        Assert.DoesNotContain("0x81010010", t.Step("tpm2_getcap", "handles-persistent"), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void FlushContext_TransientObjectsAndSessions_AreGone(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);

        // tpm2_createprimary leaves its object loaded; without flushing, the fourth finds no slot.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(0, t.Run("tpm2_createprimary", "-C", "o", "-G", "ecc", "-c", $"p{i}.ctx").ExitCode);
        }

        Assert.Equal(3, t.Run("tpm2_getcap", "handles-transient").Stdout.Split('\n').Count(l => l.StartsWith("- 0x80", StringComparison.Ordinal)));
        var full = t.Run("tpm2_createprimary", "-C", "o", "-G", "ecc", "-c", "p3.ctx");
        Assert.NotEqual(0, full.ExitCode);
        Assert.Contains("0x902", full.Stderr, StringComparison.Ordinal);

        t.Step("tpm2_flushcontext", "-t");
        Assert.DoesNotContain("0x80", t.Run("tpm2_getcap", "handles-transient").Stdout, StringComparison.Ordinal);

        t.Step("tpm2_startauthsession", "-S", "s.ctx");
        Assert.Contains("- 0x2000000", t.Run("tpm2_getcap", "handles-saved-session").Stdout, StringComparison.Ordinal);
        t.Step("tpm2_flushcontext", "s.ctx");
        Assert.DoesNotContain("0x", t.Run("tpm2_getcap", "handles-saved-session").Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void GetRandom_HexAndFile_ReturnRequestedSizes(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        var hex = t.Step("tpm2_getrandom", "--hex", "16").Trim();
        Assert.Matches("^[0-9a-f]{32}$", hex);
        t.Step("tpm2_getrandom", "-o", "random.bin", "32");
        Assert.Equal(32, new FileInfo(t.PathOf("random.bin")).Length);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void GetCap_FixedPropertiesAlgorithmsCommandsPcrsCurves_Listed(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        Assert.Contains("value: \"2.0\"", t.Step("tpm2_getcap", "properties-fixed"), StringComparison.Ordinal);
        t.Step("tpm2_getcap", "properties-variable");
        var algorithms = t.Step("tpm2_getcap", "algorithms");
        foreach (var alg in new[] { "rsa:", "ecc:", "sha256:", "aes:", "cfb:", "xor:", "keyedhash:" })
        {
            Assert.Contains(alg, algorithms, StringComparison.Ordinal);
        }

        var commands = t.Step("tpm2_getcap", "commands");
        foreach (var command in new[] { "TPM2_CC_Quote", "TPM2_CC_CreatePrimary", "TPM2_CC_ActivateCredential", "TPM2_CC_NV_Read", "TPM2_CC_Unseal" })
        {
            Assert.Contains(command, commands, StringComparison.Ordinal);
        }

        Assert.Contains("sha256", t.Step("tpm2_getcap", "pcrs"), StringComparison.Ordinal);
        Assert.Contains("TPM2_ECC_NIST_P256", t.Step("tpm2_getcap", "ecc-curves"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TpmToolsInteropTarget.OursSwtpm, "rsa")]
    [InlineData(TpmToolsInteropTarget.OursMssim, "ecc")]
    [InlineData(TpmToolsInteropTarget.OursSwtpm, "ecc")]
    [InlineData(TpmToolsInteropTarget.Libtpms, "rsa")]
    [InlineData(TpmToolsInteropTarget.Libtpms, "ecc")]
    public void EncryptedSaltedSession_NvUnsealGetRandom_ParametersDecryptAndEncrypt(string kind, string saltKey)
    {
        using var t = new TpmToolsInteropTarget(kind);
        File.WriteAllText(t.PathOf("nv.in"), "encrypted-nv-data-0123");
        File.WriteAllText(t.PathOf("seal.in"), "encrypted-sealed-secret");
        t.Step("tpm2_createprimary", "-C", "o", "-G", saltKey, "-c", "primary.ctx");
        t.Step("tpm2_create", "-C", "primary.ctx", "-i", "seal.in", "-u", "seal.pub", "-r", "seal.priv");
        t.Step("tpm2_evictcontrol", "-C", "o", "-c", "primary.ctx", "0x81000010");

        // A session salted with the primary key, with AES-128-CFB parameter encryption both ways.
        t.Step("tpm2_startauthsession", "--hmac-session", "-c", "0x81000010", "-S", "enc.ctx");
        t.Step("tpm2_sessionconfig", "enc.ctx", "--enable-decrypt", "--enable-encrypt");
        Assert.Contains("continuesession|decrypt|encrypt", t.Step("tpm2_sessionconfig", "enc.ctx"), StringComparison.Ordinal);

        t.Step("tpm2_nvdefine", "0x1500017", "-C", "o", "-s", "32", "-a", "ownerread|ownerwrite|authread|authwrite", "-P", "session:enc.ctx");
        t.Step("tpm2_nvwrite", "0x1500017", "-C", "o", "-i", "nv.in", "-P", "session:enc.ctx");
        t.Step("tpm2_nvread", "0x1500017", "-C", "o", "-s", "22", "-o", "nv.out", "-P", "session:enc.ctx");
        Assert.Equal("encrypted-nv-data-0123", File.ReadAllText(t.PathOf("nv.out")));

        // Read without the session: the TPM stored the plaintext, so it decrypted the write.
        t.Step("tpm2_nvread", "0x1500017", "-C", "o", "-s", "22", "-o", "nv.plain");
        Assert.Equal("encrypted-nv-data-0123", File.ReadAllText(t.PathOf("nv.plain")));

        t.Step("tpm2_load", "-C", "0x81000010", "-u", "seal.pub", "-r", "seal.priv", "-c", "seal.ctx");
        t.Step("tpm2_unseal", "-c", "seal.ctx", "-p", "session:enc.ctx", "-o", "seal.out");
        Assert.Equal("encrypted-sealed-secret", File.ReadAllText(t.PathOf("seal.out")));

        Assert.Matches("^[0-9a-f]{32}$", t.Step("tpm2_getrandom", "-S", "enc.ctx", "--hex", "16").Trim());
        t.Step("tpm2_nvundefine", "0x1500017", "-C", "o", "-P", "session:enc.ctx");
        t.Step("tpm2_flushcontext", "enc.ctx");
        t.Step("tpm2_evictcontrol", "-C", "o", "-c", "0x81000010");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void HashAndSign_LargeFile_UseSequencesAndOpenSslVerifies(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        var data = Enumerable.Range(0, 5000).Select(i => unchecked((byte)(i * 31))).ToArray();
        File.WriteAllBytes(t.PathOf("big.bin"), data);

        // Over 1024 octets tpm2_hash and tpm2_sign hash with HashSequenceStart/SequenceUpdate/SequenceComplete.
        t.Step("tpm2_hash", "-C", "o", "-g", "sha256", "-o", "big.digest", "-t", "big.ticket", "big.bin");
        Assert.Equal(SHA256.HashData(data), File.ReadAllBytes(t.PathOf("big.digest")));

        t.Step("tpm2_createprimary", "-C", "o", "-c", "primary.ctx");
        t.Step("tpm2_create", "-C", "primary.ctx", "-G", "ecc256:ecdsa-sha256", "-u", "key.pub", "-r", "key.priv");
        t.Step("tpm2_load", "-C", "primary.ctx", "-u", "key.pub", "-r", "key.priv", "-c", "key.ctx");
        t.Step("tpm2_sign", "-c", "key.ctx", "-g", "sha256", "-f", "plain", "-o", "big.sig", "big.bin");
        t.Step("tpm2_readpublic", "-c", "key.ctx", "-f", "pem", "-o", "key.pem");
        Assert.Contains("Verified OK", t.OpenSsl("dgst", "-sha256", "-verify", "key.pem", "-signature", "big.sig", "big.bin"), StringComparison.Ordinal);

        // tpm2_pcrevent of a large file uses an event sequence.
        t.Step("tpm2_pcrreset", "16");
        t.Step("tpm2_pcrevent", "16", "big.bin");
        t.Step("tpm2_pcrread", "sha256:16", "-o", "pcr16.bin");
        Assert.Equal(SHA256.HashData([.. new byte[32], .. SHA256.HashData(data)]), File.ReadAllBytes(t.PathOf("pcr16.bin")));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void ChangeAuth_KeyUnderParent_NewPrivateSignsWithNewPassword(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        File.WriteAllText(t.PathOf("message.txt"), "message");
        t.Step("tpm2_createprimary", "-C", "o", "-c", "primary.ctx");
        t.Step("tpm2_create", "-C", "primary.ctx", "-G", "ecc256:ecdsa-sha256", "-p", "oldpass", "-u", "key.pub", "-r", "key.priv");
        t.Step("tpm2_load", "-C", "primary.ctx", "-u", "key.pub", "-r", "key.priv", "-c", "key.ctx");
        t.Step("tpm2_changeauth", "-c", "key.ctx", "-C", "primary.ctx", "-p", "oldpass", "-r", "key.new.priv", "newpass");
        t.Step("tpm2_load", "-C", "primary.ctx", "-u", "key.pub", "-r", "key.new.priv", "-c", "key.new.ctx");
        t.Step("tpm2_sign", "-c", "key.new.ctx", "-p", "newpass", "-g", "sha256", "-o", "message.sig", "message.txt");
        t.FailingStep("tpm2_sign", "-c", "key.new.ctx", "-p", "oldpass", "-g", "sha256", "-o", "message2.sig", "message.txt");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void PolicyOr_SealedToEitherBranch_UnsealsThroughOne(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        File.WriteAllText(t.PathOf("seal.in"), "or-sealed");
        t.Step("tpm2_pcrreset", "16");
        t.Step("tpm2_pcrread", "-o", "pcr.bin", "sha256:16");
        t.Step("tpm2_startauthsession", "-S", "trial.ctx");
        t.Step("tpm2_policypcr", "-S", "trial.ctx", "-l", "sha256:16", "-f", "pcr.bin", "-L", "branch-pcr.policy");
        t.Step("tpm2_flushcontext", "trial.ctx");
        t.Step("tpm2_startauthsession", "-S", "trial.ctx");
        t.Step("tpm2_policypassword", "-S", "trial.ctx", "-L", "branch-password.policy");
        t.Step("tpm2_flushcontext", "trial.ctx");
        t.Step("tpm2_startauthsession", "-S", "trial.ctx");
        t.Step("tpm2_policyor", "-S", "trial.ctx", "-L", "or.policy", "-l", "sha256:branch-pcr.policy,branch-password.policy");
        t.Step("tpm2_flushcontext", "trial.ctx");

        t.Step("tpm2_createprimary", "-C", "o", "-c", "primary.ctx");
        t.Step("tpm2_create", "-C", "primary.ctx", "-L", "or.policy", "-i", "seal.in", "-u", "seal.pub", "-r", "seal.priv");
        t.Step("tpm2_load", "-C", "primary.ctx", "-u", "seal.pub", "-r", "seal.priv", "-c", "seal.ctx");
        t.Step("tpm2_startauthsession", "--policy-session", "-S", "session.ctx");
        t.Step("tpm2_policypcr", "-S", "session.ctx", "-l", "sha256:16");
        t.Step("tpm2_policyor", "-S", "session.ctx", "-l", "sha256:branch-pcr.policy,branch-password.policy");
        t.Step("tpm2_unseal", "-c", "seal.ctx", "-p", "session:session.ctx", "-o", "seal.out");
        t.Step("tpm2_flushcontext", "session.ctx");
        Assert.Equal("or-sealed", File.ReadAllText(t.PathOf("seal.out")));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void NvCertify_IndexContents_OpenSslVerifiesTheAttestation(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        File.WriteAllText(t.PathOf("nv.in"), "0123456789abcdef0123456789abcdef");
        CreateEkAndAk(t);
        t.Step("tpm2_readpublic", "-c", "ak.ctx", "-f", "pem", "-o", "ak.pem");
        t.Step("tpm2_nvdefine", "0x1500018", "-C", "o", "-s", "32", "-a", "ownerread|ownerwrite|authread|authwrite");
        t.Step("tpm2_nvwrite", "0x1500018", "-C", "o", "-i", "nv.in");
        t.Step("tpm2_nvcertify", "-C", "ak.ctx", "-g", "sha256", "-f", "plain", "-o", "nv.sig", "--attestation", "nv.attest", "--size", "16", "--offset", "4", "-c", "o", "0x1500018");
        Assert.Contains("Verified OK", t.OpenSsl("dgst", "-sha256", "-verify", "ak.pem", "-signature", "nv.sig", "nv.attest"), StringComparison.Ordinal);
        var info = Assert.IsType<NvCertifyInfo>(TpmsAttest.Parse(File.ReadAllBytes(t.PathOf("nv.attest"))).Attested);
        Assert.Equal(4, info.Offset);
        Assert.Equal("456789abcdef0123", Encoding.ASCII.GetString(info.NvContents));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void ReadClockAndTestParms_Answer(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        var clock = t.Step("tpm2_readclock");
        Assert.Contains("clock_info:", clock, StringComparison.Ordinal);
        Assert.Contains("safe: yes", clock, StringComparison.Ordinal);
        foreach (var parms in new[] { "rsa2048", "ecc256", "aes128cfb", "ecc384", "hmac:sha256" })
        {
            t.Step("tpm2_testparms", parms);
        }

        t.FailingStep("tpm2_testparms", "rsa4096");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void GetTime_SignedByAk_OpenSslVerifies(string kind)
    {
        using var t = new TpmToolsInteropTarget(kind);
        CreateEkAndAk(t);
        t.Step("tpm2_readpublic", "-c", "ak.ctx", "-f", "pem", "-o", "ak.pem");
        t.Step("tpm2_gettime", "-c", "ak.ctx", "-q", "0011223344", "-f", "plain", "-o", "time.sig", "--attestation", "time.attest");
        Assert.Contains("Verified OK", t.OpenSsl("dgst", "-sha256", "-verify", "ak.pem", "-signature", "time.sig", "time.attest"), StringComparison.Ordinal);
        var attest = TpmsAttest.Parse(File.ReadAllBytes(t.PathOf("time.attest")));
        Assert.IsType<TimeAttestInfo>(attest.Attested);
        Assert.Equal(Convert.FromHexString("0011223344"), attest.ExtraData);
    }

    private static void CreateEkAndAk(TpmToolsInteropTarget t)
    {
        t.Step("tpm2_createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub");
        t.Step("tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "rsa", "-s", "rsassa", "-g", "sha256", "-u", "ak.pub", "-n", "ak.name", "-f", "pem");
    }

    private static TpmtPublic ReadPublic(TpmToolsInteropTarget t, string file)
    {
        var reader = new TpmReader(File.ReadAllBytes(t.PathOf(file)));
        return TpmtPublic.UnmarshalSized(ref reader);
    }
}
