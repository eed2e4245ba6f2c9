using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz.Tests;

/// <summary>An issuer, a verifier and joined platforms (software TPM + host) in one group, from one seed.</summary>
internal sealed class TmzWorld : IDisposable
{
    public TmzWorld(DaaGroup group, ulong seed, int platforms = 1)
    {
        Group = group;
        Random = DeterministicRandomSource.FromSeed(seed);
        Issuer = new TmzIssuer(group, Random, IssuerOps);
        Verifier = Issuer.CreateVerifier(VerifierOps);
        for (var i = 0; i < platforms; i++)
        {
            Platforms.Add(Join(new SoftwareTmzTpm(group, Random, TpmOps)));
        }
    }

    public DaaGroup Group { get; }

    public DeterministicRandomSource Random { get; }

    public DaaOpCounter IssuerOps { get; } = new();

    public DaaOpCounter HostOps { get; } = new();

    public DaaOpCounter TpmOps { get; } = new();

    public DaaOpCounter VerifierOps { get; } = new();

    public TmzIssuer Issuer { get; }

    public TmzVerifier Verifier { get; }

    public List<(ITmzTpm Tpm, TmzHost Host)> Platforms { get; } = [];

    public TmzHost Host => Platforms[0].Host;

    public (ITmzTpm Tpm, TmzHost Host) Join(ITmzTpm tpm, bool trust = true)
    {
        if (trust)
        {
            Issuer.TrustEndorsementKey(tpm.Endorsement.EkFingerprint);
        }

        var host = new TmzHost(tpm, Issuer.PublicKey, Random, HostOps);
        var challenge = Issuer.StartJoin(tpm.Endorsement);
        var result = Issuer.CompleteJoin(host.CreateJoinRequest(challenge));
        if (result.Response is null)
        {
            throw new InvalidOperationException(result.Reason);
        }

        if (!host.CompleteJoin(result.Response))
        {
            throw new InvalidOperationException("host rejected the issuer's proof");
        }

        return (tpm, host);
    }

    public void Dispose()
    {
        foreach (var (tpm, _) in Platforms)
        {
            (tpm as IDisposable)?.Dispose();
        }

        Verifier.Dispose();
        Issuer.Dispose();
        Random.Dispose();
    }
}
