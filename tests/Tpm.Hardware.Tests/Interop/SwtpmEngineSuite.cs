using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware.Tests.Interop;

/// <summary>
/// A representative engine test suite — objects, signing, quote, sessions and policy, NV, PCR,
/// context, credential — written once and run through our typed client against both our engine
/// (<see cref="EngineSuiteOnEngineTests"/>) and a real swtpm (<see cref="EngineSuiteOnSwtpmTests"/>).
/// Where the TPMs legitimately differ (random keys, RSA primes, nonces, signatures) the tests
/// assert properties — sizes, attributes, Names, verifiable signatures, recovered secrets —
/// never bytes; where the outcome is defined (PCR values, policy digests, response codes) they
/// assert the value.
/// </summary>
public abstract class EngineSuite : IDisposable
{
    private static readonly byte[] Digest = SHA256.HashData("message"u8);

    /// <summary>Resets the TPM for the test.</summary>
    protected EngineSuite(ITpmUnderTest target)
    {
        Target = target;
        Target.Reset();
        Client = new Tpm2(Target.Transport);
    }

    /// <summary>The TPM under test.</summary>
    protected ITpmUnderTest Target { get; }

    /// <summary>The client over the TPM under test.</summary>
    protected Tpm2 Client { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        DisposeTarget();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the target if the test class owns it.</summary>
    protected abstract void DisposeTarget();

    private static TpmRc Fails(Action action) => Assert.Throws<TpmException>(action).ResponseCode;

    private static TpmtPublic NoDa(TpmtPublic template) => template with { ObjectAttributes = template.ObjectAttributes | TpmaObject.NoDA };

    private uint Srk() => Client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle;

    private (uint Handle, TpmtPublic Public) ChildKey(uint parent, TpmtPublic template, byte[]? authValue = null)
    {
        var created = Client.Create(parent, template, new TpmsSensitiveCreate(authValue ?? [], []));
        return (Client.Load(parent, created.Private, created.Public).Handle, created.Public);
    }

    // ---- objects ------------------------------------------------------------------------------

    [Fact]
    public void CreatePrimary_SameTemplateTwice_SameKeyFromTheSeed()
    {
        var first = Client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        Client.FlushContext(first.Handle);
        var second = Client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());

        Assert.Equal(first.Public.ToBytes(), second.Public.ToBytes());
        Assert.Equal(first.Name, second.Name);
        Assert.Equal(first.Public.GetName(), first.Name);
        Assert.Equal(TpmRh.TransientFirst, first.Handle);
    }

    [Fact]
    public void CreatePrimary_RsaEk_Rsa2048WithTheEkPolicyAndValidName()
    {
        var ek = Client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkRsa2048());

