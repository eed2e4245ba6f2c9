namespace TrustStack.Vmm.ShadowPaging.Tests;

public sealed class PageTableEntryTests
{
    // Intel SDM Vol. 3A, Table 4-19 (format of a 4-level PTE that maps a 4 KiB page).
    [Theory]
    [InlineData(PageFlags.Present, 0)]
    [InlineData(PageFlags.Writable, 1)]
    [InlineData(PageFlags.User, 2)]
    [InlineData(PageFlags.WriteThrough, 3)]
    [InlineData(PageFlags.CacheDisable, 4)]
    [InlineData(PageFlags.Accessed, 5)]
    [InlineData(PageFlags.Dirty, 6)]
    [InlineData(PageFlags.PageSize, 7)]
    [InlineData(PageFlags.Global, 8)]
    [InlineData(PageFlags.NoExecute, 63)]
    public void Flags_SdmTable4_19_BitPositions(PageFlags flag, int bit) => Assert.Equal(1UL << bit, (ulong)flag);

    [Fact]
    public void Create_FrameAndFlags_RoundTrip()
    {
        var e = PageTableEntry.Create(0x12345, PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute);

        Assert.Equal(0x8000_0000_1234_5003UL, e.Value);
        Assert.Equal(0x12345UL, e.FrameNumber);
        Assert.True(e.IsPresent && e.IsWritable && e.IsNoExecute && !e.IsUser && !e.IsLargePage);
    }

    [Fact]
    public void Create_FrameBeyond40Bits_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PageTableEntry.Create(1UL << 40, PageFlags.Present));

    [Fact]
    public void Index_EachLevel_SelectsNineBits()
    {
        const ulong va = 0xFFFF_8123_4567_8000UL;

        Assert.Equal((int)((va >> 39) & 511), VirtualAddress.Index(va, 4));
        Assert.Equal((int)((va >> 30) & 511), VirtualAddress.Index(va, 3));
        Assert.Equal((int)((va >> 21) & 511), VirtualAddress.Index(va, 2));
        Assert.Equal((int)((va >> 12) & 511), VirtualAddress.Index(va, 1));
        Assert.True(VirtualAddress.IsCanonical(va));
        Assert.False(VirtualAddress.IsCanonical(0x0000_8000_0000_0000UL));
    }
}
