namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_StartAuthSession (Part 3 §11).</summary>
internal sealed class SessionCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
    }
}
