using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Attestation.TvpPca.Tests;

public sealed class ChallengerTests
{
    private readonly TestPlatforms _p = new();

    [Fact]
    public void Attest_TrustedVms_EveryDecisionHolds()
    {
        using var host = _p.Host(new TvpPcaHostOptions { VmCount = 3 });
        var challenger = _p.Challenger(host.Transport);
        foreach (var agent in host.Agents)
        {
            var a = challenger.Attest(agent.VmId);
            Assert.True(a.Result.IsTrusted, string.Join("\n", a.Result.Failures));
            Assert.True(a.Result.Top.Holds);
            Assert.True(a.Result.Bottom.Holds);
            Assert.True(a.Result.Sameness.Holds);
            Assert.Equal(Enum.GetValues<TvpPcaCheck>().Length - 1, a.Result.Reasons.Count); // every check but RuntimeEvidence (none sent, none required)
            Assert.Equal(Challenger.ChainNonce(a.TopChallenge.Nonce, a.TopResponse.Quote.Attest), a.BottomChallenge.Nonce);
        }
    }

    [Fact]
    public void Attest_ReplayedTopQuote_RejectedForTopNonce()
    {
        using var host = _p.Host();
        var vm = host.Agents[0].VmId;
        var old = _p.Challenger(host.Transport, seed: 1).Attest(vm);
        var mitm = new TamperingTransport(host.Transport) { Top = _ => old.TopResponse };

        var r = _p.Challenger(mitm, seed: 2).Attest(vm).Result;

        Assert.False(r.IsTrusted);
        Assert.False(r.Top.Holds);
        Assert.Equal([TvpPcaCheck.TopNonce], r.Failures.Select(f => f.Check));
    }

    [Fact]
    public void Attest_ReplayedBottomQuote_RejectedForNonceChain()
    {
        using var host = _p.Host();
        var vm = host.Agents[0].VmId;
        var old = _p.Challenger(host.Transport, seed: 1).Attest(vm);
        var mitm = new TamperingTransport(host.Transport) { Bottom = _ => old.BottomResponse };

        var r = _p.Challenger(mitm, seed: 2).Attest(vm).Result;

        Assert.False(r.IsTrusted);
        Assert.False(r.Sameness.Holds);
        Assert.Equal([TvpPcaCheck.NonceChain], r.Failures.Select(f => f.Check));
    }

