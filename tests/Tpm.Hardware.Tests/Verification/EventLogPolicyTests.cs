using System.Text;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

public sealed class EventLogPolicyTests
{
    private static readonly TpmAlgId[] Sha256Only = [TpmAlgId.Sha256];

    [Fact]
    public void Appraise_EventsFromWriter_AllowsOnlyWhatTheRulesName()
    {
        var log = TcgEventLog.Parse(new TcgEventLogWriter(TpmAlgId.Sha1, TpmAlgId.Sha256)
            .AddEvent(0, TcgEventType.NoAction, "StartupLocality\0\0"u8)
            .AddEvent(0, TcgEventType.Separator, [0, 0, 0, 0])
            .AddEvent(4, TcgEventType.EfiAction, "Calling EFI Application from Boot Option"u8)
            .AddMeasurement(8, TcgEventType.Ipl, "grub.cfg contents"u8, "grub.cfg"u8)
            .AddMeasurement(9, TcgEventType.Ipl, "an unknown file"u8, "/boot/x"u8)
            .ToArray());
        var policy = new EventLogPolicy([
            EventAllowRule.NoAction,
            EventAllowRule.Separator,
            EventAllowRule.ForEventData("boot-option", [4], TcgEventType.EfiAction, ["Calling EFI Application from Boot Option"u8.ToArray()]),
            EventAllowRule.ForDigests("grub-config", [8], TcgEventType.Ipl, [new TpmtHa(TpmAlgId.Sha256, TpmHash.Hash(TpmAlgId.Sha256, "grub.cfg contents"u8))]),
        ]);

        var appraisal = policy.Appraise(log.Events, Sha256Only);

        Assert.Equal(["no-action", "separator", "boot-option", "grub-config"], appraisal.Allowed.Select(a => a.Rule.Name));
        var unattributed = Assert.Single(appraisal.Unattributed);
        Assert.Equal(5, unattributed.Index);
        Assert.StartsWith("event #5 (PCR 9, EV_IPL, sha1:", unattributed.Reason, StringComparison.Ordinal);
        Assert.EndsWith("has no reference value or policy rule that allows it", unattributed.Reason, StringComparison.Ordinal);
        Assert.False(appraisal.IsClean);
    }

    [Fact]
    public void Appraise_CallerAttributesAnEvent_SkipsTheRules()
    {
        var log = TcgEventLog.Parse(new TcgEventLogWriter(TpmAlgId.Sha256).AddEvent(9, TcgEventType.Ipl, "kernel"u8).ToArray());

        var appraisal = EventLogPolicy.DenyAll.Appraise(log.Events, Sha256Only, (index, _) => index == 1);

        Assert.True(appraisal.IsClean);
        Assert.Empty(appraisal.Allowed);
    }

    [Fact]
    public void Matches_SeparatorWhoseDigestIsNotItsData_NotAllowed()
    {
        // A separator that claims 00000000 but extended something else is not a separator.
        var e = new TcgEvent(0, 4, TcgEventType.Separator, [new TpmtHa(TpmAlgId.Sha256, TpmHash.Hash(TpmAlgId.Sha256, "payload"u8))], [0, 0, 0, 0]);

        Assert.False(EventAllowRule.Separator.Matches(e, Sha256Only));
        Assert.True(EventAllowRule.Separator.Matches(e with { Digests = [new TpmtHa(TpmAlgId.Sha256, TpmHash.Hash(TpmAlgId.Sha256, [0, 0, 0, 0]))] }, Sha256Only));
        Assert.False(EventAllowRule.Separator.Matches(e with { PcrIndex = 8, Digests = [new TpmtHa(TpmAlgId.Sha256, TpmHash.Hash(TpmAlgId.Sha256, [0, 0, 0, 0]))] }, Sha256Only));
    }

    [Fact]
    public void Matches_NoActionWithNonZeroDigest_NotAllowed()
    {
        var e = new TcgEvent(0, 0, TcgEventType.NoAction, [new TpmtHa(TpmAlgId.Sha256, new byte[32])], "vendor"u8.ToArray());
        var bad = new byte[32];
        bad[31] = 1;

        Assert.True(EventAllowRule.NoAction.Matches(e, Sha256Only));
        Assert.False(EventAllowRule.NoAction.Matches(e with { Digests = [new TpmtHa(TpmAlgId.Sha256, bad)] }, Sha256Only));
    }

    [Fact]
    public void Matches_DigestRuleWithoutTheAppraisedBank_NotAllowed()
    {
        // The rule vouches for a SHA-1 digest; the quote covers SHA-256, whose digest the rule cannot vouch for.
        var e = new TcgEvent(0, 8, TcgEventType.Ipl, [new TpmtHa(TpmAlgId.Sha1, TpmHash.Hash(TpmAlgId.Sha1, "x"u8)), new TpmtHa(TpmAlgId.Sha256, TpmHash.Hash(TpmAlgId.Sha256, "x"u8))], []);
        var rule = EventAllowRule.ForDigests("sha1-only", [8], TcgEventType.Ipl, [new TpmtHa(TpmAlgId.Sha1, TpmHash.Hash(TpmAlgId.Sha1, "x"u8))]);

        Assert.False(rule.Matches(e, Sha256Only));
        Assert.True(rule.Matches(e, [TpmAlgId.Sha1]));
    }

