using System.Security.Cryptography;
using System.Text;

namespace TrustStack.Tpm.Hardware.Tests.Interop;

/// <summary>
/// IBM's TSS 2.0 utilities (tss2 package) against our engine behind <see cref="MssimServer"/>. Every
/// flow also runs against a real swtpm (libtpms) through the TSS's raw socket interface, which
/// validates the test itself: a flow that fails there is a broken test, not an engine bug.
/// Flows use password sessions, HMAC sessions (unsalted, salted, bound) and parameter encryption
/// (<c>-se0 … 21/41/61</c>, AES and XOR).
/// </summary>
public sealed class IbmTssInteropTests
{
    private const string AkFiles = "ak";

    [Fact]
    public void PowerUpAndStartup_Engine_StartsTheTpmOnce()
    {
        using var tss = new IbmTssPeer(IbmTssTarget.Engine, autoStartup: false);
        Assert.False(tss.Engine!.IsStarted);

        tss.Ok("tsspowerup");
        tss.Ok("tssstartup");

        Assert.True(tss.Engine.IsStarted);
        Assert.Contains("randomBytes length 8", tss.Ok("tssgetrandom", "-by", "8").Output, StringComparison.Ordinal);
        var again = tss.Run("tssstartup");
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("TPM_RC_INITIALIZE", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void PowerUp_Engine_PowerCycleLosesTransientObjects()
    {
        using var tss = new IbmTssPeer(IbmTssTarget.Engine, autoStartup: false);
        tss.Ok("tsspowerup");
        tss.Ok("tssstartup");
        tss.Ok("tsscreateprimary", "-hi", "o", "-ecc", "nistp256");
        Assert.Single(tss.Engine!.State.TransientObjects);

        tss.Ok("tsspowerup");

        Assert.False(tss.Engine.IsStarted);
        Assert.Empty(tss.Engine.State.TransientObjects);
    }

    [Theory]
    [InlineData(IbmTssTarget.Engine)]
    [InlineData(IbmTssTarget.Swtpm)]
    public void CreatePrimary_EccOwnerStorageKey_PublicAreaAndNameAgreeWithReadPublic(IbmTssTarget target)
    {
        using var tss = new IbmTssPeer(target);
        var created = tss.Ok("tsscreateprimary", "-hi", "o", "-ecc", "nistp256", "-st", "-opu", "srk.pub");
        Assert.Contains("Handle 80000000", created.Stdout, StringComparison.Ordinal);

        var pub = TpmtPublic.Parse(tss.File("srk.pub"));
        var ecc = Assert.IsType<EccParms>(pub.Parameters);
        Assert.Equal(TpmEccCurve.NistP256, ecc.Curve);
        Assert.Equal(TpmaObject.Restricted | TpmaObject.Decrypt, pub.ObjectAttributes & (TpmaObject.Restricted | TpmaObject.Decrypt | TpmaObject.Sign));
        var point = Assert.IsType<EccPoint>(pub.Unique);
        Assert.Equal(32, point.X.Length);
        using (TpmPublicKeys.ToECDsa(pub))
        {
            // The point is on the curve.
        }

        // The TSS checks the Name the TPM returns and records it: it must be nameAlg ‖ H(TPMT_PUBLIC).
        Assert.Equal(pub.GetName(), tss.RecordedName(0x8000_0000));
        tss.Ok("tssreadpublic", "-ho", "80000000", "-opu", "read.pub");
        Assert.Equal(tss.File("srk.pub"), tss.File("read.pub"));
    }

    [Theory]
    [InlineData(IbmTssTarget.Engine)]
    [InlineData(IbmTssTarget.Swtpm)]
    public void CreatePrimary_RsaEndorsementStorageKey_Rsa2048WithName(IbmTssTarget target)
    {
        using var tss = new IbmTssPeer(target);
        tss.Ok("tsscreateprimary", "-hi", "e", "-rsa", "-st", "-opu", "ek.pub", "-opem", "ek.pem");

        var pub = TpmtPublic.Parse(tss.File("ek.pub"));
        var rsa = Assert.IsType<RsaParms>(pub.Parameters);
        Assert.Equal(2048, rsa.KeyBits);
        Assert.Equal(256, Assert.IsType<RsaPublicId>(pub.Unique).Modulus.Length);
        Assert.Equal(pub.GetName(), tss.RecordedName(0x8000_0000));

        // The PEM the TSS wrote from the TPM's public area is the same key.
        var fromPem = TpmPublicKeys.FromPem(Encoding.ASCII.GetString(tss.File("ek.pem")));
        Assert.Equal(Assert.IsType<RsaPublicId>(pub.Unique).Modulus, Assert.IsType<RsaPublicId>(fromPem.Unique).Modulus);
    }

    [Theory]
    [InlineData(IbmTssTarget.Engine)]
    [InlineData(IbmTssTarget.Swtpm)]
    public void PcrExtendAndRead_Sha256AndSha1_MatchTheExtendFormula(IbmTssTarget target)
    {
        using var tss = new IbmTssPeer(target);

        // -ic is a string zero-padded to the digest size; one extend per -halg bank.
        tss.Ok("tsspcrextend", "-ha", "16", "-halg", "sha256", "-halg", "sha1", "-ic", "measurement");
        tss.Ok("tsspcrread", "-ha", "16", "-halg", "sha256", "-of", "pcr256.bin");
        tss.Ok("tsspcrread", "-ha", "16", "-halg", "sha1", "-of", "pcr1.bin");

        Assert.Equal(Extended(TpmAlgId.Sha256, "measurement"), tss.File("pcr256.bin"));
        Assert.Equal(Extended(TpmAlgId.Sha1, "measurement"), tss.File("pcr1.bin"));
    }

    [Theory]
    [InlineData(IbmTssTarget.Engine, "ecc")]
    [InlineData(IbmTssTarget.Engine, "rsa")]
    [InlineData(IbmTssTarget.Swtpm, "ecc")]
    [InlineData(IbmTssTarget.Swtpm, "rsa")]
    public void Quote_Sha256WithQualifyingData_VerifiesWithQuoteVerifierAndTheTss(IbmTssTarget target, string algorithm)
    {
        using var tss = new IbmTssPeer(target);
        var nonce = RandomNumberGenerator.GetBytes(20);
        tss.WriteFile("nonce.bin", nonce);
        var ak = CreateAk(tss, algorithm);
        tss.Ok("tsspcrextend", "-ha", "16", "-halg", "sha256", "-ic", "boot");
        tss.Ok("tsspcrread", "-ha", "16", "-halg", "sha256", "-of", "pcr16.bin");

        tss.Ok("tssquote", "-hp", "16", "-hk", $"{ak:x8}", "-halg", "sha256", "-palg", "sha256", "-salg", algorithm, "-qd", "nonce.bin", "-os", "quote.sig", "-oa", "quote.att");

        AssertQuoteVerifies(tss, nonce, tss.File("pcr16.bin"));
        var scheme = algorithm == "ecc" ? "-ecc" : "-rsa";
        tss.Ok("tssverifysignature", "-hk", $"{ak:x8}", "-halg", "sha256", scheme, "-if", "quote.att", "-is", "quote.sig");
        tss.Ok("tssverifysignature", "-ipem", $"{AkFiles}.pem", "-halg", "sha256", scheme, "-if", "quote.att", "-is", "quote.sig");
    }

    [Theory]
    [InlineData(IbmTssTarget.Engine, "unsalted")]
    [InlineData(IbmTssTarget.Engine, "salted")]
    [InlineData(IbmTssTarget.Engine, "bound")]
    [InlineData(IbmTssTarget.Swtpm, "unsalted")]
    [InlineData(IbmTssTarget.Swtpm, "salted")]
    [InlineData(IbmTssTarget.Swtpm, "bound")]
    public void Quote_UnderAnHmacSession_SessionKeepsWorkingAndQuoteVerifies(IbmTssTarget target, string kind)
    {
        using var tss = new IbmTssPeer(target);
        var nonce = RandomNumberGenerator.GetBytes(16);
        tss.WriteFile("nonce.bin", nonce);
        tss.Ok("tsscreateprimary", "-hi", "o", "-ecc", "nistp256", "-st");
        var ak = CreateAk(tss, "ecc");
        var started = kind switch
        {
            "salted" => tss.Ok("tssstartauthsession", "-se", "h", "-hs", "80000000"),
            "bound" => tss.Ok("tssstartauthsession", "-se", "h", "-bi", $"{ak:x8}"),
            _ => tss.Ok("tssstartauthsession", "-se", "h"),
        };
        var session = HandleIn(started.Stdout);
        Assert.Equal(0x0200_0000u, session & 0xFF00_0000);

        // Two commands under the same session: the second proves the rolling nonces match. PCR_Read
        // authorizes nothing, so there the session audits (0x81); an HMAC session only continuing is
        // TPM_RC_ATTRIBUTES on both TPMs.
        Assert.Contains("TPM_RC_ATTRIBUTES", tss.Run("tsspcrread", "-ha", "16", "-halg", "sha256", "-se0", $"{session:x8}", "1").Output, StringComparison.Ordinal);
        tss.Ok("tsspcrread", "-ha", "16", "-halg", "sha256", "-of", "pcr16.bin", "-se0", $"{session:x8}", "81");
        tss.Ok("tssquote", "-hp", "16", "-hk", $"{ak:x8}", "-halg", "sha256", "-palg", "sha256", "-salg", "ecc", "-qd", "nonce.bin", "-os", "quote.sig", "-oa", "quote.att", "-se0", $"{session:x8}", "1");

        AssertQuoteVerifies(tss, nonce, tss.File("pcr16.bin"));
        tss.Ok("tssflushcontext", "-ha", $"{session:x8}");
    }

    [Theory]
    [InlineData(IbmTssTarget.Engine, "aes")]
    [InlineData(IbmTssTarget.Engine, "xor")]
    [InlineData(IbmTssTarget.Swtpm, "aes")]
    [InlineData(IbmTssTarget.Swtpm, "xor")]
    public void ParameterEncryption_SealAndUnsealThroughASaltedSession_SecretNeverInTheClear(IbmTssTarget target, string symmetric)
    {
        using var tss = new IbmTssPeer(target);
        tss.Ok("tsscreateprimary", "-hi", "o", "-ecc", "nistp256", "-st");
        var session = HandleIn(tss.Ok("tssstartauthsession", "-se", "h", "-hs", "80000000", "-sym", symmetric).Stdout);
        var secret = "sealed through parameter encryption"u8.ToArray();
        tss.WriteFile("secret.bin", secret);

        // 0x61: continue, decrypt (the TPM2B_SENSITIVE_CREATE with the data), encrypt (outPrivate).
        tss.Ok("tsscreate", "-hp", "80000000", "-bl", "-if", "secret.bin", "-pwdk", "sealpw", "-opu", "seal.pub", "-opr", "seal.priv", "-se0", $"{session:x8}", "61");
        var sealedObject = HandleIn(tss.Ok("tssload", "-hp", "80000000", "-ipu", "seal.pub", "-ipr", "seal.priv", "-se0", $"{session:x8}", "21").Stdout);
        // 0x41: continue, encrypt (the unsealed data comes back encrypted).
        tss.Ok("tssunseal", "-ha", $"{sealedObject:x8}", "-pwd", "sealpw", "-of", "unsealed.bin", "-se0", $"{session:x8}", "41");

        Assert.Equal(secret, tss.File("unsealed.bin"));
        var random = tss.Ok("tssgetrandom", "-by", "16", "-se0", $"{session:x8}", "41");
        Assert.Contains("randomBytes length 16", random.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(IbmTssTarget.Engine)]
    [InlineData(IbmTssTarget.Swtpm)]
    public void FlushContext_ObjectAndSession_HandlesAreGone(IbmTssTarget target)
    {
        using var tss = new IbmTssPeer(target);
        tss.Ok("tsscreateprimary", "-hi", "o", "-ecc", "nistp256");
        var session = HandleIn(tss.Ok("tssstartauthsession", "-se", "p").Stdout);

        tss.Ok("tssflushcontext", "-ha", "80000000");
        tss.Ok("tssflushcontext", "-ha", $"{session:x8}");

        var handles = tss.Ok("tssgetcapability", "-cap", "1", "-pr", "0x80000000").Stdout;
        Assert.Contains("0 handles", handles, StringComparison.Ordinal);
        var read = tss.Run("tssreadpublic", "-ho", "80000000");
        Assert.NotEqual(0, read.ExitCode);
        Assert.Contains("TPM_RC_REFERENCE_H0", read.Output, StringComparison.Ordinal);
        var again = tss.Run("tssflushcontext", "-ha", "80000000");
        Assert.Contains("TPM_RC_HANDLE", again.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(IbmTssTarget.Engine)]
    [InlineData(IbmTssTarget.Swtpm)]
    public void CreateLoadSign_ChildEccKey_SignatureVerifiesInTheTpmAndWithDotNet(IbmTssTarget target)
    {
        using var tss = new IbmTssPeer(target);
        tss.Ok("tsscreateprimary", "-hi", "o", "-ecc", "nistp256", "-st");
        tss.Ok("tsscreate", "-hp", "80000000", "-ecc", "nistp256", "-si", "-pwdk", "keypw", "-opu", "key.pub", "-opr", "key.priv");
        var key = HandleIn(tss.Ok("tssload", "-hp", "80000000", "-ipu", "key.pub", "-ipr", "key.priv").Stdout);
        var message = "signed by the TPM"u8.ToArray();
        tss.WriteFile("message.bin", message);

        tss.Ok("tsssign", "-hk", $"{key:x8}", "-pwdk", "keypw", "-ecc", "-halg", "sha256", "-if", "message.bin", "-os", "message.sig");
        tss.Ok("tssverifysignature", "-hk", $"{key:x8}", "-ecc", "-halg", "sha256", "-if", "message.bin", "-is", "message.sig");

        var reader = new TpmReader(tss.File("message.sig"));
        var signature = TpmtSignature.Unmarshal(ref reader);
        Assert.True(TpmSignatureVerifier.VerifyMessage(TpmtPublic.Parse(tss.File("key.pub")), message, signature));
        var wrong = tss.Run("tsssign", "-hk", $"{key:x8}", "-pwdk", "wrong", "-ecc", "-halg", "sha256", "-if", "message.bin");
        // tsscreate sets noDA unless -da: a wrong password is TPM_RC_BAD_AUTH.
        Assert.Contains("TPM_RC_BAD_AUTH", wrong.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(IbmTssTarget.Engine)]
    [InlineData(IbmTssTarget.Swtpm)]
    public void NvDefineWriteRead_OrdinaryIndexWithPassword_ReadsWhatWasWritten(IbmTssTarget target)
    {
        using var tss = new IbmTssPeer(target);
        tss.Ok("tssnvdefinespace", "-hi", "o", "-ha", "01500010", "-pwdn", "nvpw", "-sz", "16");
        tss.Ok("tssnvwrite", "-ha", "01500010", "-pwdn", "nvpw", "-ic", "0123456789abcdef");
        tss.Ok("tssnvread", "-ha", "01500010", "-pwdn", "nvpw", "-sz", "16", "-of", "nv.bin");
        Assert.Equal("0123456789abcdef"u8.ToArray(), tss.File("nv.bin"));

        var wrong = tss.Run("tssnvread", "-ha", "01500010", "-pwdn", "bad", "-sz", "16");
        Assert.NotEqual(0, wrong.ExitCode);
        tss.Ok("tssnvundefinespace", "-hi", "o", "-ha", "01500010");
    }

    [Theory]
    [InlineData(IbmTssTarget.Engine)]
    [InlineData(IbmTssTarget.Swtpm)]
    public void ContextSaveLoad_ChildKey_SignsAfterReload(IbmTssTarget target)
    {
        using var tss = new IbmTssPeer(target);
        tss.Ok("tsscreateprimary", "-hi", "o", "-ecc", "nistp256", "-st");
        tss.Ok("tsscreate", "-hp", "80000000", "-ecc", "nistp256", "-si", "-opu", "key.pub", "-opr", "key.priv");
        var key = HandleIn(tss.Ok("tssload", "-hp", "80000000", "-ipu", "key.pub", "-ipr", "key.priv").Stdout);
        tss.Ok("tsscontextsave", "-ha", $"{key:x8}", "-of", "key.ctx");
        tss.Ok("tssflushcontext", "-ha", $"{key:x8}");

        var reloaded = HandleIn(tss.Ok("tsscontextload", "-if", "key.ctx").Stdout);
        tss.WriteFile("message.bin", [1, 2, 3]);
        tss.Ok("tsssign", "-hk", $"{reloaded:x8}", "-ecc", "-halg", "sha256", "-if", "message.bin", "-os", "message.sig");
        tss.Ok("tssverifysignature", "-hk", $"{reloaded:x8}", "-ecc", "-halg", "sha256", "-if", "message.bin", "-is", "message.sig");
    }

    [Theory]
    [InlineData(IbmTssTarget.Engine)]
    [InlineData(IbmTssTarget.Swtpm)]
    public void PolicySessionCommands_PcrAndCommandCode_DigestMatchesPolicyDigest(IbmTssTarget target)
    {
        using var tss = new IbmTssPeer(target);
        var session = HandleIn(tss.Ok("tssstartauthsession", "-se", "p").Stdout);
        Assert.Equal(0x0300_0000u, session & 0xFF00_0000);
        tss.Ok("tsspolicypcr", "-ha", $"{session:x8}", "-halg", "sha256", "-bm", "10000");
        tss.Ok("tsspolicycommandcode", "-ha", $"{session:x8}", "-cc", "15e");
        var digest = tss.Ok("tsspolicygetdigest", "-ha", $"{session:x8}", "-of", "policy.bin");

        var pcrs = PcrSelectionList.Create(TpmAlgId.Sha256, 16);
        var afterPcr = PolicyDigest.PolicyPcr(TpmAlgId.Sha256, PolicyDigest.Initial(TpmAlgId.Sha256), pcrs, [new byte[32]]);
        var expected = PolicyDigest.PolicyCommandCode(TpmAlgId.Sha256, afterPcr, TpmCc.Unseal);
        Assert.Equal(expected, tss.File("policy.bin"));
        Assert.NotNull(digest);
        tss.Ok("tssflushcontext", "-ha", $"{session:x8}");
    }

    private static uint CreateAk(IbmTssPeer tss, string algorithm)
    {
        var args = algorithm == "ecc"
            ? new[] { "-hi", "e", "-ecc", "nistp256", "-sir", "-halg", "sha256", "-opu", $"{AkFiles}.pub", "-opem", $"{AkFiles}.pem" }
            : ["-hi", "e", "-rsa", "-sir", "-halg", "sha256", "-opu", $"{AkFiles}.pub", "-opem", $"{AkFiles}.pem"];
        return HandleIn(tss.Ok("tsscreateprimary", args).Stdout);
    }

    private static void AssertQuoteVerifies(IbmTssPeer tss, byte[] nonce, byte[] pcr16)
    {
        var reader = new TpmReader(tss.File("quote.sig"));
        var signature = TpmtSignature.Unmarshal(ref reader);
        var request = new QuoteVerificationRequest(
            TpmtPublic.Parse(tss.File($"{AkFiles}.pub")),
            tss.File("quote.att"),
            signature,
            nonce,
            PcrValues.Empty.With(TpmAlgId.Sha256, 16, pcr16))
        {
            ExpectedSelection = PcrSelectionList.Create(TpmAlgId.Sha256, 16),
        };

        var result = QuoteVerifier.Verify(request);
        Assert.True(result.IsValid, string.Join("; ", result.Failures));
        Assert.Equal(nonce, result.Attest!.ExtraData);
    }

    /// <summary>The PCR value after one TPM2_PCR_Extend of the zero-padded string from a zero PCR.</summary>
    private static byte[] Extended(TpmAlgId bank, string data)
    {
        var size = TpmHash.DigestSize(bank);
        var padded = new byte[size];
        Encoding.ASCII.GetBytes(data).CopyTo(padded, 0);
        return TpmHash.Extend(bank, new byte[size], padded);
    }

    /// <summary>The handle a utility printed ("Handle 80000001").</summary>
    private static uint HandleIn(string stdout)
    {
        const string Marker = "Handle ";
        var at = stdout.IndexOf(Marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"no handle in: {stdout}");
        return Convert.ToUInt32(stdout.Substring(at + Marker.Length, 8), 16);
    }
}
