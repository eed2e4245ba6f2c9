namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_ContextSave, ContextLoad, FlushContext, EvictControl (Part 3 §28).</summary>
internal sealed class ContextCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
    }
}
