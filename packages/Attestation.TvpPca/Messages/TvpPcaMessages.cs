using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using TrustStack.Evidence.Collector;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Attestation.TvpPca;

/// <summary>Challenger → Attestation Agent: the top-layer challenge.</summary>
/// <param name="VmId">The VM asked.</param>
/// <param name="Nonce">N1, fresh per attestation.</param>
/// <param name="Pcrs">The vPCR selection (TPML_PCR_SELECTION) the agent must quote; empty means the agent's default.</param>
public sealed record TopChallenge(Guid VmId, byte[] Nonce, PcrSelectionList Pcrs)
{
    /// <summary>A challenge for the demo guest vPCRs (<see cref="DefaultPcrs"/>).</summary>
    /// <param name="vmId">The VM asked.</param>
    /// <param name="nonce">N1.</param>
    public TopChallenge(Guid vmId, byte[] nonce)
        : this(vmId, nonce, DefaultPcrs)
    {
    }

    /// <summary>The default vPCR selection: the demo guest chain's PCRs (<see cref="TvpQtDemo.GuestPcrs"/>).</summary>
    public static PcrSelectionList DefaultPcrs => TvpQtDemo.GuestPcrs;
}

/// <summary>Attestation Agent → Challenger: the vTPM quote and what proves it.</summary>
/// <param name="VmId">The VM that answered.</param>
/// <param name="Quote">The vTPM quote by the vAIK over N1 and the quoted vPCR values.</param>
/// <param name="GuestEventLog">The guest event log (TCG crypto-agile format).</param>
/// <param name="VEkPublic">The vTPM's vEK public area.</param>
/// <param name="VAikChain">The vAIK certificate chain, leaf first: vAIK certificate (Privacy CA), vEK certificate (VMEK), VMEK certificate (Privacy CA).</param>
public sealed record TopResponse(Guid VmId, QuoteEvidence Quote, byte[] GuestEventLog, TpmtPublic VEkPublic, IReadOnlyList<X509Certificate2> VAikChain)
{
    /// <summary>Optional runtime evidence (Evidence.Collector report) quoted over N1 by the vTPM's attestation key, or null.</summary>
    public EvidenceReport? RuntimeEvidence { get; init; }
}

/// <summary>Challenger → Attestation Service: the bottom-layer challenge.</summary>
/// <param name="VmId">The VM whose platform is asked.</param>
/// <param name="Nonce">N2 = SHA-256(N1 ‖ top quote's TPMS_ATTEST bytes).</param>
public sealed record BottomChallenge(Guid VmId, byte[] Nonce);

/// <summary>Attestation Service → Challenger: the hardware quote and what proves it.</summary>
/// <param name="Quote">The hardware quote by the hardware AIK over N2 (virtualization-layer PCRs and the junction PCR).</param>
/// <param name="PlatformEventLog">The platform event log.</param>
/// <param name="AikCertificate">The hardware AIK certificate (Privacy CA).</param>
public sealed record BottomResponse(QuoteEvidence Quote, byte[] PlatformEventLog, X509Certificate2 AikCertificate);

/// <summary>
/// The binary encoding of the TVP-PCA messages, version 2. Every message is
/// <c>version (u8 = 2) ‖ type (u8) ‖ fields</c>; every variable field is a big-endian u32 length
/// followed by that many octets (the TPM2B shape with a 32-bit size, since logs can exceed 64 KiB).
/// Types: 1 TopChallenge (vmId[16, RFC 9562 order] ‖ N1 ‖ TPML_PCR_SELECTION), 2 TopResponse (vmId ‖
/// quote ‖ guest log ‖ vEK TPMT_PUBLIC ‖ u32 count ‖ certificates DER ‖ u8 evidence present ‖ [manifest
/// JSON ‖ evidence log ‖ TPMS_ATTEST ‖ TPMT_SIGNATURE ‖ AK TPMT_PUBLIC]), 3 BottomChallenge (vmId ‖ N2),
/// 4 BottomResponse (quote ‖ platform log ‖ AIK certificate DER), 5 EndorsementQuery and
/// 6 EndorsementAnswer (the Privacy CA query). A quote is TPMS_ATTEST ‖ TPMT_SIGNATURE ‖
/// signing key TPMT_PUBLIC ‖ u32 count ‖ count × (bank u16 ‖ pcr u8 ‖ digest). Version 1 (no vPCR
/// selection, no evidence) is refused with a <see cref="FormatException"/> naming the version.
/// </summary>
public static class TvpPcaCodec
{
    /// <summary>The encoding version this codec writes and reads.</summary>
    public const byte Version = 2;

