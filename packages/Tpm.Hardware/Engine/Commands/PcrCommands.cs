namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_PCR_Extend, PCR_Event, PCR_Read, PCR_Reset (Part 3 §22).</summary>
internal sealed class PcrCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
    }
}
