namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_NV_* (Part 3 §31).</summary>
internal sealed class NvCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
    }
}
