using System.Security.Cryptography.X509Certificates;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek.Tests;

/// <summary>Keys and certificates as an attacker sends them: off-curve points, wrong sizes, absurd lengths, truncated DER.</summary>
internal static class HostileInput
{
    /// <summary>The key with the last octet of its ECC point's Y changed: almost surely off the curve.</summary>
    public static TpmtPublic OffCurve(TpmtPublic key)
    {
        var p = (EccPoint)key.Unique;
        var y = (byte[])p.Y.Clone();
        y[^1] ^= 0x01;
        return key.WithUnique(new EccPoint(p.X, y));
    }

    /// <summary>The key with an X coordinate one octet short (31 octets on P-256).</summary>
    public static TpmtPublic WrongSize(TpmtPublic key)
    {
        var p = (EccPoint)key.Unique;
        return key.WithUnique(new EccPoint(p.X[1..], p.Y));
    }

    /// <summary>The certificate with its subject key's point moved off the curve (the issuer's signature no longer verifies either).</summary>
    public static X509Certificate2 WithOffCurveKey(X509Certificate2 certificate)
    {
        var der = (byte[])certificate.RawData.Clone();
        var at = IndexOf(der, [0x03, 0x42, 0x00, 0x04]);
        der[at + 4 + 63] ^= 0x01;
        return X509CertificateLoader.LoadCertificate(der);
    }

    /// <summary>The certificate with its notBefore month set to 00: OpenSSL loads it, .NET throws when the time is first read.</summary>
    public static X509Certificate2 WithMonthZero(X509Certificate2 certificate)
    {
        var der = (byte[])certificate.RawData.Clone();
        var at = IndexOf(der, [0x17, 0x0d]); // the first UTCTime: notBefore YYMMDDhhmmssZ
        der[at + 2 + 3] = (byte)'0';
        der[at + 2 + 2] = (byte)'0';
        return X509CertificateLoader.LoadCertificate(der);
    }

    public static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        throw new InvalidOperationException("Pattern not found.");
    }
}
