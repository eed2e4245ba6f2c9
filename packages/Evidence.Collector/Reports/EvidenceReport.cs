using System.Text.Json;
using System.Text.Json.Serialization;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector;

/// <summary>How one source did in a round.</summary>
/// <param name="Name">The source name.</param>
/// <param name="Records">Records it produced.</param>
/// <param name="Error">Null, or why it failed (then it produced one collector-error record).</param>
public sealed record SourceSummary(string Name, int Records, string? Error);

/// <summary>
/// <c>report.json</c>: what the collector says about a report. Not signed: the appraiser trusts
/// only what the quote and the replayed log prove, and uses these fields to know where to look.
/// </summary>
public sealed record EvidenceReportManifest
{
    /// <summary>The format identifier.</summary>
    public const string CurrentFormat = "truststack-evidence-report/1";

    /// <summary>The format.</summary>
    public string Format { get; init; } = CurrentFormat;

    /// <summary>When the round ended (the collector's TimeProvider), ISO 8601 UTC.</summary>
    public DateTimeOffset Created { get; init; }

    /// <summary>The host name.</summary>
    public string Host { get; init; } = "";

    /// <summary>The evidence PCR.</summary>
    public int EvidencePcr { get; init; }

    /// <summary>The evidence bank (sha256, ...).</summary>
    public string Bank { get; init; } = "sha256";

    /// <summary>The quote's qualifying data (the verifier's nonce), hex.</summary>
    public string Nonce { get; init; } = "";

    /// <summary>The attestation key's Name, hex (what a policy pins in <c>tpm.trustedAkNames</c>).</summary>
    public string AkName { get; init; } = "";

    /// <summary>Number of log entries.</summary>
    public int Records { get; init; }

    /// <summary>The per-source summaries.</summary>
    public IReadOnlyList<SourceSummary> Sources { get; init; } = [];
}

/// <summary>
/// A report: the evidence log plus a TPM2_Quote over the evidence PCR with the verifier's nonce,
/// and the attestation key's public area. Directory layout (<see cref="Write"/>):
/// <c>report.json</c> (manifest), <c>evidence.log</c> (IMA-style binary log),
/// <c>records.json</c> (the records, informative), <c>quote.attest</c> (TPMS_ATTEST),
/// <c>quote.sig</c> (TPMT_SIGNATURE), <c>ak.pub</c> (TPM2B_PUBLIC).
/// </summary>
/// <param name="Manifest">The manifest.</param>
/// <param name="Log">The evidence log.</param>
/// <param name="QuoteMessage">The TPMS_ATTEST the AK signed.</param>
/// <param name="Signature">The TPMT_SIGNATURE.</param>
/// <param name="AkPublic">The AK's public area.</param>
public sealed record EvidenceReport(EvidenceReportManifest Manifest, byte[] Log, byte[] QuoteMessage, byte[] Signature, TpmtPublic AkPublic)
{
    /// <summary>File names of the report directory.</summary>
    public const string ManifestFile = "report.json", LogFile = "evidence.log", RecordsFile = "records.json", QuoteFile = "quote.attest", SignatureFile = "quote.sig", AkFile = "ak.pub";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Writes the report into <paramref name="directory"/> (created if needed).</summary>
    public void Write(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, ManifestFile), JsonSerializer.Serialize(Manifest, Json));
        File.WriteAllBytes(Path.Combine(directory, LogFile), Log);
        File.WriteAllBytes(Path.Combine(directory, QuoteFile), QuoteMessage);
        File.WriteAllBytes(Path.Combine(directory, SignatureFile), Signature);
        var ak = new TpmWriter();
        AkPublic.MarshalSized(ak);
        File.WriteAllBytes(Path.Combine(directory, AkFile), ak.ToArray());
        var contents = EvidenceLogContents.Read(Log, Manifest.EvidencePcr, new EvidenceCollectorOptions { EvidenceBank = Manifest.Bank }.GetEvidenceBank());
        File.WriteAllText(Path.Combine(directory, RecordsFile), RecordsJson(contents.Records));
    }

    /// <summary>Reads a report directory (<c>records.json</c> is for people and is not read).</summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    /// <exception cref="FormatException">A file is malformed: report.json is not the manifest (unknown or null fields included), ak.pub is not a TPM2B_PUBLIC.</exception>
    public static EvidenceReport Read(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        byte[] File(string name) => System.IO.File.ReadAllBytes(Path.Combine(directory, name));
        return FromFiles(File(ManifestFile), File(LogFile), File(QuoteFile), File(SignatureFile), File(AkFile));
    }

    /// <summary>A report from the octets of its files (what <see cref="Read"/> does after reading them).</summary>
    /// <exception cref="FormatException">report.json or ak.pub is malformed.</exception>
    internal static EvidenceReport FromFiles(byte[] manifestJson, byte[] log, byte[] quote, byte[] signature, byte[] akPublic)
    {
        EvidenceReportManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<EvidenceReportManifest>(manifestJson, ReadJson)
                ?? throw new FormatException($"{ManifestFile} is null");
        }
        catch (JsonException e)
        {
            throw new FormatException($"{ManifestFile}: {e.Message}", e);
        }

        if (manifest.Sources.Any(s => s is null || s.Name is null))
        {
            throw new FormatException($"{ManifestFile}: a source summary or its name is null");
        }

        // The AK must be the TPM's public area: a PEM/DER key has no attributes to check.
        var ak = TpmPublicKeys.Parse(akPublic, out var form);
        if (form != PublicKeyForm.PublicArea)
        {
            throw new FormatException($"{AkFile} is a PEM/DER public key, not the TPM2B_PUBLIC of the attestation key");
        }

        return new EvidenceReport(manifest, log, quote, signature, ak);
    }

    // Strict reading: report.json is unsigned, so nothing in it may be ambiguous (duplicate or
    // unknown members, nulls where the format has none).
    private static readonly JsonSerializerOptions ReadJson = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        AllowDuplicateProperties = false,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>The records as indented JSON: type, subject, fields.</summary>
    public static string RecordsJson(IEnumerable<EvidenceRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        return JsonSerializer.Serialize(records.Select(r => new { r.Type, r.Subject, r.Fields }), Json);
    }
}
