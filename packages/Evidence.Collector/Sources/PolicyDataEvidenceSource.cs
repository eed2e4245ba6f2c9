using System.Text;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector;

/// <summary>
/// Configured policy and configuration data: each of <see cref="EvidenceCollectorOptions.PolicyFiles"/>
/// with its SHA-256 and its settings (lines "key value" or "key = value"; the first occurrence
/// wins, as in sshd_config) as <c>value.&lt;key&gt;</c> fields; each named value of
/// <see cref="EvidenceCollectorOptions.PolicyValues"/> and each sysctl of
/// <see cref="EvidenceCollectorOptions.Sysctls"/> as its trimmed text.
/// </summary>
public sealed class PolicyDataEvidenceSource : IEvidenceSource
{
    /// <inheritdoc />
    public string Name => "policy-data";

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvidenceRecord>> CollectAsync(EvidenceCollectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Options;
        var records = new List<EvidenceRecord>();
        var digests = await context.Hasher.HashAllAsync(options.PolicyFiles, cancellationToken).ConfigureAwait(false);
        foreach (var path in options.PolicyFiles.Distinct(StringComparer.Ordinal))
        {
            IEnumerable<(string, string)> settings = [];
            if (digests[path].Sha256 is not null)
            {
                try
                {
                    settings = ParseSettings(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));
                }
                catch (IOException)
                {
                }
            }

            records.Add(FileEvidenceSource.ToRecord(EvidenceRecordTypes.PolicyData, path, digests[path], settings));
        }

        var values = options.PolicyValues.Select(kv => (Subject: kv.Key, Path: kv.Value))
            .Concat(options.Sysctls.Select(s => (Subject: "sysctl:" + s, Path: Path.Combine(options.ProcRoot, "sys", s.Replace('.', '/')))));
        foreach (var (subject, path) in values)
        {
            string value;
            try
            {
                value = (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim();
                records.Add(EvidenceRecord.Create(EvidenceRecordTypes.PolicyData, subject, ("source", path), ("value", value)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                records.Add(EvidenceRecord.Create(EvidenceRecordTypes.PolicyData, subject, ("source", path), ("error", FileHasher.Describe(e))));
            }
        }

        return records;
    }

    /// <summary>"key value" / "key = value" lines, comments (#, ;) skipped; keys lowered to [a-z0-9._-].</summary>
    internal static IReadOnlyList<(string Name, string Value)> ParseSettings(string text)
    {
        var result = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';' or '[')
            {
                continue;
            }

            var split = line.IndexOfAny([' ', '\t', '=']);
            if (split <= 0)
            {
                continue;
            }

            var key = Sanitize(line[..split]);
            var value = line[split..].TrimStart(' ', '\t', '=').Trim();
            if (key.Length > 0 && key.Length <= 120 && seen.Add(key))
            {
                result.Add(("value." + key, value));
            }
        }

        return result;
    }

    private static string Sanitize(string key)
    {
        var text = new StringBuilder(key.Length);
        foreach (var c in key.ToLowerInvariant())
        {
            text.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-' ? c : '_');
        }

        return text.ToString();
    }
}

/// <summary>
/// The Linux IMA measurement list (<see cref="EvidenceCollectorOptions.ImaMeasurementList"/>,
/// ASCII or binary; templates ima, ima-ng, ima-sig) as one record per entry, parsed by
/// Tpm.Hardware's <see cref="ImaLog"/>. A missing list gives one record with <c>status=unavailable</c>.
/// </summary>
public sealed class ImaEvidenceSource : IEvidenceSource
{
    /// <inheritdoc />
    public string Name => "ima";

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvidenceRecord>> CollectAsync(EvidenceCollectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var path = context.Options.ImaMeasurementList;
        if (string.IsNullOrEmpty(path))
        {
            return [];
        }

        byte[] list;
        try
        {
            list = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [EvidenceRecord.Create(EvidenceRecordTypes.Ima, path, ("status", "unavailable"), ("error", FileHasher.Describe(e)))];
        }

        return ToRecords(ImaLog.Parse(list));
    }

    internal static IReadOnlyList<EvidenceRecord> ToRecords(ImaLog log)
    {
        var records = new List<EvidenceRecord>(log.Events.Count);
        var index = 0;
        foreach (var e in log.Events)
        {
            var fields = new List<(string, string)>
            {
                ("index", index.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("pcr", e.Pcr.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("template", e.TemplateName),
                ("template-hash", Convert.ToHexStringLower(e.TemplateHash)),
            };
            if (e.IsViolation)
            {
                fields.Add(("violation", "true"));
            }

            if (e.FileDigest is not null)
            {
                fields.Add(("digest-algorithm", e.FileDigestAlgorithm ?? "unknown"));
                fields.Add(("digest", Convert.ToHexStringLower(e.FileDigest)));
            }

            if (e.Signature is { Length: > 0 } signature)
            {
                fields.Add(("signature", Convert.ToHexStringLower(signature)));
            }

            records.Add(EvidenceRecord.Create(EvidenceRecordTypes.Ima, e.FileName ?? e.TemplateName, [.. fields]));
            index++;
        }

        return records;
    }
}
