using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek;

/// <summary>Why a certificate chain is not acceptable.</summary>
public enum ChainProblemKind
{
    /// <summary>A certificate's validity ended.</summary>
    Expired,

    /// <summary>A certificate is not valid yet.</summary>
    NotYetValid,

    /// <summary>A certificate's issuer is not the next certificate: the names differ or its signature does not verify with the issuer's key.</summary>
    WrongIssuer,

    /// <summary>The chain does not end at a trust anchor.</summary>
    UntrustedRoot,

    /// <summary>A certificate is listed in its issuer's CRL.</summary>
    Revoked,

    /// <summary>A certificate is used beyond its key usage, extended key usage, basic constraints or path length.</summary>
    KeyUsage,

    /// <summary>A vEK certificate has no vTPM binding, or a VMEK certificate no hardware EK extension.</summary>
    MissingBinding,

    /// <summary>A binding names another hardware EK or another junction measurement than its issuer or the expectation.</summary>
    BindingMismatch,

    /// <summary>The leaf names another key or VM than expected.</summary>
    NameMismatch,

    /// <summary>A certificate cannot be parsed.</summary>
    Malformed,
}

/// <summary>One reason a chain fails.</summary>
/// <param name="Kind">The kind.</param>
/// <param name="Depth">Index of the certificate in the chain (0 = leaf).</param>
/// <param name="Detail">A sentence for people.</param>
public sealed record ChainProblem(ChainProblemKind Kind, int Depth, string Detail)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Kind} at depth {Depth}: {Detail}";
}

/// <summary>The result of a chain validation: every reason it fails, or none.</summary>
/// <param name="Problems">The reasons, in chain order.</param>
public sealed record ChainValidationResult(IReadOnlyList<ChainProblem> Problems)
{
    /// <summary>Whether the chain is acceptable.</summary>
    public bool IsValid => Problems.Count == 0;

    /// <summary>Whether a problem of <paramref name="kind"/> was found.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>True when found.</returns>
    public bool Has(ChainProblemKind kind) => Problems.Any(p => p.Kind == kind);

    /// <inheritdoc/>
    public override string ToString() => IsValid ? "valid" : string.Join("; ", Problems);
}

/// <summary>What the leaf of a chain is.</summary>
public enum CertificateProfile
{
    /// <summary>No profile checks on the leaf.</summary>
    Any,

    /// <summary>A hardware EK certificate (tcg-kp-EKCertificate).</summary>
    EndorsementKey,

    /// <summary>An attestation key certificate (tcg-kp-AIKCertificate, not a CA).</summary>
    AttestationKey,

    /// <summary>A VMEK certificate (CA, path length 0, VMEK purpose, hardware EK extension).</summary>
    Vmek,

    /// <summary>A vEK certificate (tcg-kp-EKCertificate, vTPM binding, issued by a VMEK certificate naming the same hardware EK).</summary>
    VEk,
}

/// <summary>What the verifier expects of the leaf, beyond the chain itself.</summary>
public sealed record ChainExpectations
{
    /// <summary>The leaf's profile.</summary>
    public CertificateProfile Profile { get; init; }

    /// <summary>The key the leaf must certify (the TPM key the verifier talks to), or null.</summary>
    public TpmtPublic? SubjectKey { get; init; }

    /// <summary>The VM the vEK certificate must be bound to, or null.</summary>
    public Guid? VmId { get; init; }

    /// <summary>The hardware EK Name the binding must name, or null.</summary>
    public byte[]? HardwareEkName { get; init; }

    /// <summary>The junction measurement the binding must carry (from the verified platform log), or null.</summary>
    public byte[]? JunctionMeasurement { get; init; }
}

/// <summary>
/// Validates certificate chains of the VMEK scheme and its rivals, and lists every reason a chain
/// fails (<see cref="ChainProblemKind"/>): validity at the <see cref="TimeProvider"/>'s time, issuer
/// names and signatures (ECDSA or RSA, SHA-256), trust anchors, CRLs (signed by the issuer),
/// basic constraints, key usage and path length of issuers, and the profile of the leaf with its
/// bindings. Chains are given leaf first; the last certificate may be the anchor itself or be
/// issued by one. Results are cached (see <see cref="Validate"/>) so an appraisal that sees the
/// same chain again costs a hash, not four signature checks; the cache never changes an answer.
/// </summary>
public sealed class CertificateChainValidator
{
    /// <summary>At most this many cached results; the cache is emptied when it would grow beyond.</summary>
    internal const int CacheCapacity = 4096;

