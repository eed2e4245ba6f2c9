using System.Buffers.Binary;
using System.Security.Cryptography;
using Snapshooter.Xunit;
using TrustStack.Tests.Shared;
using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class AttestationCommandsTests
{
    private static readonly byte[] Nonce = Convert.FromHexString("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");

    /// <summary>Gives PCRs 0–7 of every bank known values, as TPM2_PCR_Extend would.</summary>
    private static void ExtendPcrs(SoftwareTpm tpm)
    {
        foreach (var (bank, values) in tpm.State.Pcrs)
        {
            for (var i = 0; i < 8; i++)
            {
                values[i] = TpmHash.Extend(bank, values[i], TpmHash.Hash(bank, [(byte)i]));
            }
        }

        tpm.State.PcrUpdateCounter++;
    }

    /// <summary>The SHA-256 value of a PCR after <see cref="ExtendPcrs"/>, computed without the engine.</summary>
    private static byte[] ExpectedPcr(int pcr) => SHA256.HashData([.. new byte[32], .. SHA256.HashData([(byte)pcr])]);

    [Fact]
    public void Quote_EccAk_VerifiesIndependently()
    {
        using var tpm = NewTpm();
        ExtendPcrs(tpm);
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var pcrs = PcrSelectionList.Create(TpmAlgId.Sha256, 0, 1, 2, 7);

        var quote = client.Quote(ak.Handle, Nonce, pcrs);

        var attest = TpmsAttest.Parse(quote.Quoted);
        Assert.Equal(0xff544347u, BinaryPrimitives.ReadUInt32BigEndian(quote.Quoted));
        Assert.Equal(TpmSt.AttestQuote, attest.Type);
        Assert.Equal(Nonce, attest.ExtraData);
        Assert.Equal(client.ReadPublic(ak.Handle).QualifiedName, attest.QualifiedSigner);
        var info = Assert.IsType<QuoteInfo>(attest.Attested);
        Assert.Equal(pcrs.ToString(), info.PcrSelect.ToString());
        Assert.Equal(SHA256.HashData([.. ExpectedPcr(0), .. ExpectedPcr(1), .. ExpectedPcr(2), .. ExpectedPcr(7)]), info.PcrDigest);
        Assert.True(VerifyWithDotNet(ak.Public, SHA256.HashData(quote.Quoted), quote.Signature));
    }

    [Fact]
    public void Quote_RsaAk_VerifiesIndependently()
    {
        using var tpm = NewTpm();
        ExtendPcrs(tpm);
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkRsa2048());

        var quote = client.Quote(ak.Handle, Nonce, PcrSelectionList.Create(TpmAlgId.Sha256, 0));

        Assert.Equal(TpmAlgId.Rsassa, quote.Signature.SigAlg);
        Assert.Equal(SHA256.HashData(ExpectedPcr(0)), Assert.IsType<QuoteInfo>(quote.Attest.Attested).PcrDigest);
        Assert.True(VerifyWithDotNet(ak.Public, SHA256.HashData(quote.Quoted), quote.Signature));
    }

    [Fact]
    public void Quote_SeveralBanks_DigestsInSelectionOrder()
    {
        using var tpm = NewTpm();
        ExtendPcrs(tpm);
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var pcrs = new PcrSelectionList([PcrSelection.Create(TpmAlgId.Sha256, 3), PcrSelection.Create(TpmAlgId.Sha1, 1, 2)]);

        var quote = client.Quote(ak.Handle, Nonce, pcrs);

        var sha1 = tpm.State.Pcrs[TpmAlgId.Sha1];
        Assert.Equal(SHA256.HashData([.. ExpectedPcr(3), .. sha1[1], .. sha1[2]]), Assert.IsType<QuoteInfo>(quote.Attest.Attested).PcrDigest);
    }

    [Fact]
    public void Quote_UnallocatedBank_IsFilteredOutOfTheSelection()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());

        var quote = client.Quote(ak.Handle, Nonce, new PcrSelectionList([PcrSelection.Create(TpmAlgId.Sha512, 0, 1), PcrSelection.Create(TpmAlgId.Sha256, 0)]));

        var info = Assert.IsType<QuoteInfo>(quote.Attest.Attested);
        Assert.Equal("Sha512:+Sha256:0", info.PcrSelect.ToString());
        Assert.Equal(SHA256.HashData(new byte[32]), info.PcrDigest);
    }

    [Fact]
    public void Quote_EndorsementKey_ClockInfoInTheClear()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());

        var attest = client.Quote(ak.Handle, Nonce, PcrSelectionList.Empty).Attest;

        Assert.Equal(tpm.State.ResetCount, attest.ClockInfo.ResetCount);
        Assert.Equal(tpm.State.RestartCount, attest.ClockInfo.RestartCount);
        Assert.Equal(tpm.Options.FirmwareVersion, attest.FirmwareVersion);
        Assert.True(attest.ClockInfo.Safe);
    }

    [Fact]
    public void Quote_OwnerKey_ObfuscatesResetRestartAndFirmware()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Owner, TpmTemplates.AkEccP256());
        var qualifiedName = client.ReadPublic(ak.Handle).QualifiedName;

        var attest = client.Quote(ak.Handle, Nonce, PcrSelectionList.Empty).Attest;

        // Part 3 §18 / FillInAttestInfo: obfuscation = KDFa(SHA-256, shProof, "OBFUSCATE", QN, "", 128).
        var obfuscation = TpmKdf.KdfA(TpmAlgId.Sha256, tpm.State.ShProof!.Reveal(), "OBFUSCATE", qualifiedName, [], 128);
        var high = BinaryPrimitives.ReadUInt64BigEndian(obfuscation);
        var low = BinaryPrimitives.ReadUInt64BigEndian(obfuscation.AsSpan(8));
        Assert.Equal(unchecked(tpm.Options.FirmwareVersion + high), attest.FirmwareVersion);
        Assert.Equal(unchecked(tpm.State.ResetCount + (uint)(low >> 32)), attest.ClockInfo.ResetCount);
        Assert.Equal(unchecked(tpm.State.RestartCount + (uint)low), attest.ClockInfo.RestartCount);
        Assert.NotEqual(tpm.Options.FirmwareVersion, attest.FirmwareVersion);
    }

    [Fact]
    public void Quote_ClockAdvances_WithTheTimeProvider()
    {
        var time = new FixedTimeProvider();
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 1, AutoStartup = true }, timeProvider: time);
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var before = client.Quote(ak.Handle, Nonce, PcrSelectionList.Empty).Attest.ClockInfo.Clock;
        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(before + 5000, client.Quote(ak.Handle, Nonce, PcrSelectionList.Empty).Attest.ClockInfo.Clock);
    }

    [Fact]
    public void Quote_DeterministicEngines_IdenticalQuotes()
    {
        byte[] QuoteOnce()
        {
            using var tpm = NewTpm(seed: 42);
            var client = new Tpm2(tpm);
            var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
            var quote = client.Quote(ak.Handle, Nonce, PcrSelectionList.Create(TpmAlgId.Sha256, 0, 1));
            return [.. quote.Quoted, .. quote.Signature.ToBytes()];
        }

        Assert.Equal(QuoteOnce(), QuoteOnce());
    }

    [Fact]
    public void Quote_Transcript_MatchesSnapshot()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 42, AutoStartup = true }, timeProvider: new FixedTimeProvider());
        using var recorder = new RecordingTransport(tpm);
        var client = new Tpm2(recorder);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var quote = client.Quote(ak.Handle, Nonce, PcrSelectionList.Create(TpmAlgId.Sha256, 0, 1, 2, 3, 4, 5, 6, 7));

        Assert.True(VerifyWithDotNet(ak.Public, SHA256.HashData(quote.Quoted), quote.Signature));
        Snapshot.Match(new
        {
            CreatePrimaryCommand = recorder.Log[0].Command,
            CreatePrimaryResponse = recorder.Log[0].Response,
            QuoteCommand = recorder.Log[1].Command,
            QuoteResponse = recorder.Log[1].Response,
        });
    }

    [Fact]
    public void Quote_QualifyingDataLongerThanATpmtHa_ReturnsSizeParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());

        // TPM2B_DATA holds sizeof(TPMT_HA) = 66 octets (Part 2 §10.4.3), as libtpms accepts.
        Assert.Equal(66, client.Quote(ak.Handle, new byte[66], PcrSelectionList.Empty).Attest.ExtraData.Length);
        Assert.Equal(P(TpmRc.Size, 1), ErrorOf(() => client.Quote(ak.Handle, new byte[67], PcrSelectionList.Empty)));
    }

    [Fact]
    public void Quote_StorageKey_ReturnsKeyHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);

        Assert.Equal(H(TpmRc.Key, 1), ErrorOf(() => client.Quote(srk.Handle, Nonce, PcrSelectionList.Empty, new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256))));
    }

    [Fact]
    public void Quote_SchemeOtherThanTheKeys_ReturnsSchemeParameter2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());

        Assert.Equal(P(TpmRc.Scheme, 2), ErrorOf(() => client.Quote(ak.Handle, Nonce, PcrSelectionList.Empty, new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha1))));
    }

    [Fact]
    public void Quote_PublicOnlyKey_ReturnsAuthUnavailable()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var external = client.LoadExternal(ak.Public, hierarchy: TpmRh.Endorsement);

        Assert.Equal(TpmRc.AuthUnavailable, ErrorOf(() => client.Quote(external.Handle, Nonce, PcrSelectionList.Empty)));
    }

    [Theory]
    [InlineData(0x0099, 3, TpmRc.Hash)]
    [InlineData((int)TpmAlgId.Sha256, 1, TpmRc.Value)]
    public void Quote_Raw_BadPcrSelection_ReturnsCodeForParameter3(int hash, int sizeofSelect, TpmRc expected)
    {
        using var tpm = NewTpm();
        var ak = new Tpm2(tpm).CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var rc = Execute(tpm, TpmCc.Quote, [ak.Handle], 1, w =>
        {
            w.WriteTpm2b(Nonce);
            TpmtScheme.Null.Marshal(w);
            w.WriteU32(1);
            w.WriteU16((ushort)hash);
            w.WriteU8((byte)sizeofSelect);
            w.WriteBytes(new byte[sizeofSelect]);
        });

        Assert.Equal(P(expected, 3), rc);
    }

    [Fact]
    public void Quote_Raw_TruncatedParameters_ReturnsInsufficient()
    {
        using var tpm = NewTpm();
        var ak = new Tpm2(tpm).CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var rc = Execute(tpm, TpmCc.Quote, [ak.Handle], 1, w =>
        {
            w.WriteTpm2b(Nonce);
            TpmtScheme.Null.Marshal(w);
            w.WriteU16(0);
        });

        Assert.Equal(P(TpmRc.Insufficient, 3), rc);
    }

    /// <summary>tpm2_checkquote (tpm2-tools) verifies our quotes: AK public as TPM2B_PUBLIC, TPMS_ATTEST, TPMT_SIGNATURE, PCR values.</summary>
    [Theory]
    [InlineData("ecc")]
    [InlineData("rsa")]
    public void Quote_Tpm2CheckQuote_AcceptsOurQuoteAndRejectsAWrongNonce(string algorithm)
    {
        PeerTools.Require("tpm2_checkquote", "tpm2-tools");
        using var tpm = NewTpm();
        ExtendPcrs(tpm);
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Endorsement, algorithm == "ecc" ? TpmTemplates.AkEccP256() : TpmTemplates.AkRsa2048());
        var quote = client.Quote(ak.Handle, Nonce, PcrSelectionList.Create(TpmAlgId.Sha256, 0, 1, 2));

        var dir = Directory.CreateTempSubdirectory("truststack-checkquote-");
        try
        {
            var w = new TpmWriter();
            ak.Public.MarshalSized(w);
            File.WriteAllBytes(Path.Combine(dir.FullName, "ak.pub"), w.ToArray());
            File.WriteAllBytes(Path.Combine(dir.FullName, "quote.msg"), quote.Quoted);
            File.WriteAllBytes(Path.Combine(dir.FullName, "quote.sig"), quote.Signature.ToBytes());
            File.WriteAllBytes(Path.Combine(dir.FullName, "pcrs.bin"), [.. ExpectedPcr(0), .. ExpectedPcr(1), .. ExpectedPcr(2)]);

            var (ok, output) = CheckQuote(dir.FullName, Convert.ToHexStringLower(Nonce));
            Assert.True(ok, output);
            var (wrongNonceOk, _) = CheckQuote(dir.FullName, Convert.ToHexStringLower(SHA256.HashData(Nonce)));
            Assert.False(wrongNonceOk);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    // ---- Certify ----

    [Fact]
    public void Certify_SrkWithAk_AttestsItsNamesAndVerifies()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());

        var result = client.Certify(srk.Handle, ak.Handle, Nonce);

        var info = Assert.IsType<CertifyInfo>(result.Attest.Attested);
        Assert.Equal(TpmSt.AttestCertify, result.Attest.Type);
        Assert.Equal(srk.Name, info.Name);
        Assert.Equal(client.ReadPublic(srk.Handle).QualifiedName, info.QualifiedName);
        Assert.Equal(client.ReadPublic(ak.Handle).QualifiedName, result.Attest.QualifiedSigner);
        Assert.Equal(Nonce, result.Attest.ExtraData);
        Assert.True(VerifyWithDotNet(ak.Public, SHA256.HashData(result.CertifyInfo), result.Signature));
    }

    [Fact]
    public void Certify_ObjectWithAdminWithPolicy_NeedsAPolicySession()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ek = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());

        // Reference IsPolicySessionRequired: the ADMIN role of an adminWithPolicy object is TPM_RC_AUTH_TYPE (as libtpms).
        Assert.Equal(TpmRc.AuthType, ErrorOf(() => client.Certify(ek.Handle, ak.Handle, Nonce)));
    }

    [Fact]
    public void Certify_NullSignHandle_ReturnsAnUnsignedAttestationNamingTpmRhNull()
    {
        // TPMI_DH_OBJECT+ (Part 3 §18.2): found by the differential test, where libtpms accepted TPM_RH_NULL.
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());

        var result = client.Certify(srk.Handle, TpmRh.Null, Nonce);

        Assert.Equal(TpmAlgId.Null, result.Signature.SigAlg);
        Assert.Equal(new byte[] { 0x40, 0x00, 0x00, 0x07 }, result.Attest.QualifiedSigner);
        Assert.Equal(srk.Name, Assert.IsType<CertifyInfo>(result.Attest.Attested).Name);
        Assert.Equal(Nonce, result.Attest.ExtraData);
    }

    [Fact]
    public void Quote_NullSignHandle_ReturnsSchemeParameter2()
    {
        // Reference TPM2_Quote: the NULL scheme has no hash for the PCR digest.
        using var tpm = NewTpm();
        Assert.Equal(P(TpmRc.Scheme, 2), ErrorOf(() => new Tpm2(tpm).Quote(TpmRh.Null, Nonce, PcrSelectionList.Create(TpmAlgId.Sha256, 0))));
    }

    [Fact]
    public void Certify_SignHandleNotASigningKey_ReturnsKeyHandle2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);

        Assert.Equal(H(TpmRc.Key, 2), ErrorOf(() => client.Certify(srk.Handle, srk.Handle, Nonce)));
    }

    [Fact]
    public void Certify_Raw_OneAuthorizationForTwoHandles_ReturnsAuthMissing()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var rc = Execute(tpm, TpmCc.Certify, [srk.Handle, ak.Handle], 1, w =>
        {
            w.WriteTpm2b(Nonce);
            TpmtScheme.Null.Marshal(w);
        });

        Assert.Equal(TpmRc.AuthMissing, rc);
    }

    private static (bool Ok, string Output) CheckQuote(string dir, string nonceHex)
    {
        var (code, stdout, stderr) = PeerTools.Run(
            "tpm2_checkquote",
            ["-u", "ak.pub", "-m", "quote.msg", "-s", "quote.sig", "-f", "pcrs.bin", "-l", "sha256:0,1,2", "-g", "sha256", "-q", nonceHex],
            workingDirectory: dir);
        return (code == 0, $"exit {code}\n{stdout}\n{stderr}");
    }

    /// <summary>Records every command and response (hex) that passes through.</summary>
    private sealed class RecordingTransport(ITpmTransport inner) : ITpmTransport
    {
        public List<(string Command, string Response)> Log { get; } = [];

        public byte[] Execute(ReadOnlySpan<byte> command)
        {
            var response = inner.Execute(command);
            Log.Add((Convert.ToHexStringLower(command), Convert.ToHexStringLower(response)));
            return response;
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public void NvCertify_OwnerAuthorizedRange_SignsIndexNameOffsetAndData()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 9, AutoStartup = true });
        var client = new Tpm2(tpm);
        const uint index = 0x0150_0030;
        client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(index, TpmAlgId.Sha256, TpmaNv.OwnerRead | TpmaNv.OwnerWrite, [], 32), []);
        var data = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        client.NvWrite(TpmRh.Owner, index, data);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());

        var r = client.Execute(TpmCc.NvCertify, [ak.Handle, TpmRh.Owner, index], [TpmAuthorization.EmptyPassword, TpmAuthorization.EmptyPassword], w =>
        {
            w.WriteTpm2b(Nonce);
            TpmtScheme.Null.Marshal(w);
            w.WriteU16(8);
            w.WriteU16(4);
        }).Reader();
        var attestBytes = r.ReadTpm2b();
        var signature = TpmtSignature.Unmarshal(ref r);

        var attest = TpmsAttest.Parse(attestBytes);
        Assert.Equal(TpmSt.AttestNv, attest.Type);
        Assert.Equal(Nonce, attest.ExtraData);
        var info = Assert.IsType<NvCertifyInfo>(attest.Attested);
        Assert.Equal(client.NvReadPublic(index).Name, info.IndexName);
        Assert.Equal(4, info.Offset);
        Assert.Equal(data[4..12], info.NvContents);
        Assert.True(TpmSignatureVerifier.VerifyMessage(ak.Public, attestBytes, signature));
    }

    [Fact]
    public void NvCertify_BeyondDataSize_ReturnsNvRange()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 9, AutoStartup = true });
        var client = new Tpm2(tpm);
        const uint index = 0x0150_0031;
        client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(index, TpmAlgId.Sha256, TpmaNv.OwnerRead | TpmaNv.OwnerWrite, [], 8), []);
        client.NvWrite(TpmRh.Owner, index, new byte[8]);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var e = Assert.Throws<TpmException>(() => client.Execute(TpmCc.NvCertify, [ak.Handle, TpmRh.Owner, index], [TpmAuthorization.EmptyPassword, TpmAuthorization.EmptyPassword], w =>
        {
            w.WriteTpm2b([]);
            TpmtScheme.Null.Marshal(w);
            w.WriteU16(8);
            w.WriteU16(1);
        }));
        Assert.Equal(TpmRc.NvRange, e.ResponseCode);
    }

    [Fact]
    public void GetTime_EndorsementAuthorized_SignsTimeClockAndFirmware()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 9, AutoStartup = true, FirmwareVersion = 0x0001_0002_0003_0004 });
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());

        var r = client.Execute(TpmCc.GetTime, [TpmRh.Endorsement, ak.Handle], [TpmAuthorization.EmptyPassword, TpmAuthorization.EmptyPassword], w =>
        {
            w.WriteTpm2b(Nonce);
            TpmtScheme.Null.Marshal(w);
        }).Reader();
        var attestBytes = r.ReadTpm2b();
        var signature = TpmtSignature.Unmarshal(ref r);

        var attest = TpmsAttest.Parse(attestBytes);
        Assert.Equal(TpmSt.AttestTime, attest.Type);
        var info = Assert.IsType<TimeAttestInfo>(attest.Attested);
        Assert.Equal(tpm.TimeMilliseconds, info.Time);
        Assert.Equal(0x0001_0002_0003_0004ul, info.TimeFirmwareVersion);
        Assert.Equal(tpm.State.ResetCount, info.TimeClockInfo.ResetCount);
        Assert.True(TpmSignatureVerifier.VerifyMessage(ak.Public, attestBytes, signature));
    }

    [Fact]
    public void GetTime_OwnerInsteadOfEndorsement_ReturnsValueHandle1()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 9, AutoStartup = true });
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var e = Assert.Throws<TpmException>(() => client.Execute(TpmCc.GetTime, [TpmRh.Owner, ak.Handle], [TpmAuthorization.EmptyPassword, TpmAuthorization.EmptyPassword], w =>
        {
            w.WriteTpm2b([]);
            TpmtScheme.Null.Marshal(w);
        }));
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Value, 1), e.ResponseCode);
    }
}