        var rsa = Assert.IsType<RsaParms>(ek.Public.Parameters);
        Assert.Equal(2048, rsa.KeyBits);
        var modulus = Assert.IsType<RsaPublicId>(ek.Public.Unique).Modulus;
        Assert.Equal(256, modulus.Length);
        Assert.True((modulus[0] & 0x80) != 0, "a 2048-bit modulus has its top bit set");
        Assert.Equal(TpmTemplates.EkAuthPolicySha256(), ek.Public.AuthPolicy);
        Assert.Equal(ek.Public.GetName(), ek.Name);
        using var key = TpmPublicKeys.ToRsa(ek.Public);
        Assert.Equal(2048, key.KeySize);
    }

    [Fact]
    public void CreateLoadReadPublic_ChildKey_NamesAgreeEverywhere()
    {
        var srk = Srk();
        var created = Client.Create(srk, NoDa(TpmTemplates.SigningEccP256()));
        var loaded = Client.Load(srk, created.Private, created.Public);
        var read = Client.ReadPublic(loaded.Handle);

        Assert.Equal(created.Public.GetName(), loaded.Name);
        Assert.Equal(loaded.Name, read.Name);
        Assert.Equal(created.Public.ToBytes(), read.Public.ToBytes());
        Assert.Equal(32, Assert.IsType<EccPoint>(read.Public.Unique).X.Length);
    }

    [Fact]
    public void CreateUnseal_SealedData_ReturnsTheDataOnlyWithItsPassword()
    {
        var srk = Srk();
        var created = Client.Create(srk, NoDa(TpmTemplates.SealedData()), new TpmsSensitiveCreate("pw"u8.ToArray(), "secret data"u8.ToArray()));
        var handle = Client.Load(srk, created.Private, created.Public).Handle;

        Assert.Equal("secret data"u8.ToArray(), Client.Unseal(handle, TpmAuthorization.Password("pw"u8)));
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), Fails(() => Client.Unseal(handle, TpmAuthorization.Password("no"u8))));
    }

    // ---- signing ------------------------------------------------------------------------------

    [Fact]
    public void Sign_EccChildKey_VerifiesOffTheTpmAndInIt()
    {
        var (key, pub) = ChildKey(Srk(), NoDa(TpmTemplates.SigningEccP256()));

        var signature = Client.Sign(key, Digest);

        Assert.Equal(TpmAlgId.Ecdsa, signature.SigAlg);
        Assert.True(TpmSignatureVerifier.Verify(pub, Digest, signature));
        var ticket = Client.VerifySignature(key, Digest, signature);
        Assert.Equal(TpmSt.Verified, ticket.Tag);
        var other = SHA256.HashData("other"u8);
        Assert.False(TpmSignatureVerifier.Verify(pub, other, signature));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Signature, 2), Fails(() => Client.VerifySignature(key, other, signature)));
    }

    [Fact]
    public void Sign_RestrictedKeyWithoutTicket_ReturnsTicketParameter3()
    {
        var ak = Client.CreatePrimary(TpmRh.Endorsement, NoDa(TpmTemplates.AkEccP256()));
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Ticket, 3), Fails(() => Client.Sign(ak.Handle, Digest)));
    }

    // ---- quote --------------------------------------------------------------------------------

    [Fact]
    public void Quote_AkOverExtendedPcrs_VerifiesWithQuoteVerifier()
    {
        var ak = Client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        Client.PcrExtend(16, TpmAlgId.Sha256, SHA256.HashData("kernel"u8));
        var selection = PcrSelectionList.Create(TpmAlgId.Sha256, 0, 7, 16);
        var nonce = RandomNumberGenerator.GetBytes(32);

        var quote = Client.Quote(ak.Handle, nonce, selection);
        var values = PcrValues.Create(Client.PcrRead(selection).Values);

        var result = QuoteVerifier.Verify(new QuoteVerificationRequest(ak.Public, quote.Quoted, quote.Signature, nonce, values) { ExpectedSelection = selection });
        Assert.True(result.IsValid, string.Join("; ", result.Failures));
        var tampered = values.With(TpmAlgId.Sha256, 16, new byte[32]);
        Assert.False(QuoteVerifier.Verify(new QuoteVerificationRequest(ak.Public, quote.Quoted, quote.Signature, nonce, tampered)).IsValid);
    }

    // ---- sessions and policy -------------------------------------------------------------------

    [Fact]
    public void HmacSession_UnsaltedAndSalted_AuthorizeSuccessiveCommands()
    {
        var srk = Client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        var (key, _) = ChildKey(srk.Handle, NoDa(TpmTemplates.SigningEccP256()), "key-auth"u8.ToArray());
        using var plain = Client.StartAuthSession(TpmSe.Hmac);
        using var salted = Client.StartAuthSession(TpmSe.Hmac, tpmKey: srk.Handle);

        foreach (var session in new[] { plain, salted })
        {
            for (var i = 0; i < 3; i++)
            {
                Client.Sign(key, Digest, auth: TpmAuthorization.Session(session, "key-auth"u8));
            }

            Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), Fails(() => Client.Sign(key, Digest, auth: TpmAuthorization.Session(session, "wrong"u8))));
        }
    }

    [Fact]
    public void PolicyPcr_UnsealsUntilTheUpdateCounterMoves()
    {
        var srk = Srk();
        var pcrs = PcrSelectionList.Create(TpmAlgId.Sha256, 16);
        var policy = PolicyDigest.PolicyPcr(TpmAlgId.Sha256, PolicyDigest.Initial(TpmAlgId.Sha256), pcrs, [new byte[32]]);
        using (var trial = Client.StartAuthSession(TpmSe.Trial))
        {
            Client.PolicyPcr(trial, pcrs);
            Assert.Equal(policy, Client.PolicyGetDigest(trial));
            Client.FlushContext(trial);
        }

        var created = Client.Create(srk, TpmTemplates.SealedData(policy) with { ObjectAttributes = TpmTemplates.SealedData(policy).ObjectAttributes | TpmaObject.NoDA }, new TpmsSensitiveCreate([], "sealed"u8.ToArray()));
        var handle = Client.Load(srk, created.Private, created.Public).Handle;
        using var session = Client.StartAuthSession(TpmSe.Policy);
        Client.PolicyPcr(session, pcrs);
        Assert.Equal("sealed"u8.ToArray(), Client.Unseal(handle, TpmAuthorization.Session(session)));

        // PCR 16 is in the PC Client no-increment set: extending it does not move pcrUpdateCounter,
        // so the session's PolicyPCR still stands; extending PCR 15 moves it (Part 1 §17.5).
        Client.PolicyPcr(session, pcrs);
        Client.PcrExtend(16, TpmAlgId.Sha256, new byte[32]);
        Assert.Equal("sealed"u8.ToArray(), Client.Unseal(handle, TpmAuthorization.Session(session)));
        Client.PolicyPcr(session, pcrs);
        Client.PcrExtend(15, TpmAlgId.Sha256, new byte[32]);
        Assert.Equal(TpmRc.PcrChanged, Fails(() => Client.Unseal(handle, TpmAuthorization.Session(session))));
        Assert.Equal(TpmRc.PcrChanged, Fails(() => Client.PolicyPcr(session, pcrs)));
    }

    [Fact]
    public void PolicySecret_Endorsement_GivesTheEkPolicyDigest()
    {
        using var trial = Client.StartAuthSession(TpmSe.Trial);
        Client.PolicySecret(trial, TpmRh.Endorsement, TpmAuthorization.EmptyPassword);
        Assert.Equal(TpmTemplates.EkAuthPolicySha256(), Client.PolicyGetDigest(trial));
    }

    [Fact]
    public void PolicyAuthValueAndCommandCode_DigestsMatchTheOfflineComputation()
    {
        using var session = Client.StartAuthSession(TpmSe.Policy);
        Client.PolicyAuthValue(session);
        Client.PolicyCommandCode(session, TpmCc.Unseal);
        var expected = PolicyDigest.PolicyCommandCode(TpmAlgId.Sha256, PolicyDigest.PolicyAuthValue(TpmAlgId.Sha256, PolicyDigest.Initial(TpmAlgId.Sha256)), TpmCc.Unseal);
        Assert.Equal(expected, Client.PolicyGetDigest(session));
        Client.PolicyRestart(session);
        Assert.Equal(new byte[32], Client.PolicyGetDigest(session));
    }

    // ---- NV -----------------------------------------------------------------------------------

    [Fact]
    public void Nv_OrdinaryIndex_WriteReadAndName()
    {
        const uint Index = 0x0150_0020;
        var pub = new TpmsNvPublic(Index, TpmAlgId.Sha256, TpmaNv.OwnerWrite | TpmaNv.OwnerRead | TpmaNv.AuthWrite | TpmaNv.AuthRead | TpmaNv.NoDA, [], 16);
        Client.NvDefineSpace(TpmRh.Owner, pub, "nv-auth"u8);
        Assert.Equal(TpmRc.NvUninitialized, Fails(() => Client.NvRead(Index, Index, 16, auth: TpmAuthorization.Password("nv-auth"u8))));

        Client.NvWrite(Index, Index, "0123456789abcdef"u8, auth: TpmAuthorization.Password("nv-auth"u8));

        Assert.Equal("456789"u8.ToArray(), Client.NvRead(TpmRh.Owner, Index, 6, 4));
        var read = Client.NvReadPublic(Index);
        Assert.True((read.NvPublic.Attributes & TpmaNv.Written) != 0);
        Assert.Equal(read.NvPublic.GetName(), read.Name);
        Assert.Equal(TpmRc.NvRange, Fails(() => Client.NvRead(TpmRh.Owner, Index, 8, 10)));
        Client.NvUndefineSpace(TpmRh.Owner, Index);
        Assert.Equal(TpmResponseCode.Handle(TpmRc.Handle, 1), Fails(() => Client.NvReadPublic(Index)));
    }

    [Fact]
    public void Nv_ExtendAndCounterIndices_FollowTheirFormulas()
    {
        const uint ExtendIndex = 0x0150_0021;
        const uint CounterIndex = 0x0150_0022;
        var common = TpmaNv.OwnerWrite | TpmaNv.OwnerRead | TpmaNv.NoDA;
        Client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(ExtendIndex, TpmAlgId.Sha256, common | (TpmaNv)(4u << 4), [], 32), []);
        Client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(CounterIndex, TpmAlgId.Sha256, common | (TpmaNv)(1u << 4), [], 8), []);

        Client.NvExtend(TpmRh.Owner, ExtendIndex, "event"u8);
        Client.NvIncrement(TpmRh.Owner, CounterIndex);
        var first = Client.NvRead(TpmRh.Owner, CounterIndex, 8);
        Client.NvIncrement(TpmRh.Owner, CounterIndex);

        Assert.Equal(TpmHash.Extend(TpmAlgId.Sha256, new byte[32], "event"u8.ToArray()), Client.NvRead(TpmRh.Owner, ExtendIndex, 32));
        var second = Client.NvRead(TpmRh.Owner, CounterIndex, 8);
        Assert.Equal(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(first) + 1, System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(second));
    }

    // ---- PCR ----------------------------------------------------------------------------------

    [Fact]
    public void PcrExtendEventReset_DebugPcr_ValuesFollowTheExtendFormula()
    {
        var measurement = SHA256.HashData("measurement"u8);
        Client.PcrExtend(16, TpmAlgId.Sha256, measurement);
        var afterExtend = TpmHash.Extend(TpmAlgId.Sha256, new byte[32], measurement);
        Assert.Equal(afterExtend, Client.PcrRead(PcrSelectionList.Create(TpmAlgId.Sha256, 16)).Digests.Single());

        var digests = Client.PcrEvent(16, "event data"u8);
        var sha256 = digests.Single(d => d.HashAlg == TpmAlgId.Sha256);
        Assert.Equal(SHA256.HashData("event data"u8), sha256.Digest);
        Assert.Equal(TpmHash.Extend(TpmAlgId.Sha256, afterExtend, sha256.Digest), Client.PcrRead(PcrSelectionList.Create(TpmAlgId.Sha256, 16)).Digests.Single());

        Client.PcrReset(16);
        Assert.Equal(new byte[32], Client.PcrRead(PcrSelectionList.Create(TpmAlgId.Sha256, 16)).Digests.Single());
        Assert.Equal(TpmRc.Locality, Fails(() => Client.PcrReset(0)));
    }

    [Fact]
    public void PcrProperties_NoIncrementSet_IsThePcClientSet()
    {
        var properties = Client.GetCapability(TpmCap.PcrProperties, 0x11, 1).PcrProperties;
        var noIncrement = Assert.Single(properties, p => p.Tag == 0x11);
        Assert.Equal(new byte[] { 0x00, 0x00, 0xE1 }, noIncrement.Select);
    }

    [Fact]
    public void PcrAllocation_HasTheCommonBanksWithAllPcrs()
    {
        var allocation = Client.GetPcrAllocation();
        foreach (var bank in new[] { TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384 })
        {
            var selection = allocation.Selections.Single(s => s.Hash == bank);
            Assert.Equal(Enumerable.Range(0, 24), selection.Pcrs);
        }
    }

    // ---- context ------------------------------------------------------------------------------

    [Fact]
    public void ContextSaveLoad_ObjectAndSession_KeepWorking()
    {
        var (key, pub) = ChildKey(Srk(), NoDa(TpmTemplates.SigningEccP256()), "k"u8.ToArray());
        var savedKey = Client.ContextSave(key);
        Client.FlushContext(key);
        var reloaded = Client.ContextLoad(savedKey);
        Assert.True(TpmSignatureVerifier.Verify(pub, Digest, Client.Sign(reloaded, Digest, auth: TpmAuthorization.Password("k"u8))));

        using var session = Client.StartAuthSession(TpmSe.Hmac);
        Client.Sign(reloaded, Digest, auth: TpmAuthorization.Session(session, "k"u8));
        var savedSession = Client.ContextSave(session.Handle);
        Assert.Equal(session.Handle, Client.ContextLoad(savedSession));
        Client.Sign(reloaded, Digest, auth: TpmAuthorization.Session(session, "k"u8));
    }

    [Fact]
    public void ObjectSlots_ThreeTransientObjects_FourthIsObjectMemory()
    {
        var handles = Enumerable.Range(0, 3).Select(_ => Srk()).ToArray();
        Assert.Equal([TpmRh.TransientFirst, TpmRh.TransientFirst + 1, TpmRh.TransientFirst + 2], handles);
        Assert.Equal(TpmRc.ObjectMemory, Fails(() => Srk()));
        Client.FlushContext(handles[1]);
        Assert.Equal(handles[1], Srk());
    }

    // ---- credential ---------------------------------------------------------------------------

    [Fact]
    public void ActivateCredential_EccEkAndAk_RecoversTheOfflineCredential()
    {
        var ek = Client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        var ak = Client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var secret = RandomNumberGenerator.GetBytes(32);
        var made = Tpm2.MakeCredentialOffline(ek.Public, secret, ak.Name);

        using var ekSession = Client.StartAuthSession(TpmSe.Policy);
        Client.PolicySecret(ekSession, TpmRh.Endorsement, TpmAuthorization.EmptyPassword);
        var recovered = Client.ActivateCredential(ak.Handle, ek.Handle, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, TpmAuthorization.Session(ekSession));

        Assert.Equal(secret, recovered);
    }

    [Fact]
    public void MakeCredential_OnTheTpm_ActivatesOnTheSameTpm()
    {
        var ek = Client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        var ak = Client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var made = Client.MakeCredential(ek.Handle, "on-tpm credential"u8, ak.Name);

        using var ekSession = Client.StartAuthSession(TpmSe.Policy);
        Client.PolicySecret(ekSession, TpmRh.Endorsement, TpmAuthorization.EmptyPassword);
        Assert.Equal("on-tpm credential"u8.ToArray(), Client.ActivateCredential(ak.Handle, ek.Handle, made.CredentialBlob, made.Secret, TpmAuthorization.EmptyPassword, TpmAuthorization.Session(ekSession)));
    }

    // ---- hierarchy ----------------------------------------------------------------------------

    [Fact]
    public void HierarchyChangeAuth_Owner_NewPasswordNeededThenRestored()
    {
        Client.HierarchyChangeAuth(TpmRh.Owner, "owner"u8);
        Assert.Equal(TpmResponseCode.Session(TpmRc.BadAuth, 1), Fails(() => Client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256())));
        var srk = Client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256(), hierarchyAuth: TpmAuthorization.Password("owner"u8));
        Client.FlushContext(srk.Handle);
        Client.HierarchyChangeAuth(TpmRh.Owner, [], TpmAuthorization.Password("owner"u8));
        Client.FlushContext(Srk());
    }
}

/// <summary><see cref="EngineSuite"/> against our engine.</summary>
public sealed class EngineSuiteOnEngineTests() : EngineSuite(new EngineUnderTest())
{
    /// <inheritdoc />
    protected override void DisposeTarget() => Target.Dispose();
}

/// <summary><see cref="EngineSuite"/> against a real swtpm (libtpms), one process for the class.</summary>
public sealed class EngineSuiteOnSwtpmTests(SwtpmFixture fixture) : EngineSuite(fixture.Swtpm), IClassFixture<SwtpmFixture>
{
    /// <inheritdoc />
    protected override void DisposeTarget()
    {
        // The fixture owns the swtpm; the next test resets it.
    }
}
