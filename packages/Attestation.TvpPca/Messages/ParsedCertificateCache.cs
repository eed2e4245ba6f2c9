using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TrustStack.Attestation.TvpPca;

/// <summary>
/// Parsed certificates of decoded messages, keyed by their DER octets. Parsing a certificate
/// costs about 150 µs here (OpenSSL), more than the rest of an appraisal, and a challenger sees
/// the same few certificates (AIK, vAIK, vEK, VMEK) in every answer of a platform. A hit returns a
/// new <see cref="X509Certificate2"/> over the cached one (a reference to the same native
/// certificate, about 2 µs), so a caller that disposes what the codec gave it cannot harm the
/// cache or another message. A hit compares the whole DER, not only its digest.
/// </summary>
internal static class ParsedCertificateCache
{
    private const int Capacity = 1024;
    private static readonly ConcurrentDictionary<string, X509Certificate2> s_parsed = new(StringComparer.Ordinal);

    /// <summary>The certificate in <paramref name="der"/>.</summary>
    /// <exception cref="CryptographicException">The octets are not exactly one certificate.</exception>
    public static X509Certificate2 Load(byte[] der)
    {
        var key = Convert.ToBase64String(SHA256.HashData(der));
        if (s_parsed.TryGetValue(key, out var cached) && cached.RawDataMemory.Span.SequenceEqual(der))
        {
            return new X509Certificate2(cached);
        }

        var parsed = X509CertificateLoader.LoadCertificate(der);
        if (parsed.RawDataMemory.Length != der.Length)
        {
            // The loader ignores octets after the certificate's DER: one field, one certificate, nothing else.
            var extra = der.Length - parsed.RawDataMemory.Length;
            parsed.Dispose();
            throw new CryptographicException($"{extra} octets follow the certificate's DER encoding.");
        }
        if (s_parsed.Count >= Capacity)
        {
            // Entries are shared by reference only through copies, so dropping them is safe.
            s_parsed.Clear();
        }

        s_parsed[key] = parsed;
        return new X509Certificate2(parsed);
    }
}
