namespace TrustStack.Tpm.Hardware;

/// <summary>TPMS_PCR_SELECTION: one bank and a bitmap of PCRs (TPM 2.0 Part 2 §10.6.2).</summary>
/// <param name="Hash">The bank.</param>
/// <param name="Select">The PCR bitmap, PCR n at bit (n % 8) of octet n / 8.</param>
public sealed record PcrSelection(TpmAlgId Hash, byte[] Select)
{
    /// <summary>The size of the bitmap for 24 PCRs.</summary>
    public const int DefaultSelectSize = 3;

    /// <summary>Maximum octets in a bitmap (TPM_PCR_SELECT_MAX).</summary>
    public const int MaxSelectSize = 4;

    /// <summary>Creates a selection of <paramref name="pcrs"/> in bank <paramref name="hash"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A PCR index is outside 0..23.</exception>
    public static PcrSelection Create(TpmAlgId hash, params IEnumerable<int> pcrs)
    {
        ArgumentNullException.ThrowIfNull(pcrs);
        var select = new byte[DefaultSelectSize];
        foreach (var pcr in pcrs)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(pcr);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(pcr, DefaultSelectSize * 8);
            select[pcr / 8] |= (byte)(1 << (pcr % 8));
        }

        return new PcrSelection(hash, select);
    }

    /// <summary>The selected PCR indices, ascending.</summary>
    public IEnumerable<int> Pcrs
    {
        get
        {
            for (var i = 0; i < Select.Length * 8; i++)
            {
                if ((Select[i / 8] & (1 << (i % 8))) != 0)
                {
                    yield return i;
                }
            }
        }
    }

    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteAlg(Hash);
        writer.WriteU8(checked((byte)Select.Length));
        writer.WriteBytes(Select);
    }

    /// <summary>Unmarshals the structure.</summary>
    public static PcrSelection Unmarshal(ref TpmReader reader)
    {
        var hash = reader.ReadAlg();
        var size = reader.ReadU8();
        if (size > MaxSelectSize)
        {
            throw reader.Fail(TpmRc.Value, $"sizeofSelect {size} exceeds {MaxSelectSize}");
        }

        return new PcrSelection(hash, reader.ReadBytes(size).ToArray());
    }

    /// <inheritdoc />
    public override string ToString() => $"{Hash}:{string.Join(',', Pcrs)}";
}

/// <summary>TPML_PCR_SELECTION: a list of bank selections (TPM 2.0 Part 2 §10.9.7).</summary>
/// <param name="Selections">The banks, in order.</param>
public sealed record PcrSelectionList(IReadOnlyList<PcrSelection> Selections)
{
    /// <summary>Maximum banks in a list (HASH_COUNT in the reference implementation is at most 16).</summary>
    public const int MaxBanks = 16;

    /// <summary>The empty selection.</summary>
    public static PcrSelectionList Empty { get; } = new(Array.Empty<PcrSelection>());

    /// <summary>One bank with the given PCRs.</summary>
    public static PcrSelectionList Create(TpmAlgId hash, params IEnumerable<int> pcrs) => new([PcrSelection.Create(hash, pcrs)]);

    /// <summary>Parses the tpm2-tools form <c>sha256:0,1,2+sha1:7</c>.</summary>
    /// <exception cref="FormatException">The text is not a PCR list.</exception>
    public static PcrSelectionList Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var banks = new List<PcrSelection>();
        foreach (var bank in text.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = bank.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new FormatException($"PCR bank '{bank}' is not of the form alg:pcr,pcr,...");
            }

            var alg = bank[..colon].ToLowerInvariant() switch
            {
                "sha1" => TpmAlgId.Sha1,
                "sha256" => TpmAlgId.Sha256,
                "sha384" => TpmAlgId.Sha384,
                "sha512" => TpmAlgId.Sha512,
                var other => throw new FormatException($"Unknown PCR bank '{other}'."),
            };
            var pcrs = new List<int>();
            foreach (var item in bank[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(item, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var pcr) || pcr is < 0 or > 23)
                {
                    throw new FormatException($"'{item}' is not a PCR index 0..23.");
                }

                pcrs.Add(pcr);
            }

            banks.Add(PcrSelection.Create(alg, pcrs));
        }

        return new PcrSelectionList(banks);
    }

    /// <summary>(bank, pcr) pairs in the order a TPM digests them: banks in list order, PCRs ascending.</summary>
    public IEnumerable<(TpmAlgId Bank, int Pcr)> Enumerate()
    {
        foreach (var selection in Selections)
        {
            foreach (var pcr in selection.Pcrs)
            {
                yield return (selection.Hash, pcr);
            }
        }
    }

    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteU32(checked((uint)Selections.Count));
        foreach (var s in Selections)
        {
            s.Marshal(writer);
        }
    }

    /// <summary>Unmarshals the structure.</summary>
    public static PcrSelectionList Unmarshal(ref TpmReader reader)
    {
        var count = reader.ReadU32();
        if (count > MaxBanks)
        {
            throw reader.Fail(TpmRc.Size, $"{count} PCR banks exceed {MaxBanks}");
        }

        var list = new PcrSelection[count];
        for (var i = 0; i < count; i++)
        {
            list[i] = PcrSelection.Unmarshal(ref reader);
        }

        return new PcrSelectionList(list);
    }

    /// <inheritdoc />
    public override string ToString() => string.Join('+', Selections);
}
