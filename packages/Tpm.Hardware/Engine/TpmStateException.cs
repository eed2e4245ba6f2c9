namespace TrustStack.Tpm.Hardware;

/// <summary>A state file of a software TPM cannot be read: corrupt, truncated, or of an unknown version. The engine never resets silently.</summary>
public sealed class TpmStateException : IOException
{
    /// <summary>Creates the exception.</summary>
    public TpmStateException(string path, string reason, Exception? inner = null)
        : base($"TPM state file '{path}' cannot be used: {reason}", inner)
    {
        Path = path;
    }

    /// <summary>The offending file.</summary>
    public string Path { get; }
}
