using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Snapshooter.Xunit;
using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Attestation.TvpPca.Tests;

/// <summary>
/// Byte-exact transcripts of a seeded platform: the initialization phase (AIK, VMEK, vEK and vAIK
/// certificates, decoded and as DER) and one attestation (the four messages as the codec's octets
/// plus decoded summaries, and the verdict with every reason). The snapshot code reads only the
/// message records and <see cref="TvpPcaCodec"/>'s public encoders, so a codec version change
/// regenerates the octets without touching this file.
/// </summary>
public sealed class TranscriptSnapshotTests
{
    [Fact]
    public void InitializationTranscript_Seeded_MatchesSnapshot()
    {
        Snapshot.Match(Initialization(new TestPlatforms(), seed: 1));
    }

    [Fact]
    public void AttestationTranscript_Seeded_MatchesSnapshot()
    {
        Snapshot.Match(Attestation(new TestPlatforms(), seed: 1));
    }

    [Fact]
    public void Transcripts_SameSeed_AreByteReproducible()
    {
        var first = Attestation(new TestPlatforms(), seed: 1);
        var second = Attestation(new TestPlatforms(), seed: 1);

        Assert.Equal(Flatten(Initialization(new TestPlatforms(), seed: 1)), Flatten(Initialization(new TestPlatforms(), seed: 1)));
        Assert.Equal(first.Messages.Select(m => m.Hex), second.Messages.Select(m => m.Hex));
        Assert.Equal(first.Result.Reasons, second.Result.Reasons);
    }

    [Fact]
    public void Transcripts_OtherSeed_Differ()
    {
        // What makes the snapshots able to fail: another platform seed changes every message.
        var one = Attestation(new TestPlatforms(), seed: 1);
        var two = Attestation(new TestPlatforms(), seed: 2);

        Assert.All(one.Messages.Zip(two.Messages), p => Assert.NotEqual(p.First.Hex, p.Second.Hex));
        Assert.NotEqual(Flatten(Initialization(new TestPlatforms(), seed: 1)), Flatten(Initialization(new TestPlatforms(), seed: 2)));
    }

    private static InitializationTranscript Initialization(TestPlatforms p, ulong seed)
    {
        using var host = p.Host(new TvpPcaHostOptions { VmCount = 1, Seed = seed });
        var agent = host.Agents[0];
        return new InitializationTranscript(
            Describe("hardware EK certificate (manufacturer)", host.Ek.Ecc!),
            Describe("hardware AIK certificate (Privacy CA)", host.Service.Aik.Certificate),
            Describe("VMEK certificate (Privacy CA)", host.Vmek.Certificate!),
            Describe($"vEK certificate of VM {agent.VmId} (VMEK)", agent.VEk.Certificate),
            Describe($"vAIK certificate of VM {agent.VmId} (Privacy CA)", agent.VAik.Certificate));
    }

    private static AttestationTranscript Attestation(TestPlatforms p, ulong seed)
    {
        using var host = p.Host(new TvpPcaHostOptions { VmCount = 1, Seed = seed });
        var a = p.Challenger(host.Transport, seed: 99 + seed).Attest(host.Agents[0].VmId);
        return new AttestationTranscript(
            [
                new("Challenger -> Agent", "TopChallenge", Hex(TvpPcaCodec.Encode(a.TopChallenge)),
                    [$"vmId {a.TopChallenge.VmId}", $"N1 {Hex(a.TopChallenge.Nonce)}"]),
                new("Agent -> Challenger", "TopResponse", Hex(TvpPcaCodec.Encode(a.TopResponse)),
                    [
                        $"vmId {a.TopResponse.VmId}",
                        .. Quote("vTPM quote", a.TopResponse.Quote),
                        .. Log("guest log", a.TopResponse.GuestEventLog),
                        $"vEK Name {Hex(a.TopResponse.VEkPublic.GetName())}",
                        .. a.TopResponse.VAikChain.Select((c, i) => $"chain[{i}] serial {c.SerialNumber} subject '{c.Subject}' issuer '{c.Issuer}'"),
                    ]),
                new("Challenger -> Service", "BottomChallenge", Hex(TvpPcaCodec.Encode(a.BottomChallenge)),
                    [$"vmId {a.BottomChallenge.VmId}", $"N2 {Hex(a.BottomChallenge.Nonce)} = SHA-256(N1 ‖ top quote)"]),
                new("Service -> Challenger", "BottomResponse", Hex(TvpPcaCodec.Encode(a.BottomResponse)),
                    [
                        .. Quote("hardware quote", a.BottomResponse.Quote),
                        .. Log("platform log", a.BottomResponse.PlatformEventLog),
                        $"AIK certificate serial {a.BottomResponse.AikCertificate.SerialNumber} issuer '{a.BottomResponse.AikCertificate.Issuer}'",
                    ]),
            ],
            new ResultSummary(a.Result.VmId, a.Result.IsTrusted, [.. a.Result.Reasons.Select(r => r.ToString())]));
    }

