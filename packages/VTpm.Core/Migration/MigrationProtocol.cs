using System.Security.Cryptography;
using System.Text;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>The kinds of migration protocol messages (README: "Messages").</summary>
internal enum MigrationMessageKind : byte
{
    OfferRequest = 1,
    Offer = 2,
    Prepare = 3,
    PrepareReceipt = 4,
    Commit = 5,
    CommitAck = 6,
    Abort = 7,
    AbortAck = 8,
    Error = 15,
}

/// <summary>
/// One protocol message: <c>"TSMG" ‖ protocol version(u16) ‖ kind(u8) ‖ message id(16) ‖
/// migration id(16) ‖ body(u32-sized)</c>. Ids are UUIDs in big-endian order.
/// </summary>
internal sealed record MigrationMessage(MigrationMessageKind Kind, Guid MessageId, Guid MigrationId, byte[] Body)
{
    public const ushort ProtocolVersion = 1;
    public const int MaxSize = 64 << 20;
    private static readonly byte[] s_magic = "TSMG"u8.ToArray();

    public byte[] Encode()
    {
        var w = new TpmWriter(Body.Length + 48);
        w.WriteBytes(s_magic);
        w.WriteU16(ProtocolVersion);
        w.WriteU8((byte)Kind);
        VTpmStateFormat.WriteGuid(w, MessageId);
        VTpmStateFormat.WriteGuid(w, MigrationId);
        w.WriteU32((uint)Body.Length);
        w.WriteBytes(Body);
        return w.ToArray();
    }

    /// <exception cref="FormatException">Not a migration message.</exception>
    public static MigrationMessage Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 4 || !bytes[..4].SequenceEqual(s_magic))
        {
            throw new FormatException("not a TrustStack migration message (bad magic)");
        }

        try
        {
            var r = new TpmReader(bytes[4..]);
            var version = r.ReadU16();
            if (version != ProtocolVersion)
            {
                throw new FormatException($"protocol version {version} is not supported (expected {ProtocolVersion})");
            }

            var kind = (MigrationMessageKind)r.ReadU8();
            if (!Enum.IsDefined(kind))
            {
                throw new FormatException($"message kind {(byte)kind} is not defined");
            }

            var messageId = VTpmStateFormat.ReadGuid(ref r);
            var migrationId = VTpmStateFormat.ReadGuid(ref r);
            var length = r.ReadU32();
            if (length != r.Remaining)
            {
                throw new FormatException("the body length does not match the message");
            }

            var body = r.ReadBytes((int)length).ToArray();
            return new MigrationMessage(kind, messageId, migrationId, body);
        }
        catch (TpmException e)
        {
            throw new FormatException($"malformed migration message: {e.Message}", e);
        }
    }

    public static MigrationMessage Error(Guid messageId, Guid migrationId, MigrationErrorCode code, string reason)
    {
        var w = new TpmWriter();
        w.WriteU16((ushort)code);
        w.WriteTpm2b(Encoding.UTF8.GetBytes(reason.Length > 4000 ? reason[..4000] : reason));
        return new MigrationMessage(MigrationMessageKind.Error, messageId, migrationId, w.ToArray());
    }

    /// <summary>The code and reason of an error message; a malformed error body (from a hostile peer) reads as <see cref="MigrationErrorCode.Malformed"/>, never as an exception.</summary>
    public (MigrationErrorCode Code, string Reason) ReadError()
    {
        try
        {
            var r = new TpmReader(Body);
            var code = (MigrationErrorCode)r.ReadU16();
            var reason = Encoding.UTF8.GetString(r.ReadTpm2b());
            r.EnsureConsumed();
            return (code, reason);
        }
        catch (TpmException e)
        {
            return (MigrationErrorCode.Malformed, $"an unreadable error message ({e.Message})");
        }
    }
}

/// <summary>Why a destination refused a message.</summary>
internal enum MigrationErrorCode : ushort
{
    Malformed = 1,
    VmExists = 2,
    UnknownMigration = 3,
    WrongState = 4,
    Aborted = 5,
    Decryption = 6,
    Format = 7,
    Unauthorized = 8,
    Internal = 9,
    Busy = 10,
}

/// <summary>OfferRequest body: VM ‖ source nonce ‖ the state-format versions the source writes.</summary>
internal sealed record OfferRequestBody(Guid VmId, byte[] Nonce, ushort MinVersion, ushort MaxVersion)
{
    public byte[] Encode()
    {
        var w = new TpmWriter();
        VTpmStateFormat.WriteGuid(w, VmId);
        w.WriteTpm2b(Nonce);
        w.WriteU16(MinVersion);
        w.WriteU16(MaxVersion);
        return w.ToArray();
    }

