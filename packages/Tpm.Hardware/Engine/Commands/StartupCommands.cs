using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_Startup, TPM2_Shutdown, TPM2_SelfTest, TPM2_GetTestResult (TPM 2.0 Part 3 §9–10).</summary>
internal sealed class StartupCommands : ICommandGroup
{
    public void Register(CommandTable table)
    {
        table.Add(TpmCc.Startup, [], 0, Startup, CommandFlags.BeforeStartup | CommandFlags.WritesNv | CommandFlags.NoSessions);
        table.Add(TpmCc.Shutdown, [], 0, Shutdown, CommandFlags.WritesNv);
        table.Add(TpmCc.SelfTest, [], 0, SelfTest);
        table.Add(TpmCc.GetTestResult, [], 0, GetTestResult);
    }

    private static void Startup(CommandContext c)
    {
        var r = c.ReadParameters();
        var type = (TpmSu)r.ReadU16();
        if (type is not (TpmSu.Clear or TpmSu.State))
        {
            // TPM_SU is checked as it is unmarshalled, before octets after it (reference).
            throw CommandContext.ParameterError(TpmRc.Value, 1, $"startupType 0x{(ushort)type:x4}");
        }

        r.EnsureConsumed();
        var s = c.State;
        if (s.Started)
        {
            throw new TpmException(TpmRc.Initialize, "TPM2_Startup after startup");
        }

        if (type == TpmSu.State && s.OrderlyShutdown != TpmSu.State)
        {
            throw CommandContext.ParameterError(TpmRc.Value, 1, "TPM_SU_STATE without a prior TPM2_Shutdown(TPM_SU_STATE)");
        }

        // Part 1 §12.2.3: Startup(STATE) after Shutdown(STATE) is a TPM Resume, Startup(CLEAR) after
        // Shutdown(STATE) a TPM Restart, anything else a TPM Reset.
        var tpm = c.Tpm;
        if (type == TpmSu.State)
        {
            // TPM Resume: the state-saved PCRs come back; everything the shutdown saved stays.
            s.RestartCount++;
            s.ResetPcrsForStartup(resume: true);
        }
        else if (s.OrderlyShutdown == TpmSu.State)
        {
            // TPM Restart: the saved reset data (context key, null hierarchy, saved sessions) stays;
            // PCRs and the state-clear data reset, and saved stClear objects no longer load.
            s.RestartCount++;
            s.StClearEpoch++;
            s.ResetPcrsForStartup(resume: false);
            ResetStateClearData(s);
        }
        else
        {
            // TPM Reset: new null hierarchy and context key; old saved contexts no longer load.
            if (s.OrderlyShutdown is null && (s.ResetCount > 0 || s.RestartCount > 0))
            {
                s.ClockSafe = false;
            }

            s.ResetCount++;
            s.RestartCount = 0;
            s.StClearEpoch = 0;
            s.ResetPcrsForStartup(resume: false);
            s.FlushVolatile(savedSessions: true);
            s.NullSeed?.Dispose();
            s.NullProof?.Dispose();
            s.ContextKey?.Dispose();
            s.NullSeed = tpm.NewSecret(64, "null seed");
            s.NullProof = tpm.NewSecret(64, "nullProof");
            s.ContextKey = tpm.NewSecret(64, "context key");
            s.ContextSequence = 0;
            EcdaaCommands.ResetCommitState(s, tpm);
            ResetStateClearData(s);
        }

        s.NullSeed ??= tpm.NewSecret(64, "null seed");
        s.NullProof ??= tpm.NewSecret(64, "nullProof");
        s.ContextKey ??= tpm.NewSecret(64, "context key");
        NvCommands.OnStartup(s, resume: type == TpmSu.State, reset: type == TpmSu.Clear && s.OrderlyShutdown != TpmSu.State);
        s.PreviousShutdownOrderly = s.OrderlyShutdown is not null;
        s.OrderlyShutdown = null;
        s.Started = true;
    }

    /// <summary>
    /// TPM2_Startup(CLEAR), at TPM Reset and TPM Restart alike: the hierarchies are enabled again and
    /// platformAuth and platformPolicy are empty (Part 3 §9.3).
    /// </summary>
    private static void ResetStateClearData(EngineState s)
    {
        CryptographicOperations.ZeroMemory(s.Platform.AuthValue);
        s.NullHierarchy.AuthValue = [];
        s.Platform.AuthValue = [];
        s.Platform.AuthPolicy = [];
        s.Platform.PolicyAlg = TpmAlgId.Null;
        s.Platform.Enabled = true;
        s.Owner.Enabled = true;
        s.Endorsement.Enabled = true;
    }

    private static void Shutdown(CommandContext c)
    {
        var r = c.ReadParameters();
        var type = (TpmSu)r.ReadU16();
        if (type is not (TpmSu.Clear or TpmSu.State))
        {
            throw CommandContext.ParameterError(TpmRc.Value, 1, $"shutdownType 0x{(ushort)type:x4}");
        }

        r.EnsureConsumed();

        c.State.OrderlyShutdown = type;
        c.State.ClockSafe = true;
    }

    private static void SelfTest(CommandContext c)
    {
        var r = c.ReadParameters();
        var full = r.ReadU8();
        if (full > 1)
        {
            // TPMI_YES_NO is checked as it is unmarshalled, before octets after it (found against libtpms).
            throw CommandContext.ParameterError(TpmRc.Value, 1, "fullTest must be YES or NO");
        }

        r.EnsureConsumed();
    }

    private static void GetTestResult(CommandContext c)
    {
        c.ReadParameters().EnsureConsumed();
        c.Output.WriteTpm2b([]);
        c.Output.WriteU32((uint)TpmRc.Success);
    }
}
