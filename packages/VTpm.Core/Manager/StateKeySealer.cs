using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// Seals the manager's 32-octet state key with the hardware TPM (as the Xen vTPM manager does):
/// a KEYEDHASH sealed data object under the owner SRK (ECC P-256, re-derived from the storage
/// seed each time, so nothing is made persistent in the hardware TPM), whose authPolicy is
/// TPM2_PolicyPCR over the virtualization-layer PCRs. The blob file holds the selection, the PCR
/// values sealed to (to name the PCRs that changed), and TPM2B_PRIVATE ‖ TPM2B_PUBLIC.
/// </summary>
internal static class StateKeySealer
{
    public const string FileName = "vtpm-state-key.sealed";
    public const int KeySize = 32;
    private static readonly byte[] s_magic = "TSVTKEY1"u8.ToArray();
    private const ushort Version = 1;

    /// <summary>Unseals the key in <paramref name="path"/>, or creates, seals and stores a new one when there is none.</summary>
    public static byte[] OpenOrCreate(Tpm2 tpm, string path, PcrSelectionList selection, IRandomSource random)
    {
        return File.Exists(path) ? Unseal(tpm, path) : Seal(tpm, path, selection, random);
    }

    private static byte[] Seal(Tpm2 tpm, string path, PcrSelectionList selection, IRandomSource random)
    {
        var values = ReadPcrs(tpm, selection);
        var policy = PolicyDigest.PolicyPcr(TpmAlgId.Sha256, PolicyDigest.Initial(TpmAlgId.Sha256), selection, values);
        var key = new byte[KeySize];
        random.Fill(key);
        var srk = tpm.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        CreateResult sealedObject;
        try
        {
            sealedObject = tpm.Create(srk.Handle, TpmTemplates.SealedData(policy), new TpmsSensitiveCreate([], key));
        }
        catch
        {
            CryptographicOperations.ZeroMemory(key);
            throw;
        }
        finally
        {
            tpm.FlushContext(srk.Handle);
        }

        var w = new TpmWriter();
        w.WriteBytes(s_magic);
        w.WriteU16(Version);
        selection.Marshal(w);
        w.WriteU32((uint)values.Count);
        foreach (var v in values)
        {
            w.WriteTpm2b(v);
        }

        w.WriteTpm2b(sealedObject.Private);
        sealedObject.Public.MarshalSized(w);
        AtomicFile.Write(path, w.WrittenSpan);
        return key;
    }

    private static byte[] Unseal(Tpm2 tpm, string path)
    {
        var (selection, sealedValues, priv, pub) = Parse(path);
        var srk = tpm.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        try
        {
            uint handle;
            try
            {
                handle = tpm.Load(srk.Handle, priv, pub).Handle;
            }
            catch (TpmException e)
            {
                throw new VTpmStateException(path, $"the hardware TPM refuses to load the sealed key ({e.Message}); it was sealed by another TPM or the file was altered", e);
            }

            try
            {
                var session = tpm.StartAuthSession(TpmSe.Policy);
                try
                {
                    try
                    {
                        tpm.PolicyPcr(session, selection);
                    }
                    catch (TpmException e)
                    {
                        // The selection comes from the file: one the TPM refuses is a damaged file.
                        throw new VTpmStateException(path, $"the hardware TPM refuses its PCR selection ({e.Message})", e);
                    }

                    return tpm.Unseal(handle, TpmAuthorization.Session(session));
                }
                catch (TpmException e) when (e.BaseCode is TpmRc.PolicyFail or TpmRc.Value)
                {
                    throw new VirtualizationLayerChangedException(path, ChangedPcrs(tpm, selection, sealedValues), e);
                }
                catch (TpmException e)
                {
                    throw new VTpmStateException(path, $"the hardware TPM refuses to unseal the key ({e.Message})", e);
                }
                finally
                {
                    if (!session.IsClosed)
                    {
                        tpm.FlushContext(session);
                    }

                    session.Dispose();
                }
            }
            finally
            {
                tpm.FlushContext(handle);
            }
        }
        finally
        {
            tpm.FlushContext(srk.Handle);
        }
    }

    private static (PcrSelectionList Selection, List<byte[]> Values, byte[] Private, TpmtPublic Public) Parse(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VTpmStateException(path, e.Message, e);
        }

        try
        {
            var r = new TpmReader(bytes);
            if (bytes.Length < s_magic.Length + 2 || !r.ReadBytes(s_magic.Length).SequenceEqual(s_magic))
            {
                throw new VTpmStateException(path, "not a TrustStack sealed state key (bad magic)");
            }

            var version = r.ReadU16();
            if (version != Version)
            {
                throw new VTpmStateException(path, $"version {version} is not supported (expected {Version})");
            }

            var selection = PcrSelectionList.Unmarshal(ref r);
            var count = r.ReadU32();
            if (count != selection.Enumerate().Count())
            {
                throw new VTpmStateException(path, "the PCR record does not match the selection");
            }

            var values = new List<byte[]>();
            for (var i = 0; i < count; i++)
            {
                values.Add(r.ReadTpm2b(64));
            }

            var priv = r.ReadTpm2b();
            var pub = TpmtPublic.UnmarshalSized(ref r);
            r.EnsureConsumed();
            return (selection, values, priv, pub);
        }
        catch (Exception e) when (e is TpmException or FormatException or ArgumentException or OverflowException)
        {
            throw new VTpmStateException(path, $"malformed: {e.Message}", e);
        }
    }

    /// <summary>The PCRs whose values differ from those recorded (empty when they cannot be read: the report is informative only).</summary>
    private static List<(TpmAlgId Bank, int Pcr)> ChangedPcrs(Tpm2 tpm, PcrSelectionList selection, List<byte[]> sealedValues)
    {
        try
        {
            var current = ReadPcrs(tpm, selection);
            return [.. selection.Enumerate().Where((_, i) => i >= sealedValues.Count || !CryptographicOperations.FixedTimeEquals(sealedValues[i], current[i]))];
        }
        catch (Exception e) when (e is TpmException or InvalidOperationException)
        {
            return [];
        }
    }

    private static List<byte[]> ReadPcrs(Tpm2 tpm, PcrSelectionList selection)
    {
        var all = tpm.PcrReadAll(selection);
        return [.. selection.Enumerate().Select(p => all.TryGetValue(p, out var v) ? v : throw new InvalidOperationException($"The hardware TPM has no PCR {p.Bank}:{p.Pcr}."))];
    }
}