    /// <summary>The media type of the encoded messages on HTTP.</summary>
    public const string MediaType = "application/vnd.truststack.tvppca.v2";

    private static readonly JsonSerializerOptions ManifestJson = new(JsonSerializerDefaults.Web);

    /// <summary>Encodes a top challenge.</summary>
    /// <param name="m">The message.</param>
    /// <returns>The octets.</returns>
    public static byte[] Encode(TopChallenge m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var w = Begin(1);
        Field(w, m.VmId.ToByteArray(bigEndian: true));
        Field(w, m.Nonce);
        var pcrs = new TpmWriter();
        (m.Pcrs ?? PcrSelectionList.Empty).Marshal(pcrs);
        Field(w, pcrs.ToArray());
        return w.ToArray();
    }

    /// <summary>Encodes a top response.</summary>
    /// <param name="m">The message.</param>
    /// <returns>The octets.</returns>
    public static byte[] Encode(TopResponse m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var w = Begin(2);
        Field(w, m.VmId.ToByteArray(bigEndian: true));
        WriteQuote(w, m.Quote);
        Field(w, m.GuestEventLog);
        Field(w, m.VEkPublic.ToBytes());
        w.WriteU32(checked((uint)m.VAikChain.Count));
        foreach (var c in m.VAikChain)
        {
            Field(w, c.RawData);
        }

        if (m.RuntimeEvidence is { } e)
        {
            w.WriteU8(1);
            Field(w, JsonSerializer.SerializeToUtf8Bytes(e.Manifest, ManifestJson));
            Field(w, e.Log);
            Field(w, e.QuoteMessage);
            Field(w, e.Signature);
            Field(w, e.AkPublic.ToBytes());
        }
        else
        {
            w.WriteU8(0);
        }

        return w.ToArray();
    }

    /// <summary>Encodes a bottom challenge.</summary>
    /// <param name="m">The message.</param>
    /// <returns>The octets.</returns>
    public static byte[] Encode(BottomChallenge m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var w = Begin(3);
        Field(w, m.VmId.ToByteArray(bigEndian: true));
        Field(w, m.Nonce);
        return w.ToArray();
    }

    /// <summary>Encodes a bottom response.</summary>
    /// <param name="m">The message.</param>
    /// <returns>The octets.</returns>
    public static byte[] Encode(BottomResponse m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var w = Begin(4);
        WriteQuote(w, m.Quote);
        Field(w, m.PlatformEventLog);
        Field(w, m.AikCertificate.RawData);
        return w.ToArray();
    }

    /// <summary>Decodes a top challenge.</summary>
    /// <param name="data">The octets.</param>
    /// <returns>The message.</returns>
    /// <exception cref="FormatException">Wrong version or type, truncated, or trailing octets.</exception>
    public static TopChallenge DecodeTopChallenge(ReadOnlySpan<byte> data) => Decode(data, 1, (ref TpmReader r) =>
    {
        var vm = ReadGuid(ref r);
        var nonce = Field(ref r);
        var pcrBytes = Field(ref r);
        var pr = new TpmReader(pcrBytes);
        var pcrs = PcrSelectionList.Unmarshal(ref pr);
        pr.EnsureConsumed();
        return new TopChallenge(vm, nonce, pcrs);
    });

