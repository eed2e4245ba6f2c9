using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace TrustStack.Evidence.Collector;

/// <summary>
/// The configured files (<see cref="EvidenceCollectorOptions.Files"/>: paths, directories, globs):
/// SHA-256, size, mode and modification time, hashed in parallel. A configured plain path that
/// does not exist is recorded with <c>error=not found</c>, so a policy can require it.
/// </summary>
public sealed class FileEvidenceSource : IEvidenceSource
{
    /// <inheritdoc />
    public string Name => "files";

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvidenceRecord>> CollectAsync(EvidenceCollectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var paths = context.Options.Files.SelectMany(Glob.Expand).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var digests = await context.Hasher.HashAllAsync(paths, cancellationToken).ConfigureAwait(false);
        return paths.Select(p => ToRecord(EvidenceRecordTypes.File, p, digests[p])).ToArray();
    }

    internal static EvidenceRecord ToRecord(string type, string path, FileDigest digest, IEnumerable<(string, string)>? extra = null)
    {
        var fields = new List<(string, string)>();
        if (digest.Sha256Hex is { } hex)
        {
            fields.Add(("sha256", hex));
            fields.Add(("size", digest.Size.ToString(CultureInfo.InvariantCulture)));
            try
            {
                var info = new FileInfo(path);
                if (!OperatingSystem.IsWindows())
                {
                    fields.Add(("mode", Convert.ToString((int)info.UnixFileMode, 8).PadLeft(4, '0')));
                }

                fields.Add(("mtime", new DateTimeOffset(info.LastWriteTimeUtc).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));
            }
            catch (IOException)
            {
            }
        }
        else
        {
            fields.Add(("error", digest.Error ?? "unreadable"));
        }

        if (extra is not null)
        {
            fields.AddRange(extra);
        }

        return EvidenceRecord.Create(type, path, [.. fields]);
    }
}

/// <summary>Expands path globs: <c>*</c> and <c>?</c> within a segment, <c>**</c> across segments.</summary>
internal static class Glob
{
    public static IEnumerable<string> Expand(string pattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        var wildcard = pattern.IndexOfAny(['*', '?']);
        if (wildcard < 0)
        {
            return Directory.Exists(pattern)
                ? SafeEnumerate(pattern, recurse: true, int.MaxValue)
                : [pattern];
        }

        var slash = pattern.LastIndexOf('/', wildcard);
        var baseDir = slash <= 0 ? (slash == 0 ? "/" : ".") : pattern[..slash];
        if (!Directory.Exists(baseDir))
        {
            return [];
        }

        var rest = pattern[(slash + 1)..];
        var recursive = rest.Contains("**", StringComparison.Ordinal);
        var depth = rest.Count(c => c == '/');
        var regex = ToRegex(pattern);
        return SafeEnumerate(baseDir, recurse: recursive || depth > 0, recursive ? int.MaxValue : depth)
            .Where(p => regex.IsMatch(p));
    }

    public static Regex ToRegex(string pattern)
    {
        var text = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                // "**/" matches zero or more directories; a bare "**" anything.
                if (i + 2 < pattern.Length && pattern[i + 2] == '/')
                {
                    text.Append("(?:.*/)?");
                    i += 2;
                }
                else
                {
                    text.Append(".*");
                    i++;
                }
            }
            else if (c == '*')
            {
                text.Append("[^/]*");
            }
            else if (c == '?')
            {
                text.Append("[^/]");
            }
            else
            {
                text.Append(Regex.Escape(c.ToString()));
            }
        }

        return new Regex(text.Append('$').ToString(), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    private static IEnumerable<string> SafeEnumerate(string dir, bool recurse, int depth) =>
        Directory.EnumerateFiles(dir, "*", new EnumerationOptions
        {
            RecurseSubdirectories = recurse,
            MaxRecursionDepth = depth,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.ReparsePoint,
        });
}