    [Fact]
    public void ToJson_EveryKindOfRule_RoundTrips()
    {
        var policy = new EventLogPolicy([
            EventAllowRule.Separator,
            EventAllowRule.NoAction,
            EventAllowRule.ForDigests("shim", [4], TcgEventType.EfiBootServicesApplication, [new TpmtHa(TpmAlgId.Sha256, new byte[32]), new TpmtHa(TpmAlgId.Sha1, new byte[20])]),
            EventAllowRule.ForEventData("exit-boot-services", [5], TcgEventType.EfiAction, ["Exit Boot Services Invocation"u8.ToArray()]),
            EventAllowRule.AnyDigestOf("any-ipl-in-8", [8], TcgEventType.Ipl),
        ]);

        var json = policy.ToJson();
        var read = EventLogPolicy.FromJson(json);

        Assert.Equal(json, read.ToJson());
        Assert.Same(EventAllowRule.Separator, read.Rules[0]);
        Assert.Same(EventAllowRule.NoAction, read.Rules[1]);
        Assert.Contains("\"eventType\": \"EV_EFI_BOOT_SERVICES_APPLICATION\"", json, StringComparison.Ordinal);
        Assert.True(read.Rules[4].AnyDigest);
    }

    [Theory]
    [InlineData("{}", "must be an array")]
    [InlineData("[{\"rule\":\"everything\"}]", "not a named rule")]
    [InlineData("[{\"rule\":\"separator\",\"pcrs\":[1]}]", "only the field")]
    [InlineData("[{\"name\":\"x\",\"pcrs\":[32],\"eventType\":\"EV_IPL\",\"anyDigest\":true}]", "not a PCR index")]
    [InlineData("[{\"name\":\"x\",\"pcrs\":[-1],\"eventType\":\"EV_IPL\",\"anyDigest\":true}]", "not a PCR index")]
    [InlineData("[{\"name\":\"x\",\"pcrs\":[8],\"eventType\":\"EV_NOT_A_TYPE\",\"anyDigest\":true}]", "not an event type")]
    [InlineData("[{\"name\":\"x\",\"pcrs\":[8],\"anyDigest\":true}]", "names its eventType")]
    [InlineData("[{\"name\":\"x\",\"pcrs\":[],\"eventType\":\"EV_IPL\",\"anyDigest\":true}]", "names its PCRs")]
    [InlineData("[{\"name\":\"x\",\"pcrs\":[8],\"digests\":{\"sha256\":[\"00\"]}}]", "has 32 octets, not 1")]
    [InlineData("[{\"name\":\"x\",\"pcrs\":[8],\"digests\":{\"md5\":[]}}]", "not a bank")]
    [InlineData("[{\"name\":\"x\",\"pcrs\":[8],\"digests\":{\"sha256\":[]}}]", "at least one digest")]
    [InlineData("[{\"name\":\"x\",\"pcrs\":[8],\"digests\":{\"sha256\":[\"zz\"]}}]", "not hex")]
    [InlineData("[{\"name\":\"x\",\"pcrs\":[8],\"eventType\":\"EV_IPL\",\"digests\":{},\"anyDigest\":true}]", "exactly one of")]
    [InlineData("[{\"name\":\"\",\"anyDigest\":true}]", "non-empty string")]
    [InlineData("[{\"name\":\"x\",\"typo\":1}]", "not a field of a rule")]
    [InlineData("[1]", "must be an object")]
    [InlineData("[", "not JSON")]
    public void FromJson_MalformedRule_ThrowsFormatExceptionSayingWhere(string json, string expected)
    {
        var e = Assert.Throws<FormatException>(() => EventLogPolicy.FromJson(json));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromJson_NumericEventType_Accepted()
    {
        var policy = EventLogPolicy.FromJson("[{\"name\":\"vendor\",\"pcrs\":[1],\"eventType\":\"0x800000ff\",\"anyDigest\":true}]");

        Assert.Equal((TcgEventType)0x800000ff, policy.Rules[0].EventType);
        Assert.Contains("\"0x800000ff\"", policy.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_EventWithTwoBanks_NamesIndexPcrTypeAndEveryDigest()
    {
        var e = new TcgEvent(0, 14, TcgEventType.EfiVariableDriverConfig, [new TpmtHa(TpmAlgId.Sha1, new byte[20]), new TpmtHa(TpmAlgId.Sha256, Enumerable.Repeat((byte)0xab, 32).ToArray())], Encoding.UTF8.GetBytes("SecureBoot"));

        Assert.Equal($"event #12 (PCR 14, EV_EFI_VARIABLE_DRIVER_CONFIG, sha1:{new string('0', 40)}, sha256:{string.Concat(Enumerable.Repeat("ab", 32))})", EventLogPolicy.Describe(12, e));
    }

    [Fact]
    public void ForDigests_BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => EventAllowRule.ForDigests(" ", [], null, [new TpmtHa(TpmAlgId.Sha256, new byte[32])]));
        Assert.Throws<ArgumentException>(() => EventAllowRule.ForDigests("x", [], null, []));
        Assert.Throws<ArgumentException>(() => EventAllowRule.ForDigests("x", [], null, [new TpmtHa(TpmAlgId.Sha256, new byte[31])]));
        Assert.Throws<ArgumentOutOfRangeException>(() => EventAllowRule.ForDigests("x", [32], null, [new TpmtHa(TpmAlgId.Sha256, new byte[32])]));
    }
}
