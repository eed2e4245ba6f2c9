namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_GetCapability (Part 3 §30).</summary>
internal sealed class CapabilityCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
    }
}