    private readonly List<X509Certificate2> _anchors;
    private readonly List<byte[]> _crls = [];
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<CacheKey, CachedResult> _cache = new();
    private long _generation;
    private long _cacheHits;

    /// <summary>Creates a validator.</summary>
    /// <param name="trustAnchors">The trusted roots (manufacturer CAs, the Privacy CA).</param>
    /// <param name="timeProvider">The verifier's clock.</param>
    public CertificateChainValidator(IEnumerable<X509Certificate2> trustAnchors, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(trustAnchors);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _anchors = [.. trustAnchors];
        _time = timeProvider;
    }

    /// <summary>The trust anchors.</summary>
    public IReadOnlyList<X509Certificate2> TrustAnchors => _anchors;

    /// <summary>Adds a trust anchor.</summary>
    /// <param name="anchor">The root certificate.</param>
    public void AddTrustAnchor(X509Certificate2 anchor)
    {
        _anchors.Add(anchor);
        Invalidate();
    }

    /// <summary>Adds a CRL (DER); it counts only for certificates whose issuer signed it.</summary>
    /// <param name="crl">The CRL.</param>
    public void AddCrl(byte[] crl)
    {
        ArgumentNullException.ThrowIfNull(crl);
        _crls.Add(crl);
        Invalidate();
    }

    /// <summary>Number of validations answered from the cache (for tests and benchmarks).</summary>
    internal long CacheHits => Interlocked.Read(ref _cacheHits);

    /// <summary>
    /// Validates a chain. The result is cached under SHA-256 of the exact certificate octets and
    /// the expectations, together with the generation of the trust anchors and CRLs (adding either
    /// empties the cache); it is reused only while the clock is inside every certificate's
    /// validity, which is the only input of the validation that changes by itself. Within that
    /// window the validation is a pure function of the cached inputs, so a cached answer is the
    /// answer a fresh validation would give. Results with a time problem are not cached.
    /// </summary>
    /// <param name="chain">Leaf first.</param>
    /// <param name="expectations">The leaf's profile and expected names; none by default.</param>
    /// <returns>Every problem found.</returns>
    public ChainValidationResult Validate(IReadOnlyList<X509Certificate2> chain, ChainExpectations? expectations = null)
    {
        ArgumentNullException.ThrowIfNull(chain);
        if (chain.Count == 0)
        {
            return ValidateUncached(chain, expectations);
        }

        var generation = Interlocked.Read(ref _generation);
        var key = CacheKey.Of(generation, chain, expectations);
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(key, out var cached) && now >= cached.ValidFrom && now <= cached.ValidTo)
        {
            Interlocked.Increment(ref _cacheHits);
            return cached.Result;
        }

        var result = ValidateUncached(chain, expectations);
        var validFrom = DateTimeOffset.MinValue;
        var validTo = DateTimeOffset.MaxValue;
        try
        {
            foreach (var cert in chain)
            {
                var notBefore = new DateTimeOffset(cert.NotBefore.ToUniversalTime());
                var notAfter = new DateTimeOffset(cert.NotAfter.ToUniversalTime());
                validFrom = notBefore > validFrom ? notBefore : validFrom;
                validTo = notAfter < validTo ? notAfter : validTo;
            }
        }
        catch (Exception e) when (IsDecodingFailure(e))
        {
            // A validity time .NET cannot read (it decodes them on first use): the uncached result
            // already says Malformed; such a result is not cached.
            return result;
        }

        // Cache only what holds for a stretch of time around now: no certificate of the chain is
        // outside its validity (then the result has no time problem and keeps none while the clock
        // stays inside [validFrom, validTo]).
        if (now >= validFrom && now <= validTo && Interlocked.Read(ref _generation) == generation)
        {
            if (_cache.Count >= CacheCapacity)
            {
                _cache.Clear();
            }

            _cache[key] = new CachedResult(result, validFrom, validTo);
        }

