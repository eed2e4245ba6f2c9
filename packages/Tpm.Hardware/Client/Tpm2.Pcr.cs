namespace TrustStack.Tpm.Hardware;

/// <summary>The answer of TPM2_PCR_Read: the PCRs actually read (at most eight per call) and their values.</summary>
/// <param name="UpdateCounter">pcrUpdateCounter at the time of the read.</param>
/// <param name="Selection">The PCRs read, which may be fewer than asked for.</param>
/// <param name="Digests">Their values, in <see cref="PcrSelectionList.Enumerate"/> order.</param>
public sealed record PcrReadResult(uint UpdateCounter, PcrSelectionList Selection, IReadOnlyList<byte[]> Digests)
{
    /// <summary>(bank, PCR, value) triples in the order the TPM returned them.</summary>
    public IEnumerable<(TpmAlgId Bank, int Pcr, byte[] Value)> Values =>
        Selection.Enumerate().Zip(Digests, (at, value) => (at.Bank, at.Pcr, value));
}

/// <summary>PCR commands (TPM 2.0 Part 3 §22).</summary>
public sealed partial class Tpm2
{
    /// <summary>TPM2_PCR_Extend: extends <paramref name="pcr"/> in every bank listed in <paramref name="digests"/> (banks the TPM has not allocated are ignored).</summary>
    /// <param name="pcr">PCR index 0..23, or TPM_RH_NULL for a no-op.</param>
    /// <param name="digests">One digest per bank.</param>
    /// <param name="auth">PCR authorization; the empty password by default.</param>
    /// <exception cref="TpmException">For example TPM_RC_LOCALITY, TPM_RC_HASH, TPM_RC_SIZE.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027:API with optional parameter(s) should have the most parameters amongst its public overloads", Justification = "The overloads differ in parameter types (a digest list or one bank's digest), not in optional parameters.")]
    public void PcrExtend(uint pcr, IEnumerable<TpmtHa> digests, TpmAuthorization? auth = null)
    {
        ArgumentNullException.ThrowIfNull(digests);
        var list = digests.ToArray();
        Execute(TpmCc.PcrExtend, [pcr], [auth ?? TpmAuthorization.EmptyPassword], w =>
        {
            w.WriteU32((uint)list.Length);
            foreach (var d in list)
            {
                d.Marshal(w);
            }
        });
    }

    /// <summary>TPM2_PCR_Extend of one bank.</summary>
    /// <param name="pcr">PCR index.</param>
    /// <param name="bank">The bank.</param>
    /// <param name="digest">A digest of that bank's size.</param>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public void PcrExtend(uint pcr, TpmAlgId bank, byte[] digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        PcrExtend(pcr, [new TpmtHa(bank, digest)]);
    }

    /// <summary>TPM2_PCR_Event: the TPM hashes <paramref name="data"/> with every allocated bank, extends <paramref name="pcr"/> and returns the digests.</summary>
    /// <param name="pcr">PCR index, or TPM_RH_NULL to only hash.</param>
    /// <param name="data">Event data, at most 1024 octets.</param>
    /// <param name="auth">PCR authorization; the empty password by default.</param>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public IReadOnlyList<TpmtHa> PcrEvent(uint pcr, ReadOnlySpan<byte> data, TpmAuthorization? auth = null)
    {
        var copy = data.ToArray();
        var r = Execute(TpmCc.PcrEvent, [pcr], [auth ?? TpmAuthorization.EmptyPassword], w => w.WriteTpm2b(copy)).Reader();
        var count = r.ReadU32();
        var result = new List<TpmtHa>();
        for (var i = 0; i < count; i++)
        {
            result.Add(TpmtHa.Unmarshal(ref r));
        }

        return result;
    }

    /// <summary>TPM2_PCR_Read: one call, so at most eight values; see <see cref="PcrReadAll"/> for all of them.</summary>
    /// <param name="selection">The PCRs to read.</param>
    /// <exception cref="TpmException">For example TPM_RC_HASH or TPM_RC_VALUE for a bad selection.</exception>
    public PcrReadResult PcrRead(PcrSelectionList selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var r = Execute(TpmCc.PcrRead, [], [], selection.Marshal).Reader();
        var counter = r.ReadU32();
        var read = PcrSelectionList.Unmarshal(ref r);
        var count = r.ReadU32();
        var digests = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            digests.Add(r.ReadTpm2b(64));
        }

        return new PcrReadResult(counter, read, digests);
    }

    /// <summary>Reads every selected PCR, calling TPM2_PCR_Read until the TPM has returned them all (PCRs of unallocated banks are absent).</summary>
    /// <param name="selection">The PCRs to read.</param>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public IReadOnlyDictionary<(TpmAlgId Bank, int Pcr), byte[]> PcrReadAll(PcrSelectionList selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var remaining = selection.Selections.Select(s => new PcrSelection(s.Hash, [.. s.Select])).ToArray();
        var values = new Dictionary<(TpmAlgId Bank, int Pcr), byte[]>();
        while (remaining.Any(s => s.Select.Any(b => b != 0)))
        {
            var result = PcrRead(new PcrSelectionList(remaining));
            if (result.Digests.Count == 0)
            {
                break;
            }

            foreach (var (bank, pcr, value) in result.Values)
            {
                values[(bank, pcr)] = value;
                foreach (var s in remaining)
                {
                    if (s.Hash == bank && pcr / 8 < s.Select.Length)
                    {
                        s.Select[pcr / 8] &= unchecked((byte)~(1 << (pcr % 8)));
                    }
                }
            }
        }

        return values;
    }

    /// <summary>TPM2_PCR_Reset: sets <paramref name="pcr"/> to zero in every bank (PC Client: PCRs 16 and 23 at locality 0).</summary>
    /// <param name="pcr">PCR index.</param>
    /// <param name="auth">PCR authorization; the empty password by default.</param>
    /// <exception cref="TpmException">TPM_RC_LOCALITY when the PCR may not be reset from this locality.</exception>
    public void PcrReset(uint pcr, TpmAuthorization? auth = null) =>
        Execute(TpmCc.PcrReset, [pcr], [auth ?? TpmAuthorization.EmptyPassword], null);
}
