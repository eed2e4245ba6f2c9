using FsCheck.Xunit;

namespace TrustStack.VTpm.Core.TrustChain.Tests;

public class TvpQtEventDataTests
{
    [Fact]
    public void ToBytes_Component_IsTaggedEventWithCanonicalLines()
    {
        var bytes = TvpQtEventData.ForComponent(3, "vmm", "Vmm", "boot-loader").ToBytes();

        Assert.Equal("0151565430000000", Convert.ToHexStringLower(bytes[..8]));
        Assert.Equal("seq=3\nname=vmm\nkind=Vmm\nmeasured-by=boot-loader\n", System.Text.Encoding.UTF8.GetString(bytes[8..]));
    }

    [Fact]
    public void TryParse_RoundTrip_GivesTheSameFields()
    {
        var launch = new VTpmLaunch(Guid.Parse("00000000-0000-4000-8000-000000000001"), new byte[32], new byte[32], [0x00, 0x0b, .. new byte[32]]);
        var data = TvpQtEventData.ForLaunch(2, launch, "trusted-junction-point");

        var parsed = TvpQtEventData.TryParse(data.ToBytes());

        Assert.NotNull(parsed);
        Assert.Equal(data.Fields, parsed.Fields);
        Assert.Equal("00000000-0000-4000-8000-000000000001", parsed["vm"]);
        Assert.Equal(2, parsed.Sequence);
    }

    [Fact]
    public void ForComponent_NameWithLineFeed_Throws() =>
        Assert.Throws<ArgumentException>(() => TvpQtEventData.ForComponent(1, "vmm\nname=evil", "Vmm", "crtm"));

    [Fact]
    public void TryParse_FieldsOutOfOrder_ReturnsNull()
    {
        var bytes = TvpQtEventData.ForComponent(1, "vmm", "Vmm", "crtm").ToBytes();
        var text = "name=vmm\nseq=1\nkind=Vmm\nmeasured-by=crtm\n"u8.ToArray();
        byte[] swapped = [.. bytes[..8], .. text];

        Assert.Null(TvpQtEventData.TryParse(swapped));
    }

    [Property]
    public bool TryParse_AnyBytes_NeverThrows(byte[] data)
    {
        _ = TvpQtEventData.TryParse(data ?? []);
        byte[] tagged = [0x01, 0x51, 0x56, 0x54, .. BitConverter.GetBytes((data ?? []).Length), .. data ?? []];
        _ = TvpQtEventData.TryParse(tagged);
        return true;
    }
}
