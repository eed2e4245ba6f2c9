namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_GetRandom and TPM2_StirRandom (TPM 2.0 Part 3 §16).</summary>
internal sealed class RandomCommands : ICommandGroup
{
    /// <summary>Largest GetRandom answer: sizeof(TPMU_HA), as the reference implementation.</summary>
    public const int MaxRandomBytes = 64;

    public void Register(CommandTable table)
    {
        table.Add(TpmCc.GetRandom, [], 0, GetRandom, CommandFlags.EncryptFirst);
        table.Add(TpmCc.StirRandom, [], 0, StirRandom, CommandFlags.DecryptFirst);
    }

    private static void GetRandom(CommandContext c)
    {
        var r = c.ReadParameters();
        var requested = r.ReadU16();
        r.EnsureConsumed();
        c.Output.WriteTpm2b(c.Tpm.NewNonce(Math.Min((int)requested, MaxRandomBytes)));
    }

    private static void StirRandom(CommandContext c)
    {
        var r = c.ReadParameters();
        _ = r.ReadTpm2b(128);
        r.EnsureConsumed();

        // The engine's randomness is the injected IRandomSource (the OS CSPRNG in production,
        // a seeded DRBG in deterministic mode, which must not be perturbed); the input is accepted
        // and discarded, as a TPM whose entropy source needs no help may do.
    }
}