    /// <summary>Decodes a top response.</summary>
    /// <param name="data">The octets.</param>
    /// <returns>The message.</returns>
    /// <exception cref="FormatException">Wrong version or type, truncated, malformed, or trailing octets.</exception>
    public static TopResponse DecodeTopResponse(ReadOnlySpan<byte> data) => Decode(data, 2, (ref TpmReader r) =>
    {
        var vm = ReadGuid(ref r);
        var quote = ReadQuote(ref r);
        var log = Field(ref r);
        var vek = TpmtPublic.Parse(Field(ref r));
        var count = r.ReadU32();
        if (count > 16)
        {
            throw new FormatException($"A chain of {count} certificates is too long.");
        }

        var chain = new List<X509Certificate2>();
        for (var i = 0; i < count; i++)
        {
            chain.Add(ParsedCertificateCache.Load(Field(ref r)));
        }

        var evidence = r.ReadU8() switch
        {
            0 => null,
            1 => ReadEvidence(ref r),
            var flag => throw new FormatException($"Evidence flag {flag} is neither 0 nor 1."),
        };
        return new TopResponse(vm, quote, log, vek, chain) { RuntimeEvidence = evidence };
    });

    /// <summary>Decodes a bottom challenge.</summary>
    /// <param name="data">The octets.</param>
    /// <returns>The message.</returns>
    /// <exception cref="FormatException">Wrong version or type, truncated, or trailing octets.</exception>
    public static BottomChallenge DecodeBottomChallenge(ReadOnlySpan<byte> data) => Decode(data, 3, (ref TpmReader r) => new BottomChallenge(ReadGuid(ref r), Field(ref r)));

    /// <summary>Decodes a bottom response.</summary>
    /// <param name="data">The octets.</param>
    /// <returns>The message.</returns>
    /// <exception cref="FormatException">Wrong version or type, truncated, malformed, or trailing octets.</exception>
    public static BottomResponse DecodeBottomResponse(ReadOnlySpan<byte> data) => Decode(data, 4, (ref TpmReader r) =>
        new BottomResponse(ReadQuote(ref r), Field(ref r), ParsedCertificateCache.Load(Field(ref r))));

    /// <summary>Encodes an endorsement query (type 5: nonce ‖ certificate digest).</summary>
    /// <param name="m">The message.</param>
    /// <returns>The octets.</returns>
    public static byte[] Encode(EndorsementQuery m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var w = Begin(5);
        Field(w, m.Nonce);
        Field(w, m.CertificateDigest);
        return w.ToArray();
    }

    /// <summary>Encodes an endorsement answer (type 6: nonce ‖ digest ‖ u8 found ‖ EK Name ‖ responder certificate DER ‖ signature).</summary>
    /// <param name="m">The message.</param>
    /// <returns>The octets.</returns>
    public static byte[] Encode(EndorsementAnswer m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var w = Begin(6);
        Field(w, m.Nonce);
        Field(w, m.CertificateDigest);
        w.WriteU8(m.EndorsementKeyName is null ? (byte)0 : (byte)1);
        Field(w, m.EndorsementKeyName ?? []);
        Field(w, m.ResponderCertificate.RawData);
        Field(w, m.Signature);
        return w.ToArray();
    }

    /// <summary>Decodes an endorsement query.</summary>
    /// <param name="data">The octets.</param>
    /// <returns>The message.</returns>
    /// <exception cref="FormatException">Wrong version or type, truncated, or trailing octets.</exception>
    public static EndorsementQuery DecodeEndorsementQuery(ReadOnlySpan<byte> data) => Decode(data, 5, (ref TpmReader r) => new EndorsementQuery(Field(ref r), Field(ref r)));

    /// <summary>Decodes an endorsement answer (not yet authenticated: see <see cref="EndorsementAnswer.Authenticate"/>).</summary>
    /// <param name="data">The octets.</param>
    /// <returns>The message.</returns>
    /// <exception cref="FormatException">Wrong version or type, truncated, malformed, or trailing octets.</exception>
    public static EndorsementAnswer DecodeEndorsementAnswer(ReadOnlySpan<byte> data) => Decode(data, 6, (ref TpmReader r) =>
    {
        var nonce = Field(ref r);
        var digest = Field(ref r);
        var found = r.ReadU8();
        var name = Field(ref r);
        if (found > 1 || (found == 0 && name.Length != 0))
        {
            throw new FormatException("The endorsement answer's found flag and EK Name disagree.");
        }

        return new EndorsementAnswer(nonce, digest, found == 1 ? name : null, ParsedCertificateCache.Load(Field(ref r)), Field(ref r));
    });

