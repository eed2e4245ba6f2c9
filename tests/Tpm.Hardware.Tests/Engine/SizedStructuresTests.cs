using TrustStack.Tpm.Hardware.Tests.Interop;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

/// <summary>
/// TPM2B-wrapped command structures are read as the reference reads them: the structure from the
/// command buffer, then TPM_RC_SIZE when it did not take exactly the announced octets (not
/// TPM_RC_INSUFFICIENT for a size beyond the buffer). Found by the differential mutation test.
/// </summary>
public sealed class SizedStructuresTests
{
    private static TpmRc ReadSensitiveCreate(byte[] bytes)
    {
        var r = new TpmReader(bytes) { Parameter = 1 };
        try
        {
            SizedStructures.Read(ref r, (ref TpmReader x) => (x.ReadTpm2b(64), x.ReadTpm2b(128)), "TPM2B_SENSITIVE_CREATE");
            return TpmRc.Success;
        }
        catch (TpmException e)
        {
            return e.ResponseCode;
        }
    }

    [Fact]
    public void Read_ExactSize_Succeeds() => Assert.Equal(TpmRc.Success, ReadSensitiveCreate([0, 4, 0, 0, 0, 0]));

    [Theory]
    [InlineData(new byte[] { 0xFF, 0x04, 0, 0, 0, 0 })] // size far beyond the buffer
    [InlineData(new byte[] { 0x00, 0x03, 0, 0, 0, 0 })] // size smaller than the structure
    [InlineData(new byte[] { 0x00, 0x00, 0, 0, 0, 0 })] // empty
    public void Read_SizeDisagreesWithTheStructure_ReturnsSize(byte[] bytes) =>
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), ReadSensitiveCreate(bytes));

    [Fact]
    public void Read_EmptyAllowed_ReturnsDefault()
    {
        var r = new TpmReader([0, 0]);
        Assert.Null(SizedStructures.Read(ref r, TpmtSensitive.Unmarshal, "TPM2B_SENSITIVE", allowEmpty: true));
    }

    [Fact]
    public void CreatePrimary_SensitiveCreateSizeBeyondTheCommand_ReturnsSizeParameter1()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        var command = RawCommands.Build(TpmCc.CreatePrimary, [TpmRh.Owner], [RawSession.Password()], w =>
        {
            w.WriteU16(0xFF04);
            w.WriteU32(0);
            TpmTemplates.SrkEccP256().MarshalSized(w);
            w.WriteTpm2b([]);
            w.WriteU32(0);
        });
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), RawCommands.ResponseCode(tpm.Execute(command)));
    }

    [Fact]
    public void CreatePrimary_SensitiveDataAboveMaxSymData_ReturnsSizeParameter1()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        var command = RawCommands.Build(TpmCc.CreatePrimary, [TpmRh.Owner], [RawSession.Password()], w =>
        {
            new TpmsSensitiveCreate([], new byte[129]).MarshalSized(w);
            TpmTemplates.SrkEccP256().MarshalSized(w);
            w.WriteTpm2b([]);
            w.WriteU32(0);
        });
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Size, 1), RawCommands.ResponseCode(tpm.Execute(command)));
    }
}
