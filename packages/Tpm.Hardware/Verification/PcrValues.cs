using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// An immutable set of PCR values: for each bank (hash algorithm) and PCR index, the digest.
/// Reads and writes the two PCR file forms of tpm2-tools (<c>tpm2_quote -o FILE -F values|serialized</c>)
/// and computes a quote's pcrDigest.
/// </summary>
public sealed class PcrValues : IEquatable<PcrValues>
{
    /// <summary>Size of the serialized TPML_PCR_SELECTION C struct: u32 count + 16 × TPMS_PCR_SELECTION (8 octets each).</summary>
    public const int SerializedSelectionSize = 4 + (PcrSelectionList.MaxBanks * SerializedPcrSelectionSize);

    /// <summary>Size of one serialized TPML_DIGEST C struct: u32 count + 8 × TPM2B_DIGEST (u16 size + 64 octets).</summary>
    public const int SerializedDigestListSize = 4 + (MaxDigestsPerList * (2 + MaxDigestSize));

    /// <summary>Highest PCR index a selection can name (TPM2_MAX_PCRS is 32; PC Client TPMs have 24).</summary>
    public const int MaxPcr = 31;

    // TPMS_PCR_SELECTION as the C compiler lays it out: u16 hash, u8 sizeofSelect, u8 pcrSelect[4], 1 octet padding.
    private const int SerializedPcrSelectionSize = 8;
    private const int MaxDigestsPerList = 8;
    private const int MaxDigestSize = 64;

    private readonly SortedDictionary<(TpmAlgId Bank, int Pcr), byte[]> _values;

    private PcrValues(SortedDictionary<(TpmAlgId Bank, int Pcr), byte[]> values) => _values = values;

    /// <summary>No values.</summary>
    public static PcrValues Empty { get; } = new(new SortedDictionary<(TpmAlgId Bank, int Pcr), byte[]>());

    /// <summary>The number of (bank, PCR) values.</summary>
    public int Count => _values.Count;

    /// <summary>The banks that have values, by ascending TPM_ALG_ID (SHA-1, SHA-256, SHA-384, SHA-512).</summary>
    public IReadOnlyList<TpmAlgId> Banks => _values.Keys.Select(k => k.Bank).Distinct().ToArray();

    /// <summary>The PCR indices with a value in <paramref name="bank"/>, ascending.</summary>
    public IReadOnlyList<int> PcrsIn(TpmAlgId bank) => _values.Keys.Where(k => k.Bank == bank).Select(k => k.Pcr).ToArray();

    /// <summary>The value of PCR <paramref name="pcr"/> in <paramref name="bank"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such value.</exception>
    public byte[] this[TpmAlgId bank, int pcr] => TryGetValue(bank, pcr, out var digest)
        ? digest
        : throw new KeyNotFoundException($"No value for PCR {bank}:{pcr}.");

    /// <summary>Gets a copy of the value of PCR <paramref name="pcr"/> in <paramref name="bank"/>.</summary>
    public bool TryGetValue(TpmAlgId bank, int pcr, out byte[] digest)
    {
        if (_values.TryGetValue((bank, pcr), out var stored))
        {
            digest = (byte[])stored.Clone();
            return true;
        }

        digest = [];
        return false;
    }

    /// <summary>A copy with PCR <paramref name="pcr"/> of <paramref name="bank"/> set to <paramref name="digest"/>.</summary>
    /// <exception cref="ArgumentException">The bank is not a supported hash, or the digest has the wrong size.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The PCR index is outside 0..31.</exception>
    public PcrValues With(TpmAlgId bank, int pcr, ReadOnlySpan<byte> digest)
    {
        Validate(bank, pcr, digest);
        var copy = new SortedDictionary<(TpmAlgId Bank, int Pcr), byte[]>(_values)
        {
            [(bank, pcr)] = digest.ToArray(),
        };
        return new PcrValues(copy);
    }