        return result;
    }

    private void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _cache.Clear();
    }

    private ChainValidationResult ValidateUncached(IReadOnlyList<X509Certificate2> chain, ChainExpectations? expectations)
    {
        var problems = new List<ChainProblem>();
        if (chain.Count == 0)
        {
            problems.Add(new(ChainProblemKind.Malformed, 0, "The chain is empty."));
            return new(problems);
        }

        var now = _time.GetUtcNow();
        for (var i = 0; i < chain.Count; i++)
        {
            // Certificates come from the network: a malformed extension or key (an off-curve point,
            // a key of the wrong size, DER that .NET decodes lazily) is a Malformed problem at its
            // depth, never an exception out of the validator (issue 19, finding 4).
            try
            {
                if (ValidateOne(chain, i, now, problems))
                {
                    break; // reached a trust anchor
                }
            }
            catch (Exception e) when (IsDecodingFailure(e))
            {
                problems.Add(new(ChainProblemKind.Malformed, i, $"{Describe(chain[i])} cannot be decoded: {e.Message}"));
            }
        }

        try
        {
            CheckLeaf(chain, expectations ?? new ChainExpectations(), problems);
        }
        catch (Exception e) when (IsDecodingFailure(e))
        {
            problems.Add(new(ChainProblemKind.Malformed, 0, $"{Describe(chain[0])} cannot be decoded: {e.Message}"));
        }

        return new(problems.AsReadOnly()); // read-only: a cached result is shared between callers
    }

    /// <summary>The exceptions .NET and System.Formats.Asn1 throw on undecodable certificates and keys.</summary>
    internal static bool IsDecodingFailure(Exception e) =>
        e is CryptographicException or AsnContentException or ArgumentException or FormatException or NotSupportedException or InvalidOperationException;

    /// <summary>Checks the certificate at <paramref name="i"/>; true when it is a trust anchor (the chain ends there).</summary>
    private bool ValidateOne(IReadOnlyList<X509Certificate2> chain, int i, DateTimeOffset now, List<ChainProblem> problems)
    {
        var cert = chain[i];
        if (cert.NotBefore.ToUniversalTime() > now.UtcDateTime)
        {
            problems.Add(new(ChainProblemKind.NotYetValid, i, $"{Describe(cert)} is valid from {cert.NotBefore.ToUniversalTime():u}."));
        }

        if (cert.NotAfter.ToUniversalTime() < now.UtcDateTime)
        {
            problems.Add(new(ChainProblemKind.Expired, i, $"{Describe(cert)} expired at {cert.NotAfter.ToUniversalTime():u}."));
        }

        if (_anchors.Any(a => a.RawData.AsSpan().SequenceEqual(cert.RawData)))
        {
            return true;
        }

        X509Certificate2? issuer;
        var signatureVerified = false;
        if (i + 1 < chain.Count)
        {
            issuer = chain[i + 1];
            if (!issuer.SubjectName.RawData.AsSpan().SequenceEqual(cert.IssuerName.RawData))
            {
                problems.Add(new(ChainProblemKind.WrongIssuer, i, $"{Describe(cert)} names issuer '{cert.Issuer}', the next certificate is '{issuer.Subject}'."));
                return false;
            }
        }
        else
        {
            issuer = _anchors.FirstOrDefault(a => a.SubjectName.RawData.AsSpan().SequenceEqual(cert.IssuerName.RawData) && VerifySignature(cert, a));
            if (issuer is null)
            {
                problems.Add(new(ChainProblemKind.UntrustedRoot, i, $"No trust anchor '{cert.Issuer}' signed {Describe(cert)}."));
                return false;
            }

            signatureVerified = true; // the anchor was chosen because its key verifies the signature
        }

        if (!signatureVerified && !VerifySignature(cert, issuer))
        {
            problems.Add(new(ChainProblemKind.WrongIssuer, i, $"The signature of {Describe(cert)} does not verify with the key of '{issuer.Subject}'."));
        }

        CheckIssuerUsage(issuer, i, problems);
        if (IsRevoked(cert, issuer))
        {
            problems.Add(new(ChainProblemKind.Revoked, i, $"{Describe(cert)} (serial {cert.SerialNumber}) is revoked by '{issuer.Subject}'."));
        }

        return false;
    }

    private static string Describe(X509Certificate2 cert)
    {
        try
        {
            return cert.Subject.Length > 0 ? $"'{cert.Subject}'" : $"the certificate with serial {cert.SerialNumber}";
        }
        catch (Exception e) when (IsDecodingFailure(e))
        {
            return $"the certificate with serial {cert.SerialNumber}";
        }
    }

    private static void CheckIssuerUsage(X509Certificate2 issuer, int depth, List<ChainProblem> problems)
    {
        var bc = issuer.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (bc is null || !bc.CertificateAuthority)
        {
            problems.Add(new(ChainProblemKind.KeyUsage, depth + 1, $"{Describe(issuer)} is not a CA but issued a certificate."));
        }
        else if (bc.HasPathLengthConstraint && depth > bc.PathLengthConstraint)
        {
            problems.Add(new(ChainProblemKind.KeyUsage, depth + 1, $"{Describe(issuer)} has path length {bc.PathLengthConstraint} but issued a CA certificate."));
        }

        if (issuer.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is { } ku && (ku.KeyUsages & X509KeyUsageFlags.KeyCertSign) == 0)
        {
            problems.Add(new(ChainProblemKind.KeyUsage, depth + 1, $"{Describe(issuer)} may not sign certificates (no keyCertSign)."));
        }
    }

    private static void CheckLeaf(IReadOnlyList<X509Certificate2> chain, ChainExpectations e, List<ChainProblem> problems)
    {
        var leaf = chain[0];
        var isCa = leaf.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault()?.CertificateAuthority ?? false;
        if (e.SubjectKey is { } key)
        {
            if (TryExportSubjectPublicKeyInfo(key, out var spki, out var unusable))
            {
                if (!spki.AsSpan().SequenceEqual(leaf.PublicKey.ExportSubjectPublicKeyInfo()))
                {
                    problems.Add(new(ChainProblemKind.NameMismatch, 0, $"{Describe(leaf)} certifies another key than the TPM key (Name {Convert.ToHexString(key.GetName())})."));
                }
            }
            else
            {
                problems.Add(new(ChainProblemKind.Malformed, 0, $"The TPM key (Name {Convert.ToHexString(key.GetName())}) is not a usable public key: {unusable}"));
            }
        }

        switch (e.Profile)
        {
            case CertificateProfile.EndorsementKey:
                RequirePurpose(leaf, VmekOids.EkCertificatePurpose, "an EK certificate", problems);
                break;
            case CertificateProfile.AttestationKey:
                RequirePurpose(leaf, VmekOids.AikCertificatePurpose, "an attestation key certificate", problems);
                if (isCa)
                {
                    problems.Add(new(ChainProblemKind.KeyUsage, 0, "An attestation key certificate must not be a CA."));
                }

                if (e.SubjectKey is { } ak)
                {
                    CheckCertifiedKey(leaf, ak, problems);
                }

                break;
            case CertificateProfile.Vmek:
                CheckVmek(leaf, 0, problems);
                if (HardwareEkBinding.From(leaf) is { } hw && e.HardwareEkName is { } ekName && !hw.EkName.AsSpan().SequenceEqual(ekName))
                {
                    problems.Add(new(ChainProblemKind.NameMismatch, 0, "The VMEK certificate names another hardware EK."));
                }

                break;
            case CertificateProfile.VEk:
                RequirePurpose(leaf, VmekOids.EkCertificatePurpose, "a vEK certificate", problems);
                CheckVEk(chain, e, problems);
                break;
        }
    }

    /// <summary>
    /// The whole public area of an attestation key, not only its point (issue 19, finding 3): the
    /// certificate's certified-key extension names the TPM Name the Privacy CA made the credential
    /// for, and the Name (nameAlg ‖ H(TPMT_PUBLIC)) covers attributes, nameAlg, scheme and policy;
    /// the key must also have the attestation key profile (sign, restricted, fixedTPM, fixedParent,
    /// sensitiveDataOrigin, no decrypt, a signing scheme).
    /// </summary>
    private static void CheckCertifiedKey(X509Certificate2 leaf, TpmtPublic key, List<ChainProblem> problems)
    {
        var name = key.GetName();
        if (CertifiedKeyBinding.From(leaf) is not { } binding)
        {
            problems.Add(new(ChainProblemKind.MissingBinding, 0, $"{Describe(leaf)} names no certified TPM key (no extension {VmekOids.CertifiedKey}): the key's attributes, nameAlg and scheme cannot be checked."));
        }
        else if (!CryptographicOperations.FixedTimeEquals(binding.KeyName, name))
        {
            problems.Add(new(ChainProblemKind.NameMismatch, 0, $"{Describe(leaf)} certifies TPM key Name {Convert.ToHexString(binding.KeyName)}, the quoting key's Name is {Convert.ToHexString(name)}: its attributes, nameAlg, scheme or policy are not what the Privacy CA certified."));
        }

        foreach (var problem in AttestationKeyProfile.Problems(key))
        {
            problems.Add(new(ChainProblemKind.KeyUsage, 0, $"The quoting key is not an attestation key: {problem}."));
        }
    }

    /// <summary>The DER SubjectPublicKeyInfo of a TPM key, or why it has none (an off-curve point, a wrong-size key, a type without a public key).</summary>
    internal static bool TryExportSubjectPublicKeyInfo(TpmtPublic key, out byte[] spki, out string? reason)
    {
        try
        {
            spki = TpmPublicKeys.ExportSubjectPublicKeyInfo(key);
            reason = null;
            return true;
        }
        catch (Exception e) when (IsDecodingFailure(e))
        {
            spki = [];
            reason = e.Message;
            return false;
        }
    }

    private static void CheckVmek(X509Certificate2 cert, int depth, List<ChainProblem> problems)
    {
        RequirePurpose(cert, VmekOids.VmekKeyPurpose, "a VMEK certificate", problems, depth);
        var bc = cert.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (bc is null || !bc.CertificateAuthority || !bc.HasPathLengthConstraint || bc.PathLengthConstraint != 0)
        {
            problems.Add(new(ChainProblemKind.KeyUsage, depth, "A VMEK certificate must be a CA with path length 0."));
        }

        if (HardwareEkBinding.From(cert) is null)
        {
            problems.Add(new(ChainProblemKind.MissingBinding, depth, "The VMEK certificate names no hardware EK."));
        }
    }

    private static void CheckVEk(IReadOnlyList<X509Certificate2> chain, ChainExpectations e, List<ChainProblem> problems)
    {
        var binding = VTpmBinding.From(chain[0]);
        if (binding is null)
        {
            problems.Add(new(ChainProblemKind.MissingBinding, 0, "The vEK certificate has no vTPM binding extension."));
            return;
        }

        if (chain.Count < 2)
        {
            problems.Add(new(ChainProblemKind.WrongIssuer, 0, "A vEK certificate needs its VMEK certificate in the chain."));
            return;
        }

        CheckVmek(chain[1], 1, problems);
        if (HardwareEkBinding.From(chain[1]) is { } hw
            && (!hw.EkName.AsSpan().SequenceEqual(binding.HardwareEkName) || !hw.EkCertificateHash.AsSpan().SequenceEqual(binding.HardwareEkCertificateHash)))
        {
            problems.Add(new(ChainProblemKind.BindingMismatch, 0, "The vEK binding names another hardware EK than its VMEK certificate."));
        }

        if (e.VmId is { } vm && vm != binding.VmId)
        {
            problems.Add(new(ChainProblemKind.NameMismatch, 0, $"The vEK certificate is bound to VM {binding.VmId}, not {vm}."));
        }

        if (e.HardwareEkName is { } ek && !ek.AsSpan().SequenceEqual(binding.HardwareEkName))
        {
            problems.Add(new(ChainProblemKind.BindingMismatch, 0, "The vEK binding names another hardware EK than expected."));
        }

        if (e.JunctionMeasurement is { } j && !j.AsSpan().SequenceEqual(binding.JunctionMeasurement))
        {
            problems.Add(new(ChainProblemKind.BindingMismatch, 0, "The vEK binding carries another junction measurement than the platform log."));
        }
    }

    private static void RequirePurpose(X509Certificate2 cert, string oid, string what, List<ChainProblem> problems, int depth = 0)
    {
        if (!TcgExtensions.HasPurpose(cert, oid))
        {
            problems.Add(new(ChainProblemKind.KeyUsage, depth, $"{Describe(cert)} is not {what} (no extended key usage {oid})."));
        }
    }

    /// <summary>Verifies a certificate's signature (ECDSA or RSA PKCS#1, SHA-256) with the issuer's key.</summary>
    internal static bool VerifySignature(X509Certificate2 cert, X509Certificate2 issuer) =>
        VerifySigned(cert.RawData, issuer);

    /// <summary>Verifies a signed structure (certificate or CRL: SEQUENCE { tbs, algorithm, BIT STRING }).</summary>
    private static bool VerifySigned(byte[] der, X509Certificate2 issuer)
    {
        try
        {
            var outer = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
            var tbs = outer.ReadEncodedValue();
            var alg = outer.ReadSequence().ReadObjectIdentifier();
            var sig = outer.ReadBitString(out var unusedBits);

            // A signature is whole octets (RFC 5280 §4.1.1.3): a BIT STRING claiming unused bits is
            // another encoding of the same certificate, not the one that was signed.
            if (unusedBits != 0)
            {
                return false;
            }

            outer.ThrowIfNotEmpty();
            switch (alg)
            {
                case X509Signatures.EcdsaSha256:
                    using (var ec = issuer.PublicKey.GetECDsaPublicKey())
                    {
                        return ec is not null && ec.VerifyData(tbs.Span, sig, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
                    }

                case X509Signatures.RsaSha256:
                    using (var rsa = issuer.PublicKey.GetRSAPublicKey())
                    {
                        return rsa is not null && rsa.VerifyData(tbs.Span, sig, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                    }

                default:
                    return false;
            }
        }
        catch (Exception ex) when (ex is AsnContentException or CryptographicException)
        {
            return false;
        }
    }

    private bool IsRevoked(X509Certificate2 cert, X509Certificate2 issuer)
    {
        var serial = new BigInteger(cert.SerialNumberBytes.Span, isUnsigned: true, isBigEndian: true);
        foreach (var crl in _crls)
        {
            if (RevokedSerials(crl, issuer) is { } serials && serials.Contains(serial))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The serials a CRL lists, when <paramref name="issuer"/> issued and signed it; else null.</summary>
    internal static HashSet<BigInteger>? RevokedSerials(byte[] crl, X509Certificate2 issuer)
    {
        try
        {
            var tbs = new AsnReader(new AsnReader(crl, AsnEncodingRules.DER).ReadSequence().ReadEncodedValue(), AsnEncodingRules.DER).ReadSequence();
            if (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
            {
                tbs.ReadInteger();
            }

            tbs.ReadSequence(); // signature algorithm
            var name = tbs.ReadEncodedValue();
            if (!name.Span.SequenceEqual(issuer.SubjectName.RawData) || !VerifySigned(crl, issuer))
            {
                return null;
            }

            ReadTime(tbs);
            if (tbs.HasData && (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) || tbs.PeekTag().HasSameClassAndValue(Asn1Tag.GeneralizedTime)))
            {
                ReadTime(tbs);
            }

            var serials = new HashSet<BigInteger>();
            if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
            {
                var entries = tbs.ReadSequence();
                while (entries.HasData)
                {
                    var entry = entries.ReadSequence();
                    serials.Add(new BigInteger(entry.ReadIntegerBytes().Span, isUnsigned: false, isBigEndian: true));
                }
            }

            return serials;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    private static void ReadTime(AsnReader r)
    {
        if (r.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime))
        {
            r.ReadUtcTime();
        }
        else
        {
            r.ReadGeneralizedTime();
        }
    }

    /// <summary>A cached result and the clock window in which it stays the answer.</summary>
    private sealed record CachedResult(ChainValidationResult Result, DateTimeOffset ValidFrom, DateTimeOffset ValidTo);

    /// <summary>SHA-256 of the validator generation, every certificate's octets and the expectations.</summary>
    private readonly record struct CacheKey(UInt128 High, UInt128 Low)
    {
        public static CacheKey Of(long generation, IReadOnlyList<X509Certificate2> chain, ChainExpectations? e)
        {
            using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Span<byte> u64 = stackalloc byte[8];
            BinaryPrimitives.WriteInt64BigEndian(u64, generation);
            h.AppendData(u64);
            AppendLength(h, chain.Count);
            foreach (var cert in chain)
            {
                Append(h, cert.RawDataMemory.Span);
            }

            AppendLength(h, (int)(e?.Profile ?? CertificateProfile.Any));
            AppendOptional(h, e?.SubjectKey?.ToBytes());
            AppendOptional(h, e?.VmId is { } vm ? vm.ToByteArray(bigEndian: true) : null);
            AppendOptional(h, e?.HardwareEkName);
            AppendOptional(h, e?.JunctionMeasurement);
            Span<byte> digest = stackalloc byte[32];
            h.GetHashAndReset(digest);
            return new CacheKey(BinaryPrimitives.ReadUInt128BigEndian(digest), BinaryPrimitives.ReadUInt128BigEndian(digest[16..]));
        }

        private static void AppendLength(IncrementalHash h, int value)
        {
            Span<byte> u32 = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(u32, value);
            h.AppendData(u32);
        }

        private static void Append(IncrementalHash h, ReadOnlySpan<byte> data)
        {
            AppendLength(h, data.Length);
            h.AppendData(data);
        }

        private static void AppendOptional(IncrementalHash h, byte[]? data)
        {
            // Absent (-1) and empty (0) differ.
            if (data is null)
            {
                AppendLength(h, -1);
            }
            else
            {
                Append(h, data);
            }
        }
    }
}
