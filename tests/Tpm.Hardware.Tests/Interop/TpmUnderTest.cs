using System.Buffers.Binary;
using TrustStack.Tests.Shared;

namespace TrustStack.Tpm.Hardware.Tests.Interop;

/// <summary>
/// One TPM that a shared test body drives: our engine or a real swtpm (libtpms). <see cref="Reset"/>
/// brings it to the state of a freshly started TPM — no transient objects or sessions, PCRs
/// reset, no owner NV indices or persistent objects, empty hierarchy authValues — so that
/// handles and response codes are comparable between the two.
/// </summary>
public interface ITpmUnderTest : IDisposable
{
    /// <summary>"engine" or "swtpm", for messages.</summary>
    string Name { get; }

    /// <summary>Raw command transport.</summary>
    ITpmTransport Transport { get; }

    /// <summary>True for the real libtpms.</summary>
    bool IsReference { get; }

    /// <summary>A fresh started TPM (see the type summary).</summary>
    void Reset();
}

/// <summary>Our <see cref="SoftwareTpm"/>: a new engine (started, libtpms-like slot limits) on every reset.</summary>
public sealed class EngineUnderTest : ITpmUnderTest
{
    private SoftwareTpm _tpm = NewEngine();

    /// <inheritdoc />
    public string Name => "engine";

    /// <inheritdoc />
    public ITpmTransport Transport => _tpm;

    /// <inheritdoc />
    public bool IsReference => false;

    /// <summary>The engine itself, for white-box checks.</summary>
    public SoftwareTpm Engine => _tpm;

    /// <inheritdoc />
    public void Reset()
    {
        _tpm.Dispose();
        _tpm = NewEngine();
    }

    /// <inheritdoc />
    public void Dispose() => _tpm.Dispose();

    private static SoftwareTpm NewEngine() => new(new SoftwareTpmOptions { AutoStartup = true });
}

/// <summary>
/// A real swtpm process (one per test class through <see cref="SwtpmFixture"/>). A reset is an
/// orderly TPM2_Shutdown, CMD_INIT, TPM2_Startup(CLEAR), TPM2_DictionaryAttackLockReset and
/// TPM2_Clear — a few milliseconds, against ~100 ms for a new process.
/// </summary>
public sealed class SwtpmUnderTest : ITpmUnderTest
{
    private readonly SwtpmProcess _process;
    private readonly SwtpmSocketTransport _transport;

    /// <summary>Starts swtpm.</summary>
    public SwtpmUnderTest()
    {
        _process = new SwtpmProcess();
        _transport = new SwtpmSocketTransport("127.0.0.1", _process.Port);
    }

    /// <inheritdoc />
    public string Name => "swtpm";

    /// <inheritdoc />
    public ITpmTransport Transport => _transport;

    /// <inheritdoc />
    public bool IsReference => true;

    /// <summary>The data port (for tools).</summary>
    public int Port => _process.Port;

    /// <inheritdoc />
    public void Reset()
    {
        // Orderly shutdown first: libtpms counts a disorderly restart as a dictionary-attack failure.
        _ = _transport.Execute(RawCommands.Build(TpmCc.Shutdown, [], null, w => w.WriteU16((ushort)TpmSu.Clear)));
        _transport.Init();
        Expect(RawCommands.Build(TpmCc.Startup, [], null, w => w.WriteU16((ushort)TpmSu.Clear)), "TPM2_Startup");
        Expect(RawCommands.Build(TpmCc.DictionaryAttackLockReset, [TpmRh.Lockout], [RawSession.Password()], null), "TPM2_DictionaryAttackLockReset");
        Expect(RawCommands.Build(TpmCc.Clear, [TpmRh.Lockout], [RawSession.Password()], null), "TPM2_Clear");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _transport.Dispose();
        _process.Dispose();
    }

    private void Expect(byte[] command, string what)
    {
        var rc = RawCommands.ResponseCode(_transport.Execute(command));
        if (rc != TpmRc.Success)
        {
            throw new InvalidOperationException($"swtpm reset: {what} answered {TpmResponseCode.Describe(rc)}");
        }
    }
}

/// <summary>xUnit class fixture: one swtpm per test class.</summary>
public sealed class SwtpmFixture : IDisposable
{
    private readonly Lazy<SwtpmUnderTest> _swtpm = new(() => new SwtpmUnderTest());

