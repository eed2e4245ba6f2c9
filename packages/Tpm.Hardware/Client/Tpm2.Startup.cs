namespace TrustStack.Tpm.Hardware;

/// <summary>Start-up, self test and randomness commands.</summary>
public sealed partial class Tpm2
{
    /// <summary>TPM2_Startup.</summary>
    /// <exception cref="TpmException">For example TPM_RC_INITIALIZE when already started.</exception>
    public void Startup(TpmSu startupType = TpmSu.Clear) =>
        Execute(TpmCc.Startup, [], [], w => w.WriteU16((ushort)startupType));

    /// <summary>TPM2_Shutdown.</summary>
    public void Shutdown(TpmSu shutdownType = TpmSu.Clear) =>
        Execute(TpmCc.Shutdown, [], [], w => w.WriteU16((ushort)shutdownType));

    /// <summary>TPM2_SelfTest.</summary>
    public void SelfTest(bool fullTest = true) =>
        Execute(TpmCc.SelfTest, [], [], w => w.WriteU8(fullTest ? (byte)1 : (byte)0));

    /// <summary>TPM2_GetRandom: at most 64 octets per call, as the reference implementation.</summary>
    public byte[] GetRandom(ushort bytesRequested)
    {
        var r = Execute(TpmCc.GetRandom, [], [], w => w.WriteU16(bytesRequested)).Reader();
        return r.ReadTpm2b();
    }

    /// <summary>TPM2_StirRandom.</summary>
    public void StirRandom(ReadOnlySpan<byte> data)
    {
        var copy = data.ToArray();
        Execute(TpmCc.StirRandom, [], [], w => w.WriteTpm2b(copy));
    }
}
