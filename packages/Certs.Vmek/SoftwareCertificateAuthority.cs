using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek;

/// <summary>
/// A software certificate authority with an ECDSA P-256 key (RFC 6979 deterministic signatures):
/// the base of the manufacturer CA, the Privacy CA and the vTPM manager's local CA. Serial numbers
/// count up from 1 (prefixed so they stay positive and non-zero); times come from the
/// <see cref="TimeProvider"/>, truncated to whole seconds. Thread-safe.
/// </summary>
public class SoftwareCertificateAuthority
{
    private readonly SoftwareSigningKey _key;
    private readonly Lock _lock = new();
    private readonly Dictionary<BigInteger, DateTimeOffset> _revoked = [];
    private long _serial;
    private long _crlNumber;

    /// <summary>Creates the CA and its self-signed root certificate.</summary>
    /// <param name="name">The CA's distinguished name, such as <c>CN=TrustStack Privacy CA</c>.</param>
    /// <param name="random">Randomness for the CA key (a seeded <see cref="DeterministicRandomSource"/> in deterministic mode).</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="serialPrefix">First octet of every serial number this CA issues (non-zero, below 0x80).</param>
    public SoftwareCertificateAuthority(string name, IRandomSource random, TimeProvider timeProvider, byte serialPrefix = 0x01)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfZero(serialPrefix);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(serialPrefix, (byte)0x80);
        SerialPrefix = serialPrefix;
        Time = timeProvider;
        _key = new SoftwareSigningKey(random);
        Name = new X500DistinguishedName(name);
        var request = new CertificateRequest(Name, _key.Public, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(_key.Public, false));
        var now = Now();
        Certificate = request.Create(Name, _key, now, now.AddYears(30), NextSerial());
    }

    /// <summary>The CA's name.</summary>
    public X500DistinguishedName Name { get; }

    /// <summary>The CA's self-signed root certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The first octet of this CA's serial numbers.</summary>
    public byte SerialPrefix { get; }

    /// <summary>Number of signatures (certificates and CRLs) this CA made.</summary>
    public int Signatures { get; private set; } = 1;

    /// <summary>The CA's clock.</summary>
    protected TimeProvider Time { get; }

    /// <summary>The signature generator of the CA key, for callers that build certificates themselves.</summary>
    internal X509SignatureGenerator SignatureGenerator => _key;

    /// <summary>Issues a certificate signed by this CA.</summary>
    /// <param name="subject">The subject name (may be empty).</param>
    /// <param name="subjectKey">The subject's public key.</param>
    /// <param name="extensions">The extensions; subject and authority key identifiers are added.</param>
    /// <param name="validity">How long it is valid from now.</param>
    /// <returns>The certificate.</returns>
    public X509Certificate2 Issue(X500DistinguishedName subject, PublicKey subjectKey, IEnumerable<X509Extension> extensions, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(subjectKey);
        ArgumentNullException.ThrowIfNull(extensions);
        lock (_lock)
        {
            var now = Now();
            var cert = CertificateIssuer.Issue(Certificate, _key, subject, subjectKey, extensions, now, now + validity, NextSerial());
            Signatures++;
            return cert;
        }
    }

    /// <summary>Revokes a certificate this CA issued (it appears in the next <see cref="BuildCrl"/>).</summary>
    /// <param name="certificate">The certificate.</param>
    public void Revoke(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        lock (_lock)
        {
            _revoked[new BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: true, isBigEndian: true)] = Now();
        }
    }

    /// <summary>A CRL (DER) listing every certificate revoked so far, valid for 7 days.</summary>
    /// <returns>The CRL, signed by this CA.</returns>
    public byte[] BuildCrl()
    {
        lock (_lock)
        {
            var builder = new CertificateRevocationListBuilder();
            foreach (var (serial, when) in _revoked.OrderBy(p => p.Key))
            {
                builder.AddEntry(serial.ToByteArray(isUnsigned: true, isBigEndian: true), when, X509RevocationReason.KeyCompromise);
            }

            var now = Now();
            Signatures++;
            return builder.Build(
                Name,
                _key,
                ++_crlNumber,
                now.AddDays(7),
                HashAlgorithmName.SHA256,
                X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false),
                now);
        }
    }

    /// <summary>The current time, truncated to whole seconds.</summary>
    /// <returns>The time.</returns>
    protected DateTimeOffset Now()
    {
        var t = Time.GetUtcNow();
        return new DateTimeOffset(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }

    private byte[] NextSerial()
    {
        var serial = new byte[8];
        serial[0] = SerialPrefix;
        BinaryPrimitives.WriteUInt64BigEndian(serial, BinaryPrimitives.ReadUInt64BigEndian(serial) | (ulong)++_serial);
        return serial;
    }
}

/// <summary>Builds one certificate with CertificateRequest and any signature generator.</summary>
internal static class CertificateIssuer
{
    public static X509Certificate2 Issue(
        X509Certificate2 issuer,
        X509SignatureGenerator generator,
        X500DistinguishedName subject,
        PublicKey subjectKey,
        IEnumerable<X509Extension> extensions,
        DateTimeOffset notBefore,
        DateTimeOffset notAfter,
        byte[] serial)
    {
        var request = new CertificateRequest(subject, subjectKey, HashAlgorithmName.SHA256);
        foreach (var e in extensions)
        {
            request.CertificateExtensions.Add(e);
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(subjectKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        var cert = request.Create(issuer.SubjectName, generator, notBefore, notAfter, serial);
        return cert;
    }
}