    private delegate T Body<T>(ref TpmReader reader);

    private static T Decode<T>(ReadOnlySpan<byte> data, byte type, Body<T> body)
    {
        try
        {
            var r = new TpmReader(data);
            var version = r.ReadU8();
            if (version == 1)
            {
                throw new FormatException($"TVP-PCA encoding version 1 is no longer supported: this codec reads version {Version} (version 1 challenges carry no vPCR selection); upgrade the peer.");
            }

            if (version != Version)
            {
                throw new FormatException($"Encoding version {version} is not supported (this codec reads {Version}).");
            }

            var t = r.ReadU8();
            if (t != type)
            {
                throw new FormatException($"Message type {t} where {type} was expected.");
            }

            var m = body(ref r);
            if (r.Remaining != 0)
            {
                throw new FormatException($"{r.Remaining} trailing octets.");
            }

            return m;
        }
        catch (TpmException e)
        {
            throw new FormatException($"Malformed TVP-PCA message: {e.Message}", e);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new FormatException($"Malformed certificate in a TVP-PCA message: {e.Message}", e);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new FormatException($"Malformed TVP-PCA message: {e.Message}", e);
        }
    }

    private static TpmWriter Begin(byte type)
    {
        var w = new TpmWriter(1024);
        w.WriteU8(Version);
        w.WriteU8(type);
        return w;
    }

    private static void Field(TpmWriter w, ReadOnlySpan<byte> bytes)
    {
        w.WriteU32(checked((uint)bytes.Length));
        w.WriteBytes(bytes);
    }

    private static byte[] Field(ref TpmReader r)
    {
        var length = r.ReadU32();
        if (length > (uint)r.Remaining)
        {
            throw new FormatException($"A field of {length} octets is longer than the {r.Remaining} left.");
        }

        return r.ReadBytes((int)length).ToArray();
    }

    private static Guid ReadGuid(ref TpmReader r)
    {
        var b = Field(ref r);
        return b.Length == 16 ? new Guid(b, bigEndian: true) : throw new FormatException($"A VM UUID has 16 octets, not {b.Length}.");
    }

    private static EvidenceReport ReadEvidence(ref TpmReader r)
    {
        var manifest = JsonSerializer.Deserialize<EvidenceReportManifest>(Field(ref r), ManifestJson)
            ?? throw new FormatException("The evidence manifest is null.");
        var log = Field(ref r);
        var attest = Field(ref r);
        var signature = Field(ref r);
        var ak = TpmtPublic.Parse(Field(ref r));
        return new EvidenceReport(manifest, log, attest, signature, ak);
    }

    private static void WriteQuote(TpmWriter w, QuoteEvidence q)
    {
        Field(w, q.Attest);
        Field(w, q.Signature.ToBytes());
        Field(w, q.SigningKey.ToBytes());
        var entries = q.PcrValues.Banks.SelectMany(b => q.PcrValues.PcrsIn(b).Select(p => (Bank: b, Pcr: p))).ToList();
        w.WriteU32(checked((uint)entries.Count));
        foreach (var (bank, pcr) in entries)
        {
            w.WriteAlg(bank);
            w.WriteU8(checked((byte)pcr));
            Field(w, q.PcrValues[bank, pcr]);
        }
    }

    private static QuoteEvidence ReadQuote(ref TpmReader r)
    {
        var attest = Field(ref r);
        var sigBytes = Field(ref r);
        var sr = new TpmReader(sigBytes);
        var signature = TpmtSignature.Unmarshal(ref sr);
        sr.EnsureConsumed();
        var key = TpmtPublic.Parse(Field(ref r));
        var count = r.ReadU32();
        if (count > 8 * (PcrValues.MaxPcr + 1))
        {
            throw new FormatException($"{count} PCR values are too many.");
        }

        var values = new List<(TpmAlgId, int, byte[])>();
        for (var i = 0; i < count; i++)
        {
            var bank = r.ReadAlg();
            var pcr = r.ReadU8();
            values.Add((bank, pcr, Field(ref r)));
        }

        return new QuoteEvidence(attest, signature, key, PcrValues.Create(values));
    }
}