    public static OfferRequestBody Decode(ReadOnlySpan<byte> body)
    {
        var r = new TpmReader(body);
        var result = new OfferRequestBody(VTpmStateFormat.ReadGuid(ref r), r.ReadTpm2b(64), r.ReadU16(), r.ReadU16());
        r.EnsureConsumed();
        return result.Nonce.Length < 16 ? throw new FormatException("the nonce is shorter than 16 octets") : result;
    }
}

/// <summary>
/// Offer body: the destination's platform attestation (quote over its virtualization-layer PCRs
/// and junction PCR) and its migration key certified by the same AK; both signed over
/// <see cref="MigrationBinding.Offer"/>, which binds the source's nonce, the migration id, the VM,
/// the version range and the migration key's Name.
/// </summary>
internal sealed record OfferBody(
    Guid VmId,
    byte[] Nonce,
    ushort MinVersion,
    ushort MaxVersion,
    TpmtPublic AttestationKey,
    TpmtPublic MigrationKey,
    byte[] QuoteMessage,
    TpmtSignature QuoteSignature,
    byte[] PcrValues,
    byte[] CertifyMessage,
    TpmtSignature CertifySignature)
{
    public byte[] Encode()
    {
        var w = new TpmWriter(2048);
        VTpmStateFormat.WriteGuid(w, VmId);
        w.WriteTpm2b(Nonce);
        w.WriteU16(MinVersion);
        w.WriteU16(MaxVersion);
        AttestationKey.MarshalSized(w);
        MigrationKey.MarshalSized(w);
        w.WriteTpm2b(QuoteMessage);
        QuoteSignature.Marshal(w);
        w.WriteTpm2b(PcrValues);
        w.WriteTpm2b(CertifyMessage);
        CertifySignature.Marshal(w);
        return w.ToArray();
    }

    public static OfferBody Decode(ReadOnlySpan<byte> body)
    {
        var r = new TpmReader(body);
        var result = new OfferBody(
            VTpmStateFormat.ReadGuid(ref r),
            r.ReadTpm2b(64),
            r.ReadU16(),
            r.ReadU16(),
            TpmtPublic.UnmarshalSized(ref r),
            TpmtPublic.UnmarshalSized(ref r),
            r.ReadTpm2b(),
            TpmtSignature.Unmarshal(ref r),
            r.ReadTpm2b(),
            r.ReadTpm2b(),
            TpmtSignature.Unmarshal(ref r));
        r.EnsureConsumed();
        return result;
    }
}

/// <summary>
/// Prepare body, the migration package: a header (the AEAD's associated data) ‖ the AES key
/// wrapped to the destination's migration key (TPM2_MakeCredential semantics: TPM2B_ID_OBJECT ‖
/// TPM2B_ENCRYPTED_SECRET, for the key's own Name) ‖ GCM nonce ‖ ciphertext ‖ tag.
/// Header: <c>"TSVTPKG1" ‖ format version(u16) ‖ migration id ‖ VM ‖ H(commit secret) ‖ H(abort secret) ‖ TPM2B(migration key Name)</c>.
/// </summary>
internal sealed record PackageBody(
    ushort FormatVersion,
    Guid MigrationId,
    Guid VmId,
    byte[] CommitDigest,
    byte[] AbortDigest,
    byte[] MigrationKeyName,
    byte[] CredentialBlob,
    byte[] EncryptedSecret,
    byte[] Nonce,
    byte[] Ciphertext,
    byte[] Tag)
{
    public const int KeySize = 32;
    public const int NonceSize = 12;
    public const int TagSize = 16;
    private static readonly byte[] s_magic = "TSVTPKG1"u8.ToArray();

    public byte[] Header()
    {
        var w = new TpmWriter();
        w.WriteBytes(s_magic);
        w.WriteU16(FormatVersion);
        VTpmStateFormat.WriteGuid(w, MigrationId);
        VTpmStateFormat.WriteGuid(w, VmId);
        w.WriteBytes(CommitDigest);
        w.WriteBytes(AbortDigest);
        w.WriteTpm2b(MigrationKeyName);
        return w.ToArray();
    }

    public byte[] Encode()
    {
        var w = new TpmWriter(Ciphertext.Length + 512);
        w.WriteBytes(Header());
        w.WriteTpm2b(CredentialBlob);
        w.WriteTpm2b(EncryptedSecret);
        w.WriteBytes(Nonce);
        w.WriteU32((uint)Ciphertext.Length);
        w.WriteBytes(Ciphertext);
        w.WriteBytes(Tag);
        return w.ToArray();
    }

    public static PackageBody Decode(ReadOnlySpan<byte> body)
    {
        var r = new TpmReader(body);
        if (body.Length < s_magic.Length || !r.ReadBytes(s_magic.Length).SequenceEqual(s_magic))
        {
            throw new FormatException("not a TrustStack vTPM migration package (bad magic)");
        }

        var version = r.ReadU16();
        var migrationId = VTpmStateFormat.ReadGuid(ref r);
        var vmId = VTpmStateFormat.ReadGuid(ref r);
        var commit = r.ReadBytes(32).ToArray();
        var abort = r.ReadBytes(32).ToArray();
        var keyName = r.ReadTpm2b(66);
        var blob = r.ReadTpm2b();
        var secret = r.ReadTpm2b();
        var nonce = r.ReadBytes(NonceSize).ToArray();
        var length = r.ReadU32();
        if (length > r.Remaining - TagSize)
        {
            throw new FormatException("the ciphertext is truncated");
        }

        var ciphertext = r.ReadBytes((int)length).ToArray();
        var tag = r.ReadBytes(TagSize).ToArray();
        r.EnsureConsumed();
        return new PackageBody(version, migrationId, vmId, commit, abort, keyName, blob, secret, nonce, ciphertext, tag);
    }
}

