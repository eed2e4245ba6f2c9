using System.Security.Cryptography;
using static TrustStack.Tpm.Hardware.Tests.Engine.EngineTestKit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class SigningCommandsTests
{
    private static readonly byte[] Digest = SHA256.HashData("to be signed"u8);

    [Fact]
    public void Sign_UnrestrictedEccKey_VerifiesWithDotNet()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());

        var signature = client.Sign(key.Handle, Digest);

        Assert.Equal(TpmAlgId.Ecdsa, signature.SigAlg);
        Assert.Equal(TpmAlgId.Sha256, signature.Hash);
        Assert.True(VerifyWithDotNet(key.Public, Digest, signature));
    }

    [Fact]
    public void Sign_DeterministicEngine_SameSignatureEveryTime()
    {
        using var a = NewTpm(seed: 9);
        using var b = NewTpm(seed: 9);
        var clientA = new Tpm2(a);
        var clientB = new Tpm2(b);
        var keyA = clientA.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
        var keyB = clientB.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());

        var first = clientA.Sign(keyA.Handle, Digest).ToBytes();
        Assert.Equal(first, clientA.Sign(keyA.Handle, Digest).ToBytes());
        Assert.Equal(first, clientB.Sign(keyB.Handle, Digest).ToBytes());
    }

    [Fact]
    public void Sign_NonDeterministicEngine_FreshEcdsaNonces()
    {
        using var tpm = NewTpm(seed: null);
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());

        var first = client.Sign(key.Handle, Digest);
        var second = client.Sign(key.Handle, Digest);
        Assert.NotEqual(first.SignatureR, second.SignatureR);
        Assert.True(VerifyWithDotNet(key.Public, Digest, second));
    }

    [Fact]
    public void Sign_KeyWithNullScheme_UsesTheCallersScheme()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256(TpmtScheme.Null));
        var sha384 = SHA384.HashData("x"u8);

        var signature = client.Sign(key.Handle, sha384, new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha384));

        Assert.Equal(TpmAlgId.Sha384, signature.Hash);
        Assert.True(VerifyWithDotNet(key.Public, sha384, signature));
    }

    [Fact]
    public void Sign_RsaKeyWithNullScheme_SignsRsassaAndRsapss()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningRsa2048(TpmtScheme.Null));

        var pkcs1 = client.Sign(key.Handle, Digest, new TpmtScheme(TpmAlgId.Rsassa, TpmAlgId.Sha256));
        var pss = client.Sign(key.Handle, Digest, new TpmtScheme(TpmAlgId.Rsapss, TpmAlgId.Sha256));

        Assert.True(VerifyWithDotNet(key.Public, Digest, pkcs1));
        Assert.Equal(TpmAlgId.Rsapss, pss.SigAlg);
        Assert.True(VerifyWithDotNet(key.Public, Digest, pss));
        client.VerifySignature(key.Handle, Digest, pss);
    }

    [Fact]
    public void Sign_NullSchemeOnKeyWithNullScheme_ReturnsSchemeParameter2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256(TpmtScheme.Null));

        Assert.Equal(P(TpmRc.Scheme, 2), ErrorOf(() => client.Sign(key.Handle, Digest)));
    }

    [Fact]
    public void Sign_SchemeDifferentFromTheKeys_ReturnsSchemeParameter2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());

        Assert.Equal(P(TpmRc.Scheme, 2), ErrorOf(() => client.Sign(key.Handle, SHA384.HashData("x"u8), new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha384))));
    }

    [Fact]
    public void Sign_RsaSchemeOnEccKey_ReturnsSchemeParameter2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256(TpmtScheme.Null));

        Assert.Equal(P(TpmRc.Scheme, 2), ErrorOf(() => client.Sign(key.Handle, Digest, new TpmtScheme(TpmAlgId.Rsassa, TpmAlgId.Sha256))));
    }

    [Fact]
    public void Sign_DigestOfWrongSize_ReturnsSizeParameter1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());

        Assert.Equal(P(TpmRc.Size, 1), ErrorOf(() => client.Sign(key.Handle, new byte[20])));
    }

    [Fact]
    public void Sign_DecryptionKey_ReturnsKeyHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);

        Assert.Equal(H(TpmRc.Key, 1), ErrorOf(() => client.Sign(srk.Handle, Digest, new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256))));
    }

    [Fact]
    public void Sign_X509SignKey_ReturnsAttributesHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var template = TpmTemplates.SigningEccP256() with { ObjectAttributes = TpmTemplates.SigningKeyAttributes | TpmaObject.X509Sign };
        var key = client.CreatePrimary(TpmRh.Owner, template);

        Assert.Equal(H(TpmRc.Attributes, 1), ErrorOf(() => client.Sign(key.Handle, Digest)));
    }

    [Fact]
    public void Sign_RestrictedKeyWithoutTicket_ReturnsTicketParameter3()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Owner, TpmTemplates.AkEccP256());

        Assert.Equal(P(TpmRc.Ticket, 3), ErrorOf(() => client.Sign(ak.Handle, Digest)));
    }

    [Fact]
    public void Sign_RestrictedKeyWithForgedTicket_ReturnsTicketParameter3()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Owner, TpmTemplates.AkEccP256());
        var forged = new TpmtTicket(TpmSt.Hashcheck, TpmRh.Owner, HMACSHA256.HashData(new byte[64], Digest));

        Assert.Equal(P(TpmRc.Ticket, 3), ErrorOf(() => client.Sign(ak.Handle, Digest, validation: forged)));
    }

    [Fact]
    public void Sign_RestrictedKeyRefusesDataThatLooksLikeATpmStructure()
    {
        // A quote-shaped message (starting with TPM_GENERATED_VALUE) gets no hash-check ticket from
        // TPM2_Hash, so the only way to present it to an AK is with the null ticket, which fails.
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Owner, TpmTemplates.AkEccP256());
        byte[] forgedAttest = [0xFF, 0x54, 0x43, 0x47, 0x80, 0x18, .. new byte[40]];

        Assert.Equal(P(TpmRc.Ticket, 3), ErrorOf(() => client.Sign(ak.Handle, SHA256.HashData(forgedAttest), validation: TpmtTicket.NullHashCheck)));
    }

    [Fact]
    public void Sign_RestrictedKeyWithValidHashCheckTicket_Signs()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Owner, TpmTemplates.AkEccP256());

        // The ticket TPM2_Hash issues: HMAC_SHA256(proof, TPM_ST_HASHCHECK ‖ digest).
        var proof = tpm.State.ShProof!.Reveal();
        var ticket = new TpmtTicket(TpmSt.Hashcheck, TpmRh.Owner, HMACSHA256.HashData(proof, (byte[])[0x80, 0x24, .. Digest]));

        Assert.True(VerifyWithDotNet(ak.Public, Digest, client.Sign(ak.Handle, Digest, validation: ticket)));
    }

    [Fact]
    public void Sign_TicketFromAnotherHierarchy_ReturnsTicketParameter3()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var ak = client.CreatePrimary(TpmRh.Owner, TpmTemplates.AkEccP256());
        var ticket = new TpmtTicket(TpmSt.Hashcheck, TpmRh.Endorsement, Tickets.HashCheckDigest(tpm.State, TpmRh.Owner, Digest));

        Assert.Equal(P(TpmRc.Ticket, 3), ErrorOf(() => client.Sign(ak.Handle, Digest, validation: ticket)));
    }

    [Fact]
    public void Sign_HmacKey_ReturnsTheHmacOfTheDigest()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.HmacKey());

        var signature = client.Sign(key.Handle, Digest);

        using var sensitive = tpm.State.TransientObjects[key.Handle].ReadSensitive();
        Assert.Equal(TpmAlgId.Hmac, signature.SigAlg);
        Assert.Equal(HMACSHA256.HashData(sensitive.Sensitive, Digest), signature.RsaSignature);
        Assert.Equal(TpmSt.Verified, client.VerifySignature(key.Handle, Digest, signature).Tag);
    }

    [Fact]
    public void Sign_Raw_TicketWithWrongTag_ReturnsTagParameter3()
    {
        using var tpm = NewTpm();
        var key = new Tpm2(tpm).CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
        var rc = Execute(tpm, TpmCc.Sign, [key.Handle], 1, w =>
        {
            w.WriteTpm2b(Digest);
            TpmtScheme.Null.Marshal(w);
            new TpmtTicket(TpmSt.Verified, TpmRh.Null, []).Marshal(w);
        });

        Assert.Equal(P(TpmRc.Tag, 3), rc);
    }

    [Fact]
    public void Sign_Raw_UnknownScheme_ReturnsSchemeParameter2()
    {
        using var tpm = NewTpm();
        var key = new Tpm2(tpm).CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
        var rc = Execute(tpm, TpmCc.Sign, [key.Handle], 1, w =>
        {
            w.WriteTpm2b(Digest);
            new TpmtScheme(TpmAlgId.Oaep, TpmAlgId.Sha256).Marshal(w);
            TpmtTicket.NullHashCheck.Marshal(w);
        });

        Assert.Equal(P(TpmRc.Scheme, 2), rc);
    }

    [Fact]
    public void Sign_Raw_UnknownSchemeAtTheEndOfTheCommand_ReturnsSchemeBeforeReadingItsHash()
    {
        // The reference checks the selector before reading details: no TPM_RC_INSUFFICIENT (found against libtpms).
        using var tpm = NewTpm();
        var key = new Tpm2(tpm).CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
        var rc = Execute(tpm, TpmCc.Sign, [key.Handle], 1, w =>
        {
            w.WriteTpm2b(Digest);
            w.WriteAlg((TpmAlgId)0xFF10);
        });

        Assert.Equal(P(TpmRc.Scheme, 2), rc);
    }

    [Fact]
    public void Sign_Raw_WithoutAuthorization_ReturnsAuthMissing()
    {
        using var tpm = NewTpm();
        var key = new Tpm2(tpm).CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
        var rc = Execute(tpm, TpmCc.Sign, [key.Handle], 0, w =>
        {
            w.WriteTpm2b(Digest);
            TpmtScheme.Null.Marshal(w);
            TpmtTicket.NullHashCheck.Marshal(w);
        });

        Assert.Equal(TpmRc.AuthMissing, rc);
    }

    // ---- VerifySignature ----

    [Fact]
    public void VerifySignature_ValidSignature_ReturnsVerifiedTicket()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
        var signature = client.Sign(key.Handle, Digest);

        var ticket = client.VerifySignature(key.Handle, Digest, signature);

        // TPMT_TK_VERIFIED = HMAC(proof, TPM_ST_VERIFIED ‖ digest ‖ keyName), Part 2 §10.7.4.
        var proof = tpm.State.ShProof!.Reveal();
        Assert.Equal(TpmSt.Verified, ticket.Tag);
        Assert.Equal(TpmRh.Owner, ticket.Hierarchy);
        Assert.Equal(HMACSHA256.HashData(proof, (byte[])[0x80, 0x22, .. Digest, .. key.Name]), ticket.Digest);
    }

    [Fact]
    public void VerifySignature_TamperedSignature_ReturnsSignatureParameter2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
        var signature = client.Sign(key.Handle, Digest);
        signature.SignatureS[^1] ^= 1;

        Assert.Equal(P(TpmRc.Signature, 2), ErrorOf(() => client.VerifySignature(key.Handle, Digest, signature)));
    }

    [Fact]
    public void VerifySignature_OtherDigest_ReturnsSignatureParameter2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
        var signature = client.Sign(key.Handle, Digest);

        Assert.Equal(P(TpmRc.Signature, 2), ErrorOf(() => client.VerifySignature(key.Handle, SHA256.HashData("other"u8), signature)));
    }

    [Fact]
    public void VerifySignature_RsaSignatureOnEccKey_ReturnsSchemeParameter2()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());

        Assert.Equal(P(TpmRc.Scheme, 2), ErrorOf(() => client.VerifySignature(key.Handle, Digest, TpmtSignature.Rsa(TpmAlgId.Rsassa, TpmAlgId.Sha256, new byte[256]))));
    }

    [Fact]
    public void VerifySignature_DecryptionKey_ReturnsAttributesHandle1()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var srk = Srk(client);

        Assert.Equal(H(TpmRc.Attributes, 1), ErrorOf(() => client.VerifySignature(srk.Handle, Digest, TpmtSignature.Ecc(TpmAlgId.Ecdsa, TpmAlgId.Sha256, new byte[32], new byte[32]))));
    }

    [Fact]
    public void VerifySignature_KeyInNullHierarchy_ReturnsNullTicket()
    {
        using var tpm = NewTpm();
        var client = new Tpm2(tpm);
        var key = client.CreatePrimary(TpmRh.Null, TpmTemplates.SigningEccP256());

        var ticket = client.VerifySignature(key.Handle, Digest, client.Sign(key.Handle, Digest));
        Assert.Equal(TpmRh.Null, ticket.Hierarchy);
        Assert.Empty(ticket.Digest);
    }

    [Fact]
    public void VerifySignature_Raw_NullSignature_ReturnsSchemeParameter2()
    {
        using var tpm = NewTpm();
        var key = new Tpm2(tpm).CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
        var rc = Execute(tpm, TpmCc.VerifySignature, [key.Handle], 0, w =>
        {
            w.WriteTpm2b(Digest);
            TpmtSignature.Null.Marshal(w);
        });

        Assert.Equal(P(TpmRc.Scheme, 2), rc);
    }
}