    /// <summary>The swtpm, started on first use.</summary>
    public SwtpmUnderTest Swtpm => _swtpm.Value;

    /// <inheritdoc />
    public void Dispose()
    {
        if (_swtpm.IsValueCreated)
        {
            _swtpm.Value.Dispose();
        }
    }
}

/// <summary>One session area entry of a raw command (TPMS_AUTH_COMMAND).</summary>
/// <param name="Handle">Session handle (TPM_RS_PW for a password).</param>
/// <param name="Nonce">nonceCaller.</param>
/// <param name="Attributes">sessionAttributes.</param>
/// <param name="Hmac">hmac (the password for TPM_RS_PW).</param>
public sealed record RawSession(uint Handle, byte[] Nonce, TpmaSession Attributes, byte[] Hmac)
{
    /// <summary>A password authorization.</summary>
    public static RawSession Password(byte[]? password = null) =>
        new(TpmRh.Password, [], TpmaSession.ContinueSession, password ?? []);
}

/// <summary>Where the areas of a marshalled command start.</summary>
/// <param name="Bytes">The command.</param>
/// <param name="HandleOffset">First octet of the handle area (10).</param>
/// <param name="AuthOffset">First octet of the authorization area (its size field), or -1 without sessions.</param>
/// <param name="ParameterOffset">First octet of the parameter area.</param>
public sealed record RawCommand(byte[] Bytes, int HandleOffset, int AuthOffset, int ParameterOffset);

/// <summary>Builds TPM 2.0 command buffers octet by octet, so a test controls every field.</summary>
public static class RawCommands
{
    /// <summary>A command: header, handles, sessions (tag TPM_ST_SESSIONS when any), parameters.</summary>
    public static byte[] Build(TpmCc code, uint[] handles, RawSession[]? sessions, Action<TpmWriter>? parameters, TpmSt? tag = null) =>
        BuildWithLayout(code, handles, sessions, parameters, tag).Bytes;

    /// <summary>As <see cref="Build"/>, with the offsets of each area.</summary>
    public static RawCommand BuildWithLayout(TpmCc code, uint[] handles, RawSession[]? sessions, Action<TpmWriter>? parameters, TpmSt? tag = null)
    {
        var hasSessions = sessions is { Length: > 0 };
        var w = new TpmWriter();
        w.WriteU16((ushort)(tag ?? (hasSessions ? TpmSt.Sessions : TpmSt.NoSessions)));
        var size = w.BeginSize32();
        w.WriteU32((uint)code);
        foreach (var h in handles)
        {
            w.WriteU32(h);
        }

        var authOffset = -1;
        if (hasSessions)
        {
            authOffset = w.WrittenSpan.Length;
            var auth = w.BeginSize32();
            foreach (var s in sessions!)
            {
                w.WriteU32(s.Handle);
                w.WriteTpm2b(s.Nonce);
                w.WriteU8((byte)s.Attributes);
                w.WriteTpm2b(s.Hmac);
            }

            w.EndSize32(auth);
        }

        var parameterOffset = w.WrittenSpan.Length;
        parameters?.Invoke(w);
        w.EndSize32(size, includeField: true);
        return new RawCommand(w.ToArray(), 10, authOffset, parameterOffset);
    }

    /// <summary>The response code of a response buffer (TPM_RC_FAILURE-like 0xFFFFFFFF when it is too short).</summary>
    public static TpmRc ResponseCode(byte[] response) =>
        response.Length >= 10 ? (TpmRc)BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)) : (TpmRc)0xFFFF_FFFF;

    /// <summary>The first response handle of a successful response.</summary>
    public static uint ResponseHandle(byte[] response) =>
        ResponseCode(response) == TpmRc.Success && response.Length >= 14
            ? BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(10))
            : throw new InvalidOperationException($"no response handle: {TpmResponseCode.Describe(ResponseCode(response))}");

    /// <summary>A copy of <paramref name="command"/> with the size field set to its length.</summary>
    public static byte[] FixSize(byte[] command)
    {
        var copy = command.ToArray();
        if (copy.Length >= 6)
        {
            BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(2), (uint)copy.Length);
        }

        return copy;
    }
}