    /// <summary>Builds a set from (bank, PCR, digest) triples; a later duplicate replaces an earlier one.</summary>
    /// <exception cref="ArgumentException">A bank is not a supported hash, or a digest has the wrong size.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A PCR index is outside 0..31.</exception>
    public static PcrValues Create(IEnumerable<(TpmAlgId Bank, int Pcr, byte[] Digest)> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var map = new SortedDictionary<(TpmAlgId Bank, int Pcr), byte[]>();
        foreach (var (bank, pcr, digest) in values)
        {
            ArgumentNullException.ThrowIfNull(digest);
            Validate(bank, pcr, digest);
            map[(bank, pcr)] = (byte[])digest.Clone();
        }

        return new PcrValues(map);
    }

    /// <summary>The (bank, PCR) pairs of <paramref name="selection"/> that have no value here, in TPM order.</summary>
    public IReadOnlyList<(TpmAlgId Bank, int Pcr)> Missing(PcrSelectionList selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        return selection.Enumerate().Where(p => !_values.ContainsKey(p)).ToArray();
    }

    /// <summary>
    /// The digest a TPM puts in TPMS_QUOTE_INFO.pcrDigest: H_<paramref name="hashAlg"/> of the
    /// selected values concatenated in TPM order — banks in selection order, PCRs ascending
    /// (TPM 2.0 Part 3 §18.4, PCRComputeCurrentDigest).
    /// </summary>
    /// <exception cref="ArgumentException">A selected PCR has no value, or the hash is not supported.</exception>
    public byte[] ComputeDigest(PcrSelectionList selection, TpmAlgId hashAlg)
    {
        ArgumentNullException.ThrowIfNull(selection);
        if (!TpmHash.IsSupported(hashAlg))
        {
            throw new ArgumentException($"Hash {hashAlg} is not supported.", nameof(hashAlg));
        }

        using var hash = IncrementalHash.CreateHash(TpmHash.Name(hashAlg));
        foreach (var key in selection.Enumerate())
        {
            if (!_values.TryGetValue(key, out var value))
            {
                throw new ArgumentException($"No value for selected PCR {key.Bank}:{key.Pcr}.", nameof(selection));
            }

            hash.AppendData(value);
        }

        return hash.GetHashAndReset();
    }

    /// <summary>
    /// Parses <c>tpm2_quote -F values</c>: the selected digests concatenated, banks in selection
    /// order, PCRs ascending, nothing else — so the selection is needed to split it.
    /// </summary>
    /// <exception cref="FormatException">The length does not match the selection.</exception>
    public static PcrValues ParseValues(ReadOnlySpan<byte> data, PcrSelectionList selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var pairs = selection.Enumerate().ToArray();
        var expected = 0;
        foreach (var (bank, _) in pairs)
        {
            if (!TpmHash.IsSupported(bank))
            {
                throw new FormatException($"PCR bank {bank} is not a supported hash.");
            }

            expected += TpmHash.DigestSize(bank);
        }

        if (data.Length != expected)
        {
            throw new FormatException($"A values PCR file for {selection} has {expected} octets, not {data.Length}.");
        }

        var map = new SortedDictionary<(TpmAlgId Bank, int Pcr), byte[]>();
        var offset = 0;
        foreach (var (bank, pcr) in pairs)
        {
            var size = TpmHash.DigestSize(bank);
            map[(bank, pcr)] = data.Slice(offset, size).ToArray();
            offset += size;
        }

        return new PcrValues(map);
    }

