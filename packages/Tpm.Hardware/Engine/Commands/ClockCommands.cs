namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_ReadClock (TPM 2.0 Part 3 §29.1): TPMS_TIME_INFO, what tpm2_readclock prints.</summary>
internal sealed class ClockCommands : ICommandGroup
{
    public void Register(CommandTable table) => table.Add(TpmCc.ReadClock, [], 0, ReadClock);

    private static void ReadClock(CommandContext c)
    {
        c.ReadParameters().EnsureConsumed();
        var s = c.State;

        // time: milliseconds since the last power-on (TPM_Init); clockInfo: the persistent Clock and the counts.
        c.Output.WriteU64(c.Tpm.TimeMilliseconds);
        new TpmsClockInfo(c.Tpm.ClockMilliseconds, s.ResetCount, s.RestartCount, s.ClockSafe).Marshal(c.Output);
    }
}
