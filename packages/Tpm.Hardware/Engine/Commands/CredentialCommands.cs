namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_MakeCredential, ActivateCredential (Part 3 §12.5-12.6).</summary>
internal sealed class CredentialCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
    }
}
