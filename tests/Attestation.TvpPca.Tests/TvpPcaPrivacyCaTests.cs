using System.Security.Cryptography;

namespace TrustStack.Attestation.TvpPca.Tests;

public sealed class TvpPcaPrivacyCaTests
{
    private readonly TestPlatforms _p = new();

    private EndorsementQuery Query(byte[] certificate, byte fill = 7) => new(Enumerable.Repeat(fill, 32).ToArray(), SHA256.HashData(certificate));

    [Fact]
    public void Answer_CertifiedAik_AuthenticatesAndNamesTheEk()
    {
        using var host = _p.Host();
        var query = Query(host.Service.Aik.Certificate.RawData);

        var answer = TvpPcaCodec.DecodeEndorsementAnswer(TvpPcaCodec.Encode(_p.Pca.Answer(query)));
        answer.Authenticate(query, _p.Pca.Ca.Certificate, _p.Clock);

        Assert.Equal(host.Ek.EccEk!.GetName(), answer.EndorsementKeyName);
        Assert.Equal(_p.Pca.EndorsementOf(host.Service.Aik.Certificate), answer.EndorsementKeyName);
    }

    [Fact]
    public void Answer_UnknownCertificate_SignedAbsence()
    {
        var query = Query([1, 2, 3]);

        var answer = _p.Pca.Answer(query);
        answer.Authenticate(query, _p.Pca.Ca.Certificate, _p.Clock);

        Assert.Null(answer.EndorsementKeyName);
    }

    [Fact]
    public void Authenticate_AlteredEkName_Throws()
    {
        using var host = _p.Host();
        var query = Query(host.Service.Aik.Certificate.RawData);
        var answer = _p.Pca.Answer(query);

        var forged = answer with { EndorsementKeyName = host.Agents[0].VEk.VEk.GetName() };

        Assert.Contains("does not verify", Assert.Throws<EndorsementQueryException>(() => forged.Authenticate(query, _p.Pca.Ca.Certificate, _p.Clock)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Authenticate_AbsenceTurnedIntoPresence_Throws()
    {
        var query = Query([1, 2, 3]);
        var forged = _p.Pca.Answer(query) with { EndorsementKeyName = [0, 11, 1, 2] };

        Assert.Throws<EndorsementQueryException>(() => forged.Authenticate(query, _p.Pca.Ca.Certificate, _p.Clock));
    }

    [Fact]
    public void Authenticate_ReplayedForAnotherNonce_Throws()
    {
        var old = _p.Pca.Answer(Query([1, 2, 3], fill: 1));

        Assert.Contains("nonce", Assert.Throws<EndorsementQueryException>(() => old.Authenticate(Query([1, 2, 3], fill: 2), _p.Pca.Ca.Certificate, _p.Clock)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Authenticate_ResponderOfAnotherPca_Throws()
    {
        var rogue = new TestPlatforms(seed: 40);
        var query = Query([1, 2, 3]);

        var answer = rogue.Pca.Answer(query);

        Assert.Contains("not an endorsement responder", Assert.Throws<EndorsementQueryException>(() => answer.Authenticate(query, _p.Pca.Ca.Certificate, _p.Clock)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Authenticate_PcaCertificateUsedAsResponder_Throws()
    {
        // A certificate issued by the PCA without the responder purpose cannot sign answers: the AIK certificate here.
        using var host = _p.Host();
        var query = Query([1, 2, 3]);
        var answer = _p.Pca.Answer(query) with { ResponderCertificate = host.Service.Aik.Certificate };

        Assert.Throws<EndorsementQueryException>(() => answer.Authenticate(query, _p.Pca.Ca.Certificate, _p.Clock));
    }

    [Fact]
    public void Answer_BadQuery_Throws()
    {
        Assert.Throws<ArgumentException>(() => _p.Pca.Answer(new EndorsementQuery([], new byte[32])));
        Assert.Throws<ArgumentException>(() => _p.Pca.Answer(new EndorsementQuery([1], new byte[31])));
    }

    [Fact]
    public void Answer_SameSeed_SameOctets()
    {
        var query = Query([1, 2, 3]);
        Assert.Equal(TvpPcaCodec.Encode(_p.Pca.Answer(query)), TvpPcaCodec.Encode(new TestPlatforms().Pca.Answer(query)));
    }
}
