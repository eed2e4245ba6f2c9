using FsCheck;
using FsCheck.Fluent;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.Tests.Migration;

public sealed class VTpmStateFormatTests
{
    private static MigrationStatePayload Payload(byte[]? image = null, byte[]? ek = null) =>
        new(Guid.Parse("0d1f4c3a-92d5-4e0b-8a61-1f5e2c9b7a10"), true, [TpmAlgId.Sha256, TpmAlgId.Sha384], image ?? [1, 2, 3], ek);

    [FsCheck.Xunit.Property]
    public Property EncodeDecode_AnyContent_RoundTrips() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), ArbMap.Default.ArbFor<bool>(), (image, live) =>
        {
            var payload = Payload(image ?? []) with { Live = live, EkName = live ? [0, 11, 9] : null };
            var decoded = VTpmStateFormat.Decode(VTpmStateFormat.Encode(payload));
            return decoded.VmId == payload.VmId && decoded.Live == live && decoded.TpmState.SequenceEqual(payload.TpmState) &&
                decoded.PcrBanks.SequenceEqual(payload.PcrBanks) && (decoded.EkName ?? []).SequenceEqual(payload.EkName ?? []);
        });

    [FsCheck.Xunit.Property]
    public Property Decode_TruncatedOrCorrupted_ThrowsOnlyFormatException() =>
        Prop.ForAll(ArbMap.Default.ArbFor<int>(), ArbMap.Default.ArbFor<byte>(), (position, value) =>
        {
            var bytes = VTpmStateFormat.Encode(Payload(new byte[40], [0, 11]));
            var at = (int)(unchecked((uint)position) % (uint)bytes.Length);
            bytes[at] ^= (byte)(value | 1);
            try
            {
                VTpmStateFormat.Decode(bytes.AsSpan(0, at + 1 < bytes.Length ? bytes.Length - (at % 3) : bytes.Length));
                return true;
            }
            catch (FormatException)
            {
                return true;
            }
        });

    [Fact]
    public void Decode_OlderVersion_RefusedAsDowngrade()
    {
        var bytes = VTpmStateFormat.Encode(Payload(), version: 0);

        Assert.Contains("downgrade refused", Assert.Throws<FormatException>(() => VTpmStateFormat.Decode(bytes)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_NewerVersion_Refused()
    {
        var bytes = VTpmStateFormat.Encode(Payload(), version: VTpmStateFormat.CurrentVersion + 1);

        Assert.Contains("is newer than", Assert.Throws<FormatException>(() => VTpmStateFormat.Decode(bytes)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_UnknownOptionalSection_Skipped_UnknownCriticalSection_Refused()
    {
        var bytes = VTpmStateFormat.Encode(Payload(ek: [0, 11, 5]));

        // The EK section (0x8001, optional) is the last one; renumber it.
        var tagAt = bytes.Length - 3 - 4 - 2;
        bytes[tagAt] = 0x80;
        bytes[tagAt + 1] = 0x7F;
        Assert.Null(VTpmStateFormat.Decode(bytes).EkName);
        bytes[tagAt] = 0x00;
        Assert.Contains("unknown critical section 0x007f", Assert.Throws<FormatException>(() => VTpmStateFormat.Decode(bytes)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_NotTheFormat_Refused()
    {
        Assert.Contains("bad magic", Assert.Throws<FormatException>(() => VTpmStateFormat.Decode("TSTPMST1xxxx"u8)).Message, StringComparison.Ordinal);
    }
}