    [Fact]
    public void Attest_VmQuoteRelayedFromAnotherPlatform_RejectedForSameness()
    {
        using var host = _p.Host();
        using var other = _p.Host(new TvpPcaHostOptions { VmCount = 1, Seed = 2 });
        var vm = host.Agents[0].VmId;
        var otherVm = other.Agents[0].VmId;

        // The compromised VM relays N1 to a genuine VM on another platform and passes its answer off as its own.
        var mitm = new TamperingTransport(host.Transport)
        {
            Top = c => other.Transport.RequestTop(c with { VmId = otherVm }) with { VmId = vm },
        };

        var r = _p.Challenger(mitm).Attest(vm).Result;

        Assert.False(r.IsTrusted);
        Assert.True(r.Top.Holds, string.Join("\n", r.Failures));
        Assert.True(r.Bottom.Holds, string.Join("\n", r.Failures));
        Assert.False(r.Sameness.Holds);
        Assert.False(r[TvpPcaCheck.JunctionEvent].Passed);
        Assert.False(r[TvpPcaCheck.SameHardwareEk].Passed);
        Assert.Contains("BindingMismatch", r[TvpPcaCheck.SameHardwareEk].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Attest_ForgedVEkCertificate_RejectedForSameHardwareEk()
    {
        using var host = _p.Host();
        var agent = host.Agents[0];
        var real = agent.VEk.Certificate;
        var forger = new SoftwareCertificateAuthority("CN=Forged VMEK", DeterministicRandomSource.FromSeed(5), _p.Clock);
        var forged = forger.Issue(real.SubjectName, real.PublicKey, real.Extensions.Where(e => e.Oid?.Value is not "2.5.29.35" and not "2.5.29.14"), TimeSpan.FromDays(30));
        var mitm = new TamperingTransport(host.Transport)
        {
            Top = c =>
            {
                var t = host.Transport.RequestTop(c);
                return t with { VAikChain = [t.VAikChain[0], forged, .. t.VAikChain.Skip(2)] };
            },
        };

        var r = _p.Challenger(mitm).Attest(agent.VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.Equal([TvpPcaCheck.SameHardwareEk], r.Failures.Select(f => f.Check));
        Assert.Contains("vEK → VMEK chain", r[TvpPcaCheck.SameHardwareEk].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Attest_VEkCertifiedByVmekOfAnotherTpm_RejectedForSameHardwareEk()
    {
        using var host = _p.Host();
        using var other = _p.Host(new TvpPcaHostOptions { VmCount = 0, Seed = 3 });
        var agent = host.Agents[0];
        var foreign = other.Credentials.Issue(agent.VTpm, agent.VmId, TvpQtDemo.VTpmCodeIdentity);
        var mitm = new TamperingTransport(host.Transport)
        {
            Top = c =>
            {
                var t = host.Transport.RequestTop(c);
                return t with { VAikChain = [t.VAikChain[0], .. foreign.Chain] };
            },
        };

        var r = _p.Challenger(mitm).Attest(agent.VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.Equal([TvpPcaCheck.SameHardwareEk], r.Failures.Select(f => f.Check));
        Assert.Contains("BindingMismatch", r[TvpPcaCheck.SameHardwareEk].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Attest_ChangedVmmLayer_RejectedForPlatformReferenceValues()
    {
        using var host = _p.Host(new TvpPcaHostOptions { VmCount = 1, PlatformProfile = TvpPcaHost.ChangedPlatformProfile(PlatformComponentKind.Vmm) });

        var r = _p.Challenger(host.Transport).Attest(host.Agents[0].VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.False(r.Bottom.Holds);
        Assert.True(r.Top.Holds);
        Assert.True(r.Sameness.Holds);
        Assert.Equal([TvpPcaCheck.PlatformReferenceValues], r.Failures.Select(f => f.Check));
    }

    [Fact]
    public void Attest_GuestLogDoesNotReplay_RejectedForGuestLogReplay()
    {
        using var host = _p.Host();
        var agent = host.Agents[0];

        // Code ran in the guest without being logged: the vPCR moved, the log did not.
        agent.VTpm.PcrExtend(GuestBootProfile.DefaultPcr(GuestComponentKind.Kernel), TpmAlgId.Sha256, new byte[32]);

        var r = _p.Challenger(host.Transport).Attest(agent.VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.False(r.Top.Holds);
        Assert.False(r[TvpPcaCheck.GuestLogReplay].Passed);
        Assert.True(r.Bottom.Holds);
        Assert.True(r.Sameness.Holds);
    }

    [Fact]
    public void Attest_MissingJunctionEvent_RejectedForJunctionEvent()
    {
        using var host = _p.Host(new TvpPcaHostOptions { VmCount = 2, UnannouncedVms = [1] });
        var challenger = _p.Challenger(host.Transport);

        Assert.True(challenger.Attest(host.Agents[0].VmId).Result.IsTrusted);
        var r = challenger.Attest(host.Agents[1].VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.False(r.Sameness.Holds);
        Assert.False(r[TvpPcaCheck.JunctionEvent].Passed);
        Assert.True(r.Top.Holds);
    }

    [Fact]
    public void Attest_ChallengerAsksForVPcrs_AgentQuotesExactlyThem()
    {
        using var host = _p.Host();
        var asked = PcrSelectionList.Create(TpmAlgId.Sha256, TopChallenge.DefaultPcrs.Enumerate().Select(p => p.Pcr).Append(16)); // the guest chain and the (unused) debug PCR
        var challenger = new Challenger(host.Transport, TvpPcaHost.CreateVerifier(_p.Pca, _p.Clock, TvpPcaHost.ExpectedReferences), DeterministicRandomSource.FromSeed(4)) { Pcrs = asked };

        var a = challenger.Attest(host.Agents[0].VmId);

        Assert.True(a.Result.IsTrusted, string.Join("\n", a.Result.Failures));
        var quoted = Assert.IsType<QuoteInfo>(TpmsAttest.Parse(a.TopResponse.Quote.Attest).Attested).PcrSelect;
        Assert.Equal(asked.Enumerate(), quoted.Enumerate());
        Assert.True(a.Result[TvpPcaCheck.VPcrSelection].Passed);
    }

    [Fact]
    public void Attest_AgentQuotesFewerVPcrsThanAsked_RejectedForVPcrSelection()
    {
        using var host = _p.Host();
        var mitm = new TamperingTransport(host.Transport)
        {
            Top = c => host.Transport.RequestTop(c with { Pcrs = PcrSelectionList.Create(TpmAlgId.Sha256, 0) }),
        };

        var r = _p.Challenger(mitm).Attest(host.Agents[0].VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.False(r[TvpPcaCheck.VPcrSelection].Passed);
        Assert.Contains("missing", r[TvpPcaCheck.VPcrSelection].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Attest_ChallengeSelectionWidenedOnTheWire_RejectedForVPcrSelection()
    {
        // A man in the middle adds vPCR 8 (at reset, no event): the quote answers another question.
        using var host = _p.Host();
        var mitm = new TamperingTransport(host.Transport)
        {
            Top = c => host.Transport.RequestTop(c with { Pcrs = PcrSelectionList.Create(TpmAlgId.Sha256, c.Pcrs.Enumerate().Select(p => p.Pcr).Append(8)) }),
        };

        var r = _p.Challenger(mitm).Attest(host.Agents[0].VmId).Result;

        Assert.Equal([TvpPcaCheck.VPcrSelection], r.Failures.Select(f => f.Check));
        Assert.Contains("not asked Sha256:8", r[TvpPcaCheck.VPcrSelection].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Attest_ExtraIplEventInPlatformPcr8_RejectedForPlatformReferenceValues()
    {
        // Default deny, inherited from TvpQtVerifier: an "evil module" measured into PCR 8 and logged as EV_IPL.
        using var host = _p.Host();
        var evil = "evil.ko"u8.ToArray();
        var digests = host.Platform.Banks.Select(b => new TpmtHa(b, TpmHash.Hash(b, evil))).ToArray();
        host.Hardware.PcrExtend(8, digests);
        var mitm = new TamperingTransport(host.Transport)
        {
            Bottom = b =>
            {
                var parsed = TcgEventLog.Parse(b.PlatformEventLog);
                var writer = new TcgEventLogWriter(parsed.SpecId.DigestSizes.Select(d => d.Algorithm));
                foreach (var e in parsed.Events)
                {
                    writer.AddEventWithDigests(e.PcrIndex, e.EventType, e.Digests, e.EventData);
                    if (TvpQtEventData.TryParse(e) is { Tag: TvpQtEventTag.Component } d && d["name"] == "vmm")
                    {
                        writer.AddEventWithDigests(8, TcgEventType.Ipl, digests, evil);
                    }
                }

                return b with { PlatformEventLog = writer.ToArray() };
            },
        };

        var r = _p.Challenger(mitm).Attest(host.Agents[0].VmId).Result;

        Assert.Equal([TvpPcaCheck.PlatformReferenceValues], r.Failures.Select(f => f.Check));
        Assert.Contains("event #4 (PCR 8, EV_IPL, ", r[TvpPcaCheck.PlatformReferenceValues].Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("restricted cleared")]
    [InlineData("fixedTPM cleared")]
    [InlineData("decrypt set")]
    [InlineData("nameAlg SHA-384")]
    [InlineData("scheme ECDSA-SHA384")]
    [InlineData("userWithAuth cleared")]
    public void Attest_VAikPublicAreaAltered_RejectedForVAikCertificate(string change)
    {
        // Issue 19, finding 3: same public point, other TPM attributes; the vTPM's signature still verifies with it.
        using var host = _p.Host();
        var mitm = new TamperingTransport(host.Transport)
        {
            Top = c =>
            {
                var t = host.Transport.RequestTop(c);
                return t with { Quote = t.Quote with { SigningKey = Alter(t.Quote.SigningKey, change) } };
            },
        };

        var r = _p.Challenger(mitm).Attest(host.Agents[0].VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.False(r[TvpPcaCheck.VAikCertificate].Passed, r[TvpPcaCheck.VAikCertificate].Reason);
        Assert.Contains("certifies TPM key Name", r[TvpPcaCheck.VAikCertificate].Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("restricted cleared")]
    [InlineData("nameAlg SHA-384")]
    [InlineData("scheme ECDSA-SHA384")]
    public void Attest_HardwareAikPublicAreaAltered_RejectedForAikCertificate(string change)
    {
        using var host = _p.Host();
        var mitm = new TamperingTransport(host.Transport) { Bottom = b => b with { Quote = b.Quote with { SigningKey = Alter(b.Quote.SigningKey, change) } } };

        var r = _p.Challenger(mitm).Attest(host.Agents[0].VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.False(r[TvpPcaCheck.AikCertificate].Passed, r[TvpPcaCheck.AikCertificate].Reason);
        Assert.Contains("certifies TPM key Name", r[TvpPcaCheck.AikCertificate].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Attest_VAikWithOffCurvePoint_RejectedNotThrown()
    {
        // Issue 19, finding 4: the challenger used to die with an exception out of ExportSubjectPublicKeyInfo.
        using var host = _p.Host();
        var mitm = new TamperingTransport(host.Transport)
        {
            Top = c =>
            {
                var t = host.Transport.RequestTop(c);
                var point = (EccPoint)t.Quote.SigningKey.Unique;
                var y = (byte[])point.Y.Clone();
                y[^1] ^= 1;
                return t with { Quote = t.Quote with { SigningKey = t.Quote.SigningKey.WithUnique(new EccPoint(point.X, y)) } };
            },
        };

        var r = _p.Challenger(mitm).Attest(host.Agents[0].VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.False(r[TvpPcaCheck.TopQuote].Passed);
        Assert.Contains("not a usable public key", r[TvpPcaCheck.VAikCertificate].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Attest_VEkWithOffCurvePoint_RejectedNotThrown()
    {
        using var host = _p.Host();
        var mitm = new TamperingTransport(host.Transport)
        {
            Top = c =>
            {
                var t = host.Transport.RequestTop(c);
                var point = (EccPoint)t.VEkPublic.Unique;
                return t with { VEkPublic = t.VEkPublic.WithUnique(new EccPoint(point.X[1..], point.Y)) };
            },
        };

        var r = _p.Challenger(mitm).Attest(host.Agents[0].VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.False(r[TvpPcaCheck.SameHardwareEk].Passed);
        Assert.False(r[TvpPcaCheck.JunctionEvent].Passed);
    }

    private static TpmtPublic Alter(TpmtPublic key, string change)
    {
        var ecc = (EccParms)key.Parameters;
        return change switch
        {
            "restricted cleared" => key with { ObjectAttributes = key.ObjectAttributes & ~TpmaObject.Restricted },
            "fixedTPM cleared" => key with { ObjectAttributes = key.ObjectAttributes & ~TpmaObject.FixedTpm },
            "decrypt set" => key with { ObjectAttributes = key.ObjectAttributes | TpmaObject.Decrypt },
            "userWithAuth cleared" => key with { ObjectAttributes = key.ObjectAttributes & ~TpmaObject.UserWithAuth },
            "nameAlg SHA-384" => key with { NameAlg = TpmAlgId.Sha384 },
            "scheme ECDSA-SHA384" => key with { Parameters = ecc with { Scheme = new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha384) } },
            _ => throw new ArgumentOutOfRangeException(nameof(change)),
        };
    }

    [Fact]
    public void ChainNonce_IsSha256OfN1AndTopQuote()
    {
        byte[] n1 = [1, 2, 3];
        byte[] quote = [4, 5];
        Assert.Equal(System.Security.Cryptography.SHA256.HashData([1, 2, 3, 4, 5]), Challenger.ChainNonce(n1, quote));
    }
}