    private static IEnumerable<string> Quote(string what, QuoteEvidence q)
    {
        var attest = TpmsAttest.Parse(q.Attest);
        var info = (QuoteInfo)attest.Attested;
        yield return $"{what}: magic 0x{attest.Magic:x8} type {attest.Type} qualifiedSigner {Hex(attest.QualifiedSigner)}";
        yield return $"{what}: extraData {Hex(attest.ExtraData)}";
        yield return $"{what}: clock {attest.ClockInfo.Clock} resets {attest.ClockInfo.ResetCount} restarts {attest.ClockInfo.RestartCount} safe {attest.ClockInfo.Safe} firmware 0x{attest.FirmwareVersion:x16}";
        yield return $"{what}: pcrSelect {info.PcrSelect} pcrDigest {Hex(info.PcrDigest)}";
        yield return $"{what}: signature {q.Signature.SigAlg}/{q.Signature.Hash} r {Hex(q.Signature.SignatureR)} s {Hex(q.Signature.SignatureS)}";
        yield return $"{what}: signing key Name {Hex(q.SigningKey.GetName())}";
        foreach (var bank in q.PcrValues.Banks)
        {
            foreach (var pcr in q.PcrValues.PcrsIn(bank))
            {
                yield return $"{what}: {PcrValues.BankName(bank)}:{pcr.ToString(CultureInfo.InvariantCulture)} {Hex(q.PcrValues[bank, pcr])}";
            }
        }
    }

    private static IEnumerable<string> Log(string what, byte[] log)
    {
        var parsed = TcgEventLog.Parse(log);
        yield return $"{what}: {log.Length} octets, {parsed.Events.Count} events";
        foreach (var e in parsed.Events)
        {
            var sha256 = e.DigestFor(TpmAlgId.Sha256);
            yield return $"{what}: PCR {e.PcrIndex} {e.EventType} sha256 {(sha256 is null ? "-" : Hex(sha256))} data {e.EventData.Length} octets";
        }
    }

    private static CertificateSummary Describe(string role, X509Certificate2 c)
    {
        var fields = new List<string>
        {
            $"version {c.Version}",
            $"serial {c.SerialNumber}",
            $"subject '{c.Subject}'",
            $"issuer '{c.Issuer}'",
            $"notBefore {c.NotBefore.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture)}",
            $"notAfter {c.NotAfter.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture)}",
            $"signatureAlgorithm {c.SignatureAlgorithm.FriendlyName} ({c.SignatureAlgorithm.Value})",
            $"subjectPublicKeyInfo {Hex(c.PublicKey.ExportSubjectPublicKeyInfo())}",
        };
        foreach (var e in c.Extensions)
        {
            fields.Add(e switch
            {
                X509BasicConstraintsExtension bc => $"basicConstraints{Critical(e)} ca {bc.CertificateAuthority}{(bc.HasPathLengthConstraint ? $" pathLen {bc.PathLengthConstraint}" : string.Empty)}",
                X509KeyUsageExtension ku => $"keyUsage{Critical(e)} {ku.KeyUsages}",
                X509EnhancedKeyUsageExtension eku => $"extendedKeyUsage{Critical(e)} {string.Join(", ", eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value))}",
                X509SubjectKeyIdentifierExtension ski => $"subjectKeyIdentifier{Critical(e)} {ski.SubjectKeyIdentifier}",
                X509AuthorityKeyIdentifierExtension aki => $"authorityKeyIdentifier{Critical(e)} {(aki.KeyIdentifier is { } k ? Hex(k.ToArray()) : "-")}",
                _ => $"{e.Oid?.Value}{Critical(e)} {Hex(e.RawData)}",
            });
        }

        if (VTpmBinding.From(c) is { } vtpm)
        {
            fields.Add($"vTpmBinding vmId {vtpm.VmId} hardwareEkName {Hex(vtpm.HardwareEkName)} hardwareEkCertificateHash {Hex(vtpm.HardwareEkCertificateHash)} junctionMeasurement {Hex(vtpm.JunctionMeasurement)}");
        }

        if (HardwareEkBinding.From(c) is { } hw)
        {
            fields.Add($"hardwareEk ekName {Hex(hw.EkName)} ekCertificateHash {Hex(hw.EkCertificateHash)} vmekName {Hex(hw.VmekName)}");
        }

        if (CertifiedKeyBinding.From(c) is { } key)
        {
            fields.Add($"certifiedKey keyName {Hex(key.KeyName)}");
        }

        return new CertificateSummary(role, fields, Hex(c.RawData));
    }

    private static string Critical(X509Extension e) => e.Critical ? " (critical)" : string.Empty;

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static IEnumerable<string> Flatten(InitializationTranscript t) =>
        new[] { t.EkCertificate, t.AikCertificate, t.VmekCertificate, t.VEkCertificate, t.VAikCertificate }.Select(c => c.Der);

    private sealed record CertificateSummary(string Role, IReadOnlyList<string> Fields, string Der);

    private sealed record InitializationTranscript(
        CertificateSummary EkCertificate,
        CertificateSummary AikCertificate,
        CertificateSummary VmekCertificate,
        CertificateSummary VEkCertificate,
        CertificateSummary VAikCertificate);

    private sealed record MessageSummary(string Direction, string Type, string Hex, IReadOnlyList<string> Decoded);

    private sealed record ResultSummary(Guid VmId, bool IsTrusted, IReadOnlyList<string> Reasons);

    private sealed record AttestationTranscript(IReadOnlyList<MessageSummary> Messages, ResultSummary Result);
}
