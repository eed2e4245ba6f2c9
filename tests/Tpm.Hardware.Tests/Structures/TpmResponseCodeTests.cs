namespace TrustStack.Tpm.Hardware.Tests.Structures;

public sealed class TpmResponseCodeTests
{
    // TPM 2.0 Part 2 §6.6.3: format-one codes carry N in bits 8..11, P (bit 6) for parameters,
    // bit 11 for sessions.
    [Fact]
    public void Parameter_ValueTwo_Is0x2C4()
    {
        Assert.Equal((TpmRc)0x2C4, TpmResponseCode.Parameter(TpmRc.Value, 2));
    }

    [Fact]
    public void Handle_HandleOne_Is0x18B()
    {
        Assert.Equal((TpmRc)0x18B, TpmResponseCode.Handle(TpmRc.Handle, 1));
    }

    [Fact]
    public void Session_AuthFailOne_Is0x98E()
    {
        Assert.Equal((TpmRc)0x98E, TpmResponseCode.Session(TpmRc.AuthFail, 1));
    }

    [Theory]
    [InlineData(0x2C4u, 0x084u)]
    [InlineData(0x18Bu, 0x08Bu)]
    [InlineData(0x98Eu, 0x08Eu)]
    [InlineData(0x100u, 0x100u)]
    public void Base_QualifiedCode_StripsNumber(uint code, uint expected)
    {
        Assert.Equal((TpmRc)expected, TpmResponseCode.Base((TpmRc)code));
    }

    [Fact]
    public void IsFormatOne_InitializeAndValue_DistinguishesFormats()
    {
        Assert.False(TpmResponseCode.IsFormatOne(TpmRc.Initialize));
        Assert.True(TpmResponseCode.IsFormatOne(TpmRc.Value));
    }

    [Theory]
    [InlineData(0x2C4u, "TPM_RC_VALUE (parameter 2, 0x2c4)")]
    [InlineData(0x18Bu, "TPM_RC_HANDLE (handle 1, 0x18b)")]
    [InlineData(0x98Eu, "TPM_RC_AUTH_FAIL (session 1, 0x98e)")]
    [InlineData(0x100u, "TPM_RC_INITIALIZE (0x100)")]
    [InlineData(0x142u, "TPM_RC_COMMAND_SIZE (0x142)")]
    [InlineData(0x902u, "TPM_RC_OBJECT_MEMORY (0x902)")]
    [InlineData(0x000u, "TPM_RC_SUCCESS (0x000)")]
    public void Describe_Code_NamesCodeAndWhere(uint code, string expected)
    {
        Assert.Equal(expected, TpmResponseCode.Describe((TpmRc)code));
    }

    [Fact]
    public void TpmException_QualifiedCode_ExposesBaseCode()
    {
        var ex = new TpmException(TpmResponseCode.Parameter(TpmRc.Size, 1));

        Assert.Equal(TpmRc.Size, ex.BaseCode);
        Assert.Contains("parameter 1", ex.Message, StringComparison.Ordinal);
    }
}
