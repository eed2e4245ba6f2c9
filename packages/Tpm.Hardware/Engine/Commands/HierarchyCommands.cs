namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_Clear, HierarchyChangeAuth (Part 3 §24).</summary>
internal sealed class HierarchyCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
    }
}
