namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class HashCommandsTests : IDisposable
{
    private readonly SoftwareTpm _tpm = new(new SoftwareTpmOptions { Seed = 1, AutoStartup = true });
    private readonly Tpm2 _client;

    public HashCommandsTests() => _client = new Tpm2(_tpm);

    public void Dispose() => _tpm.Dispose();

    private (byte[] Digest, TpmtTicket Ticket) Hash(byte[] data, TpmAlgId alg, uint hierarchy)
    {
        var r = _client.Execute(TpmCc.Hash, [], [], w =>
        {
            w.WriteTpm2b(data);
            w.WriteAlg(alg);
            w.WriteU32(hierarchy);
        }).Reader();
        var digest = r.ReadTpm2b();
        var ticket = TpmtTicket.Unmarshal(ref r);
        r.EnsureConsumed();
        return (digest, ticket);
    }

    private TpmRc Fails(byte[] data, TpmAlgId alg, uint hierarchy) =>
        Assert.Throws<TpmException>(() => Hash(data, alg, hierarchy)).ResponseCode;

    [Theory]
    [InlineData(TpmAlgId.Sha1)]
    [InlineData(TpmAlgId.Sha256)]
    [InlineData(TpmAlgId.Sha384)]
    [InlineData(TpmAlgId.Sha512)]
    public void Hash_Data_ReturnsDigestAndAValidOwnerTicket(TpmAlgId alg)
    {
        var (digest, ticket) = Hash("message"u8.ToArray(), alg, TpmRh.Owner);
        Assert.Equal(TpmHash.Hash(alg, "message"u8), digest);
        Assert.Equal(TpmSt.Hashcheck, ticket.Tag);
        Assert.Equal(TpmRh.Owner, ticket.Hierarchy);
        Assert.Equal(32, ticket.Digest.Length);
        Assert.True(Tickets.IsValidHashCheck(_tpm.State, ticket, digest));
    }

    [Fact]
    public void HashCheckTicketDigest_IsHmacOfTagAndDigestUnderTheHierarchyProof()
    {
        var digest = TpmHash.Hash(TpmAlgId.Sha256, "m"u8);
        var proof = _tpm.State.EhProof!.Reveal();
        var expected = TpmHash.Hmac(TpmAlgId.Sha256, proof, [0x80, 0x24], digest);
        Assert.Equal(expected, Tickets.HashCheckDigest(_tpm.State, TpmRh.Endorsement, digest));
        Assert.Equal(expected, Hash("m"u8.ToArray(), TpmAlgId.Sha256, TpmRh.Endorsement).Ticket.Digest);
    }

    [Fact]
    public void IsValidHashCheckTicket_OtherDigestOrHierarchy_IsFalse()
    {
        var (digest, ticket) = Hash("message"u8.ToArray(), TpmAlgId.Sha256, TpmRh.Owner);
        Assert.False(Tickets.IsValidHashCheck(_tpm.State, ticket, TpmHash.Hash(TpmAlgId.Sha256, "other"u8)));
        Assert.False(Tickets.IsValidHashCheck(_tpm.State, ticket with { Hierarchy = TpmRh.Endorsement }, digest));
        Assert.False(Tickets.IsValidHashCheck(_tpm.State, TpmtTicket.NullHashCheck, digest));
    }

    [Fact]
    public void Hash_NullHierarchy_ReturnsNullTicket()
    {
        var (_, ticket) = Hash("message"u8.ToArray(), TpmAlgId.Sha256, TpmRh.Null);
        Assert.Equal(TpmtTicket.NullHashCheck.Tag, ticket.Tag);
        Assert.Equal(TpmRh.Null, ticket.Hierarchy);
        Assert.Empty(ticket.Digest);
    }

    /// <summary>Data that starts with TPM_GENERATED_VALUE could be a forged TPMS_ATTEST: it gets no ticket (Part 3 §15.4).</summary>
    [Fact]
    public void Hash_DataStartingWithTpmGeneratedValue_ReturnsNullTicket()
    {
        var (digest, ticket) = Hash([0xFF, 0x54, 0x43, 0x47, 0x80, 0x18], TpmAlgId.Sha256, TpmRh.Owner);
        Assert.Equal(TpmHash.Hash(TpmAlgId.Sha256, [0xFF, 0x54, 0x43, 0x47, 0x80, 0x18]), digest);
        Assert.Equal(TpmRh.Null, ticket.Hierarchy);
        Assert.Empty(ticket.Digest);
    }

    [Fact]
    public void Hash_ShortDataLikeThePrefix_GetsATicket()
    {
        Assert.Equal(TpmRh.Owner, Hash([0xFF, 0x54, 0x43], TpmAlgId.Sha256, TpmRh.Owner).Ticket.Hierarchy);
    }

    [Theory]
    [InlineData(TpmAlgId.Null)]
    [InlineData(TpmAlgId.Sm3256)]
    [InlineData(TpmAlgId.Aes)]
    public void Hash_NotAnImplementedHash_ReturnsHashParameter2(TpmAlgId alg)
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Hash, 2), Fails([1], alg, TpmRh.Owner));
    }

    [Theory]
    [InlineData(TpmRh.Lockout)]
    [InlineData(TpmRh.Password)]
    [InlineData(0x81000001u)]
    public void Hash_NotAHierarchy_ReturnsValueParameter3(uint hierarchy)
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 3), Fails([1], TpmAlgId.Sha256, hierarchy));
    }

    [Fact]
    public void Hash_MoreThan1024Octets_ReturnsSizeParameter1()
    {
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), Fails(new byte[1025], TpmAlgId.Sha256, TpmRh.Owner));
    }
}
