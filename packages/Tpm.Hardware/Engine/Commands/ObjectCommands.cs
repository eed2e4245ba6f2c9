namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_CreatePrimary, Create, Load, LoadExternal, ReadPublic, Unseal (Part 3 §12, §24).</summary>
internal sealed class ObjectCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
    }
}
