namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_Sign, VerifySignature, Hash (Part 3 §20, §15).</summary>
internal sealed class SigningCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
    }
}
