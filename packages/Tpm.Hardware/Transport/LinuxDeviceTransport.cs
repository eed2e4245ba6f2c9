namespace TrustStack.Tpm.Hardware;

/// <summary>
/// A kernel TPM: <c>/dev/tpmrm0</c> (with the kernel's resource manager) or <c>/dev/tpm0</c>.
/// One write of the command, one read of the response.
/// </summary>
public sealed class LinuxDeviceTransport : ITpmTransport
{
    private readonly FileStream _device;

    /// <summary>Opens <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No TPM device at that path (this machine has no kernel TPM, or it is not exposed to this container).</exception>
    /// <exception cref="UnauthorizedAccessException">The device exists but this user may not open it (join the tss group).</exception>
    public LinuxDeviceTransport(string path = "/dev/tpmrm0")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No TPM device at {path}: this machine has no kernel TPM, or it is not exposed here. Use swtpm (--tpm swtpm:host=127.0.0.1,port=2321) or the embedded engine instead.", path);
        }

        Path = path;
        _device = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
    }

    /// <summary>The device path.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        _device.Write(command);
        var buffer = new byte[TpmStreams.MaxBufferSize];
        var n = _device.Read(buffer);
        if (n < 10)
        {
            throw new IOException($"{Path} returned a {n}-octet response");
        }

        return buffer.AsSpan(0, n).ToArray();
    }

    /// <inheritdoc />
    public void Dispose() => _device.Dispose();
}