    /// <summary>
    /// Parses <c>tpm2_quote -F serialized</c> (tpm2-tools 5.x): a little-endian dump of the C
    /// structs TPML_PCR_SELECTION (132 octets: u32 count, 16 × {u16 hash, u8 sizeofSelect,
    /// u8 pcrSelect[4], u8 padding}), u32 n, then n × TPML_DIGEST (532 octets: u32 count,
    /// 8 × {u16 size, u8 buffer[64]}). The digests, across the lists in order, are the selected
    /// PCRs in TPM order.
    /// </summary>
    /// <param name="data">The file.</param>
    /// <param name="selection">The selection stored in the file.</param>
    /// <exception cref="FormatException">The octets are not a well-formed serialized PCR file.</exception>
    public static PcrValues ParseSerialized(ReadOnlySpan<byte> data, out PcrSelectionList selection)
    {
        if (data.Length < SerializedSelectionSize + 4)
        {
            throw new FormatException($"A serialized PCR file has at least {SerializedSelectionSize + 4} octets, not {data.Length}.");
        }

        var bankCount = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (bankCount > PcrSelectionList.MaxBanks)
        {
            throw new FormatException($"TPML_PCR_SELECTION.count {bankCount} exceeds {PcrSelectionList.MaxBanks} (offset 0).");
        }

        var banks = new List<PcrSelection>();
        for (var i = 0; i < (int)bankCount; i++)
        {
            var at = 4 + (i * SerializedPcrSelectionSize);
            var hash = (TpmAlgId)BinaryPrimitives.ReadUInt16LittleEndian(data[at..]);
            var sizeOfSelect = data[at + 2];
            if (!TpmHash.IsSupported(hash))
            {
                throw new FormatException($"PCR bank {hash} (0x{(ushort)hash:x4}) at offset {at} is not a supported hash.");
            }

            // A TPM's selections have at least PCR_SELECT_MIN octets (TPM 2.0 Part 2 §10.6.2); a
            // shorter bitmap is no file tpm2-tools writes, and two encodings of one selection are one too many.
            if (sizeOfSelect is < PcrSelection.DefaultSelectSize or > PcrSelection.MaxSelectSize)
            {
                throw new FormatException($"sizeofSelect {sizeOfSelect} at offset {at + 2} is not {PcrSelection.DefaultSelectSize}..{PcrSelection.MaxSelectSize}.");
            }

            banks.Add(new PcrSelection(hash, data.Slice(at + 3, sizeOfSelect).ToArray()));
        }

        selection = new PcrSelectionList(banks);
        var pairs = selection.Enumerate().ToArray();
        var listCount = BinaryPrimitives.ReadUInt32LittleEndian(data[SerializedSelectionSize..]);
        var body = data[(SerializedSelectionSize + 4)..];
        if (listCount > (uint)(body.Length / SerializedDigestListSize) || body.Length != (int)listCount * SerializedDigestListSize)
        {
            throw new FormatException($"{listCount} TPML_DIGEST lists need {(ulong)listCount * SerializedDigestListSize} octets after offset {SerializedSelectionSize + 4}, the file has {body.Length}.");
        }

        var map = new SortedDictionary<(TpmAlgId Bank, int Pcr), byte[]>();
        var next = 0;
        for (var list = 0; list < (int)listCount; list++)
        {
            var listAt = list * SerializedDigestListSize;
            var count = BinaryPrimitives.ReadUInt32LittleEndian(body[listAt..]);
            if (count > MaxDigestsPerList)
            {
                throw new FormatException($"TPML_DIGEST.count {count} at offset {SerializedSelectionSize + 4 + listAt} exceeds {MaxDigestsPerList}.");
            }

            for (var d = 0; d < (int)count; d++)
            {
                var at = listAt + 4 + (d * (2 + MaxDigestSize));
                var fileOffset = SerializedSelectionSize + 4 + at;
                if (next >= pairs.Length)
                {
                    throw new FormatException($"The file holds more digests than the {pairs.Length} PCRs selected (offset {fileOffset}).");
                }

                var (bank, pcr) = pairs[next++];
                var size = BinaryPrimitives.ReadUInt16LittleEndian(body[at..]);
                if (size != TpmHash.DigestSize(bank))
                {
                    throw new FormatException($"The digest of PCR {bank}:{pcr} at offset {fileOffset} has {size} octets, {bank} makes {TpmHash.DigestSize(bank)}.");
                }

                map[(bank, pcr)] = body.Slice(at + 2, size).ToArray();
            }
        }

        if (next != pairs.Length)
        {
            throw new FormatException($"The file holds {next} digests for {pairs.Length} selected PCRs.");
        }

        return new PcrValues(map);
    }

    /// <summary>The <c>-F values</c> form for <paramref name="selection"/>.</summary>
    /// <exception cref="ArgumentException">A selected PCR has no value.</exception>
    public byte[] ToValuesFormat(PcrSelectionList selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var output = new List<byte>();
        foreach (var key in selection.Enumerate())
        {
            output.AddRange(Get(key));
        }

        return [.. output];
    }

