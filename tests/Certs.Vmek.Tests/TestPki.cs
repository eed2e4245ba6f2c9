using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek.Tests;

/// <summary>Deterministic test fixtures: seeded software TPMs, a fixed clock, seeded CAs.</summary>
internal static class TestPki
{
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static FixedTimeProvider Clock() => new(Epoch);

    public static (SoftwareTpm Engine, Tpm2 Client) NewTpm(ulong seed)
    {
        var engine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = seed }, null, Clock());
        return (engine, new Tpm2(engine, DeterministicRandomSource.FromSeed(seed + 1000)));
    }

    public static ManufacturerCa Manufacturer(TimeProvider? time = null, ulong seed = 1) =>
        new(DeterministicRandomSource.FromSeed(seed), time ?? Clock());
}
