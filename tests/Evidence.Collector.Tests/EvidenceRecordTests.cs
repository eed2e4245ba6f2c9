using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace TrustStack.Evidence.Collector.Tests;

public sealed class EvidenceRecordTests
{
    [Fact]
    public void ToCanonical_FieldsInAnyOrder_SameOctets()
    {
        var a = EvidenceRecord.Create("file", "/etc/hosts", ("sha256", "ab"), ("mode", "0644"));
        var b = EvidenceRecord.Create("file", "/etc/hosts", ("mode", "0644"), ("sha256", "ab"));

        Assert.Equal(a.ToCanonical(), b.ToCanonical());
        Assert.Equal(a, b);
    }

    [Fact]
    public void ToCanonical_KnownRecord_DocumentedLayout()
    {
        var record = EvidenceRecord.Create("t", "s", ("b", "2"), ("a", "1"));

        // "TSEV" 01 | 0001 't' | 0001 's' | 0002 | 0001 'a' 00000001 '1' | 0001 'b' 00000001 '2'
        Assert.Equal("5453455601" + "000174" + "000173" + "0002" + "00016100000001" + "31" + "00016200000001" + "32", Convert.ToHexStringLower(record.ToCanonical()));
    }

    [Fact]
    public void FromCanonical_FieldsOutOfOrder_Rejected()
    {
        var bytes = Convert.FromHexString("5453455601000174000173000200016200000001320001610000000131");

        Assert.Throws<FormatException>(() => EvidenceRecord.FromCanonical(bytes));
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("with space")]
    [InlineData("")]
    public void Constructor_BadFieldName_Throws(string name)
    {
        Assert.Throws<ArgumentException>(() => EvidenceRecord.Create("file", "x", (name, "v")));
    }

    [Fact]
    public void Constructor_RepeatedField_Throws()
    {
        Assert.Throws<ArgumentException>(() => EvidenceRecord.Create("file", "x", ("a", "1"), ("a", "2")));
    }

    [Property(MaxTest = 300)]
    public Property FromCanonical_OfToCanonical_RoundTrips(NonNull<string> subject, NonNull<string>[] values)
    {
        var record = new EvidenceRecord("t", subject.Get, values.Select((v, i) => KeyValuePair.Create($"f{i}", v.Get)));
        var valid = !subject.Get.Any(char.IsSurrogate) && !values.Any(v => v.Get.Any(char.IsSurrogate));
        return (!valid || EvidenceRecord.FromCanonical(record.ToCanonical()).Equals(record)).ToProperty();
    }

    [Property(MaxTest = 500)]
    public void FromCanonical_AnyMutation_DecodesOrThrowsFormatException(NonNegativeInt position, byte value)
    {
        var bytes = EvidenceRecord.Create("process", "pid:1", ("comm", "init"), ("exe", "/sbin/init")).ToCanonical();
        bytes[position.Get % bytes.Length] = value;
        try
        {
            _ = EvidenceRecord.FromCanonical(bytes);
        }
        catch (FormatException)
        {
            // The one typed error.
        }
    }
}
