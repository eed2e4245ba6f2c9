namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_Quote, Certify (Part 3 §18).</summary>
internal sealed class AttestationCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
    }
}
