namespace TrustStack.Tpm.Hardware;

/// <summary>
/// A TPM reached by command bytes: the in-process engine, swtpm or mssim over TCP, or a kernel
/// device. Implementations are safe for one caller at a time unless they say otherwise.
/// </summary>
public interface ITpmTransport : IDisposable
{
    /// <summary>Sends one marshalled command and returns the marshalled response.</summary>
    /// <exception cref="IOException">The TPM could not be reached.</exception>
    byte[] Execute(ReadOnlySpan<byte> command);
}
