namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_Policy* (Part 3 §23).</summary>
internal sealed class PolicyCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
    }
}
