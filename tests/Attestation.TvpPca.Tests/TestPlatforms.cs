using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Attestation.TvpPca.Tests;

/// <summary>Seeded manufacturer, Privacy CA and platforms under a fixed clock.</summary>
internal sealed class TestPlatforms
{
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public TestPlatforms(ulong seed = 11)
    {
        Clock = new FixedTimeProvider(Epoch);
        Manufacturer = new ManufacturerCa(DeterministicRandomSource.FromSeed(seed), Clock);
        Pca = new TvpPcaPrivacyCa(new PrivacyCa([Manufacturer.Certificate], DeterministicRandomSource.FromSeed(seed + 1), Clock), DeterministicRandomSource.FromSeed(seed + 2));
    }

    public FixedTimeProvider Clock { get; }

    public ManufacturerCa Manufacturer { get; }

    public TvpPcaPrivacyCa Pca { get; }

    public TvpPcaHost Host(TvpPcaHostOptions? options = null) => TvpPcaHost.Create(Pca, Manufacturer, Clock, options ?? new TvpPcaHostOptions { VmCount = 1 });

    public Challenger Challenger(ITvpPcaTransport transport, ulong seed = 99) =>
        new(transport, TvpPcaHost.CreateVerifier(Pca, Clock, TvpPcaHost.ExpectedReferences), DeterministicRandomSource.FromSeed(seed));
}

/// <summary>A man in the middle: rewrites what the agents and the service answer.</summary>
internal sealed class TamperingTransport(ITvpPcaTransport inner) : ITvpPcaTransport
{
    public Func<TopChallenge, TopResponse>? Top { get; set; }

    public Func<BottomResponse, BottomResponse>? Bottom { get; set; }

    public TopResponse RequestTop(TopChallenge challenge) => Top is null ? inner.RequestTop(challenge) : Top(challenge);

    public BottomResponse RequestBottom(BottomChallenge challenge)
    {
        var r = inner.RequestBottom(challenge);
        return Bottom is null ? r : Bottom(r);
    }
}