    /// <summary>The <c>-F serialized</c> form for <paramref name="selection"/>, digests in TPML_DIGEST lists of at most 8 as tpm2-tools writes them.</summary>
    /// <exception cref="ArgumentException">A selected PCR has no value, or the selection has more than 16 banks.</exception>
    public byte[] ToSerializedFormat(PcrSelectionList selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        if (selection.Selections.Count > PcrSelectionList.MaxBanks)
        {
            throw new ArgumentException($"More than {PcrSelectionList.MaxBanks} banks.", nameof(selection));
        }

        var digests = selection.Enumerate().Select(Get).ToArray();
        var lists = (digests.Length + MaxDigestsPerList - 1) / MaxDigestsPerList;
        var output = new byte[SerializedSelectionSize + 4 + (lists * SerializedDigestListSize)];
        BinaryPrimitives.WriteUInt32LittleEndian(output, (uint)selection.Selections.Count);
        for (var i = 0; i < selection.Selections.Count; i++)
        {
            var s = selection.Selections[i];
            var at = 4 + (i * SerializedPcrSelectionSize);
            BinaryPrimitives.WriteUInt16LittleEndian(output.AsSpan(at), (ushort)s.Hash);
            output[at + 2] = checked((byte)s.Select.Length);
            s.Select.CopyTo(output, at + 3);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(SerializedSelectionSize), (uint)lists);
        for (var i = 0; i < digests.Length; i++)
        {
            var listAt = SerializedSelectionSize + 4 + ((i / MaxDigestsPerList) * SerializedDigestListSize);
            var inList = i % MaxDigestsPerList;
            BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(listAt), (uint)Math.Min(MaxDigestsPerList, digests.Length - (i - inList)));
            var at = listAt + 4 + (inList * (2 + MaxDigestSize));
            BinaryPrimitives.WriteUInt16LittleEndian(output.AsSpan(at), (ushort)digests[i].Length);
            digests[i].CopyTo(output, at + 2);
        }

        return output;
    }

    /// <inheritdoc />
    public bool Equals(PcrValues? other) =>
        other is not null && other._values.Count == _values.Count &&
        _values.All(kv => other._values.TryGetValue(kv.Key, out var v) && v.AsSpan().SequenceEqual(kv.Value));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as PcrValues);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var (key, value) in _values)
        {
            hash.Add(key);
            hash.AddBytes(value);
        }

        return hash.ToHashCode();
    }

    /// <summary>The values in the layout of tpm2-tools' YAML (<c>sha256:</c> then <c>  0 : 0x…</c> per PCR).</summary>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        foreach (var bank in Banks)
        {
            text.Append(BankName(bank)).Append(":\n");
            foreach (var pcr in PcrsIn(bank))
            {
                text.Append("  ").Append(pcr.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(" : 0x")
                    .Append(Convert.ToHexString(_values[(bank, pcr)])).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>The tpm2-tools name of a bank: sha1, sha256, sha384, sha512.</summary>
    public static string BankName(TpmAlgId bank) => bank switch
    {
        TpmAlgId.Sha1 => "sha1",
        TpmAlgId.Sha256 => "sha256",
        TpmAlgId.Sha384 => "sha384",
        TpmAlgId.Sha512 => "sha512",
        _ => $"0x{(ushort)bank:x4}",
    };

    private byte[] Get((TpmAlgId Bank, int Pcr) key) =>
        _values.TryGetValue(key, out var value) ? value : throw new ArgumentException($"No value for selected PCR {key.Bank}:{key.Pcr}.");

    private static void Validate(TpmAlgId bank, int pcr, ReadOnlySpan<byte> digest)
    {
        if (!TpmHash.IsSupported(bank))
        {
            throw new ArgumentException($"PCR bank {bank} is not a supported hash.", nameof(bank));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(pcr);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pcr, MaxPcr);
        if (digest.Length != TpmHash.DigestSize(bank))
        {
            throw new ArgumentException($"A {bank} PCR value has {TpmHash.DigestSize(bank)} octets, not {digest.Length}.", nameof(digest));
        }
    }
}