/// <summary>PrepareReceipt body: VM ‖ H(package) ‖ a quote by the destination's AK whose qualifying data is <see cref="MigrationBinding.Receipt"/>.</summary>
internal sealed record ReceiptBody(Guid VmId, byte[] PackageDigest, byte[] QuoteMessage, TpmtSignature Signature)
{
    public byte[] Encode()
    {
        var w = new TpmWriter(512);
        VTpmStateFormat.WriteGuid(w, VmId);
        w.WriteTpm2b(PackageDigest);
        w.WriteTpm2b(QuoteMessage);
        Signature.Marshal(w);
        return w.ToArray();
    }

    public static ReceiptBody Decode(ReadOnlySpan<byte> body)
    {
        var r = new TpmReader(body);
        var result = new ReceiptBody(VTpmStateFormat.ReadGuid(ref r), r.ReadTpm2b(64), r.ReadTpm2b(), TpmtSignature.Unmarshal(ref r));
        r.EnsureConsumed();
        return result;
    }
}

/// <summary>The digests TPM signatures in the protocol are made over.</summary>
internal static class MigrationBinding
{
    public static byte[] Offer(ReadOnlySpan<byte> nonce, Guid migrationId, Guid vmId, ushort minVersion, ushort maxVersion, ReadOnlySpan<byte> migrationKeyName)
    {
        var w = new TpmWriter();
        w.WriteBytes("TSVTMIG offer\0"u8);
        w.WriteTpm2b(nonce);
        VTpmStateFormat.WriteGuid(w, migrationId);
        VTpmStateFormat.WriteGuid(w, vmId);
        w.WriteU16(minVersion);
        w.WriteU16(maxVersion);
        w.WriteTpm2b(migrationKeyName);
        return SHA256.HashData(w.WrittenSpan);
    }

    public static byte[] Receipt(Guid migrationId, Guid vmId, ReadOnlySpan<byte> packageDigest)
    {
        var w = new TpmWriter();
        w.WriteBytes("TSVTMIG receipt\0"u8);
        VTpmStateFormat.WriteGuid(w, migrationId);
        VTpmStateFormat.WriteGuid(w, vmId);
        w.WriteTpm2b(packageDigest);
        return SHA256.HashData(w.WrittenSpan);
    }

    /// <summary>The migration key template: an ECC P-256 restricted decryption primary in the owner hierarchy (fixedTPM, fixedParent), unique per migration (its unique field is derived from the migration id), so it is re-derived from the storage seed after a restart and never leaves the TPM.</summary>
    public static TpmtPublic MigrationKeyTemplate(Guid migrationId)
    {
        var x = SHA256.HashData([.. "TSVTMIG key\0"u8, .. migrationId.ToByteArray(bigEndian: true)]);
        return TpmTemplates.SrkEccP256().WithUnique(new EccPoint(x, new byte[32]));
    }
}
