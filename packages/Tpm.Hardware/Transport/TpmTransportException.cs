namespace TrustStack.Tpm.Hardware;

/// <summary>What went wrong between a transport and its TPM.</summary>
public enum TpmTransportFailure
{
    /// <summary>The connection could not be made (nothing listens there, or the host is unreachable).</summary>
    ConnectFailed,

    /// <summary>The connection was not made within the connect timeout.</summary>
    ConnectTimeout,

    /// <summary>The command could not be written within the send timeout (the peer stopped reading).</summary>
    SendTimeout,

    /// <summary>The response did not arrive whole within the response timeout.</summary>
    ResponseTimeout,

    /// <summary>The peer closed or reset the connection before the response was complete.</summary>
    ConnectionClosed,

    /// <summary>The response is not a well-formed frame of the protocol (a size out of range, a bad trailer).</summary>
    MalformedResponse,

    /// <summary>The peer answered a control or platform command with an error.</summary>
    Refused,
}

/// <summary>
/// A TPM could not be reached or did not answer: the one error every socket and device transport
/// throws, naming the peer and, for a timeout, the limit that was exceeded. A transport never
/// resends a command once any octet of it was written (a second run of TPM2_NV_Increment,
/// TPM2_PCR_Extend or TPM2_Commit is not harmless), so when <see cref="CommandMayHaveExecuted"/>
/// is true the caller must assume the command may have run. The next command reconnects.
/// </summary>
public sealed class TpmTransportException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="peer">The TPM, for example <c>swtpm 127.0.0.1:2321</c>.</param>
    /// <param name="failure">What went wrong.</param>
    /// <param name="commandMayHaveExecuted">True once any octet of the command was written.</param>
    /// <param name="detail">What happened, in a few words.</param>
    /// <param name="inner">The socket or I/O error, if any.</param>
    public TpmTransportException(string peer, TpmTransportFailure failure, bool commandMayHaveExecuted, string detail, Exception? inner = null)
        : base(Format(peer, detail, commandMayHaveExecuted), inner)
    {
        Peer = peer;
        Failure = failure;
        CommandMayHaveExecuted = commandMayHaveExecuted;
    }

    /// <summary>The TPM, for example <c>swtpm 127.0.0.1:2321</c>.</summary>
    public string Peer { get; }

    /// <summary>What went wrong.</summary>
    public TpmTransportFailure Failure { get; }

    /// <summary>
    /// True when any octet of the command had been written before the failure: the TPM may have
    /// executed it, and the transport did not send it again.
    /// </summary>
    public bool CommandMayHaveExecuted { get; }

    private static string Format(string peer, string detail, bool sent) =>
        sent ? $"{peer}: {detail}; the command may have executed and was not sent again" : $"{peer}: {detail}";
}
