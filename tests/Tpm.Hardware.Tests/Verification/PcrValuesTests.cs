using System.Buffers.Binary;
using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

public sealed class PcrValuesTests
{
    private static readonly PcrSelectionList Selection = PcrSelectionList.Parse("sha256:0,1,2,3+sha1:0");

    [Fact]
    public void ParseSerialized_HandBuiltFile_ReadsTheCStructLayout()
    {
        // Layout observed from tpm2_quote -F serialized (tpm2-tools 5.4, x86-64): count, then
        // TPMS_PCR_SELECTION as {u16 hash, u8 sizeofSelect, u8 pcrSelect[4], u8 pad}, 16 of them.
        var file = new byte[132 + 4 + 532];
        BinaryPrimitives.WriteUInt32LittleEndian(file, 2);
        new byte[] { 0x0b, 0x00, 0x03, 0x0f, 0x00, 0x00, 0x00, 0xEE }.CopyTo(file, 4);   // sha256:0-3, padding octet is ignored
        new byte[] { 0x04, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x00 }.CopyTo(file, 12);  // sha1:0
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(132), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(136), 5);
        for (var i = 0; i < 5; i++)
        {
            var at = 140 + (i * 66);
            var size = i < 4 ? 32 : 20;
            BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(at), (ushort)size);
            file.AsSpan(at + 2, size).Fill((byte)(i + 1));
        }

        var values = PcrValues.ParseSerialized(file, out var selection);

        Assert.Equal(Selection.Enumerate(), selection.Enumerate());
        Assert.Equal(Enumerable.Repeat((byte)3, 32), values[TpmAlgId.Sha256, 2]);
        Assert.Equal(Enumerable.Repeat((byte)5, 20), values[TpmAlgId.Sha1, 0]);
        Assert.Equal(file.AsSpan(0, 11).ToArray(), values.ToSerializedFormat(selection).AsSpan(0, 11).ToArray());
    }

    [Fact]
    public void ParseValues_SplitsInSelectionOrder()
    {
        var data = Enumerable.Range(0, (4 * 32) + 20).Select(i => (byte)i).ToArray();

        var values = PcrValues.ParseValues(data, Selection);

        Assert.Equal(data[32..64], values[TpmAlgId.Sha256, 1]);
        Assert.Equal(data[128..], values[TpmAlgId.Sha1, 0]);
    }

    [Fact]
    public void ParseValues_WrongLength_ThrowsFormatException()
    {
        var e = Assert.Throws<FormatException>(() => PcrValues.ParseValues(new byte[147], Selection));

        Assert.Contains("148", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseSerialized_DigestSizeNotTheBanks_ThrowsFormatException()
    {
        var file = Sample().ToSerializedFormat(Selection);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(140), 20);

        Assert.Throws<FormatException>(() => PcrValues.ParseSerialized(file, out _));
    }

    [Fact]
    public void ParseSerialized_FewerDigestsThanSelected_ThrowsFormatException()
    {
        var file = Sample().ToSerializedFormat(Selection);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(136), 4);

        Assert.Throws<FormatException>(() => PcrValues.ParseSerialized(file, out _));
    }

    [Fact]
    public void ComputeDigest_IsTheHashOfTheValuesInTpmOrder()
    {
        var values = Sample();
        var expected = TpmHash.Hash(TpmAlgId.Sha256, [.. values[TpmAlgId.Sha256, 0], .. values[TpmAlgId.Sha256, 1], .. values[TpmAlgId.Sha256, 2], .. values[TpmAlgId.Sha256, 3], .. values[TpmAlgId.Sha1, 0]]);
        var reversedBanks = PcrSelectionList.Parse("sha1:0+sha256:0,1,2,3");

        Assert.Equal(expected, values.ComputeDigest(Selection, TpmAlgId.Sha256));
        Assert.NotEqual(expected, values.ComputeDigest(reversedBanks, TpmAlgId.Sha256));
    }

    [Fact]
    public void ComputeDigest_MissingValue_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Sample().ComputeDigest(PcrSelectionList.Parse("sha256:7"), TpmAlgId.Sha256));
    }

    [Fact]
    public void With_WrongDigestSize_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => PcrValues.Empty.With(TpmAlgId.Sha256, 0, new byte[20]));
    }

    [Fact]
    public void Indexer_ReturnsACopy()
    {
        var values = Sample();
        values[TpmAlgId.Sha256, 0][0] ^= 0xFF;

        Assert.Equal(Sample(), values);
    }

    [Fact]
    public void ToString_ListsBanksAndPcrsLikeTpm2Tools()
    {
        var text = PcrValues.Empty.With(TpmAlgId.Sha1, 7, new byte[20]).With(TpmAlgId.Sha256, 0, Enumerable.Repeat((byte)0xAB, 32).ToArray()).ToString();

        Assert.Equal($"sha1:\n  7 : 0x{new string('0', 40)}\nsha256:\n  0 : 0x{string.Concat(Enumerable.Repeat("AB", 32))}\n", text);
    }

    [Property(MaxTest = 100)]
    public bool ToSerializedFormat_AnySelectionAndValues_RoundTrips(NonEmptyArray<(bool Sha1, byte Pcr)> picks, int seed)
    {
        var (selection, values) = Build(picks.Get, seed);

        var parsed = PcrValues.ParseSerialized(values.ToSerializedFormat(selection), out var parsedSelection);
        var fromValues = PcrValues.ParseValues(values.ToValuesFormat(selection), selection);

        return parsed.Equals(values) && fromValues.Equals(values) && parsedSelection.Enumerate().SequenceEqual(selection.Enumerate());
    }

    [Property(MaxTest = 300)]
    public void ParseSerialized_AnyMutation_ParsesOrThrowsFormatException(NonNegativeInt position, byte value, NonNegativeInt cut)
    {
        var file = Sample().ToSerializedFormat(Selection);
        file[position.Get % file.Length] = value;
        var truncated = file.AsSpan(0, file.Length - (cut.Get % 3 == 0 ? cut.Get % file.Length : 0)).ToArray();

        try
        {
            PcrValues.ParseSerialized(truncated, out _);
        }
        catch (FormatException)
        {
            // The one typed error.
        }
    }

    private static PcrValues Sample() =>
        PcrValues.Create(Selection.Enumerate().Select(p => (p.Bank, p.Pcr, Enumerable.Repeat((byte)(p.Pcr + (int)p.Bank), TpmHash.DigestSize(p.Bank)).ToArray())));

    private static (PcrSelectionList Selection, PcrValues Values) Build((bool Sha1, byte Pcr)[] picks, int seed)
    {
        var sha256 = picks.Where(p => !p.Sha1).Select(p => p.Pcr % 24).Distinct().ToArray();
        var sha1 = picks.Where(p => p.Sha1).Select(p => p.Pcr % 24).Distinct().ToArray();
        var banks = new List<PcrSelection>();
        if (sha256.Length > 0)
        {
            banks.Add(PcrSelection.Create(TpmAlgId.Sha256, sha256));
        }

        if (sha1.Length > 0)
        {
            banks.Add(PcrSelection.Create(TpmAlgId.Sha1, sha1));
        }

        var selection = new PcrSelectionList(banks);
        var random = new Random(seed);
        var values = PcrValues.Create(selection.Enumerate().Select(p =>
        {
            var digest = new byte[TpmHash.DigestSize(p.Bank)];
            random.NextBytes(digest);
            return (p.Bank, p.Pcr, digest);
        }));
        return (selection, values);
    }
}
