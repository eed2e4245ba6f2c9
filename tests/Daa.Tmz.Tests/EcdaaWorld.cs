using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz.Tests;

/// <summary>An ECDAA issuer, a verifier and joined platforms (software TPM + host), from one seed.</summary>
internal sealed class EcdaaWorld : IDisposable
{
    public EcdaaWorld(ulong seed, int platforms = 1)
    {
        Random = DeterministicRandomSource.FromSeed(seed);
        Issuer = new EcdaaIssuer(Random);
        Verifier = new EcdaaVerifier(Issuer.PublicKey, Issuer.RogueList);
        for (var i = 0; i < platforms; i++)
        {
            Platforms.Add(Join(new SoftwareEcdaaTpm(Random)));
        }
    }

    public DeterministicRandomSource Random { get; }

    public EcdaaIssuer Issuer { get; }

    public EcdaaVerifier Verifier { get; }

    public List<(SoftwareEcdaaTpm Tpm, EcdaaHost Host)> Platforms { get; } = [];

    public EcdaaHost Host => Platforms[0].Host;

    public (SoftwareEcdaaTpm Tpm, EcdaaHost Host) Join(SoftwareEcdaaTpm tpm)
    {
        var host = new EcdaaHost(tpm, Issuer.PublicKey, Random);
        var result = Issuer.CompleteJoin(host.CreateJoinRequest(Issuer.StartJoin()));
        if (result.Response is null)
        {
            throw new InvalidOperationException(result.Reason);
        }

        if (!host.CompleteJoin(result.Response))
        {
            throw new InvalidOperationException("host rejected the credential");
        }

        return (tpm, host);
    }

    public void Dispose()
    {
        foreach (var (tpm, _) in Platforms)
        {
            tpm.Dispose();
        }

        Issuer.Dispose();
        Random.Dispose();
    }
}
