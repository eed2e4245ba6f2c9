using System.Buffers.Binary;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// A kernel TPM: <c>/dev/tpmrm0</c> (with the kernel's resource manager) or <c>/dev/tpm0</c>.
/// One write of the command, one read of the response.
/// </summary>
/// <remarks>
/// The kernel driver bounds each command itself (drivers/char/tpm: 120 s by default, 300 s for
/// key generation) and answers a timed-out command with an error, so this transport sets no timer
/// of its own. Like the socket transports it never writes a command twice: a failed write or read
/// is a <see cref="TpmTransportException"/>.
/// </remarks>
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
    /// <exception cref="TpmTransportException">The device refused the command or returned a malformed response; the command was not written again.</exception>
    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        var peer = $"device {Path}";
        try
        {
            _device.Write(command);
        }
        catch (IOException e)
        {
            // The kernel takes a command whole or not at all (tpm_common_write).
            throw new TpmTransportException(peer, TpmTransportFailure.ConnectionClosed, false, $"the device refused the command ({e.Message})", e);
        }

        var buffer = new byte[TpmStreams.MaxBufferSize];
        int n;
        try
        {
            n = _device.Read(buffer);
        }
        catch (IOException e)
        {
            throw new TpmTransportException(peer, TpmTransportFailure.ConnectionClosed, true, $"reading the response failed ({e.Message})", e);
        }

        if (n < 10 || BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(2)) != n)
        {
            throw new TpmTransportException(peer, TpmTransportFailure.MalformedResponse, true, n < 10
                ? $"the device returned a {n}-octet response"
                : $"the device returned {n} octets for a response of size {BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(2))}");
        }

        return buffer.AsSpan(0, n).ToArray();
    }

    /// <inheritdoc />
    public void Dispose() => _device.Dispose();
}
