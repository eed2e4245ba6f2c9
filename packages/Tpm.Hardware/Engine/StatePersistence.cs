using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Writes and reads an engine's persistent state as one file, <c>tpm-state.bin</c>, in the
/// state folder: a magic, a version, the body, and a SHA-256 of all of it. Writes are atomic
/// (temporary file, flush to disk, rename), so a crash leaves the old or the new state.
/// Like swtpm's state files, the seeds inside are not encrypted: protect the folder.
/// </summary>
internal sealed class StatePersistence
{
    public const string FileName = "tpm-state.bin";
    private static readonly byte[] s_magic = "TSTPMST1"u8.ToArray();
    private const ushort Version = 1;

    public StatePersistence(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = directory;
        Path = System.IO.Path.Combine(directory, FileName);
    }

    public string Directory { get; }

    public string Path { get; }

    public void Save(SoftwareTpm tpm)
    {
        var w = Serialize(tpm.State, tpm.State.ClockBase);

        System.IO.Directory.CreateDirectory(Directory);
        var temp = Path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(w.WrittenSpan);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, Path, overwrite: true);
        w.Clear();
    }

    /// <summary>The state image: magic, version, body (with <paramref name="clock"/> as the saved clock) and its SHA-256. Clear the writer when done.</summary>
    public static TpmWriter Serialize(EngineState state, ulong clock)
    {
        var w = new TpmWriter(4096);
        w.WriteBytes(s_magic);
        w.WriteU16(Version);
        WriteBody(w, state, clock);
        w.WriteBytes(SHA256.HashData(w.WrittenSpan));
        return w;
    }

    /// <summary>Parses a state image into a new <see cref="EngineState"/>.</summary>
    /// <exception cref="TpmStateException">The image cannot be used; <paramref name="source"/> names it.</exception>
    public static EngineState Deserialize(ReadOnlySpan<byte> bytes, SoftwareTpmOptions options, ITpmSecretStore store, string source)
    {
        try
        {
            if (bytes.Length < s_magic.Length + 2 + 32 || !bytes[..s_magic.Length].SequenceEqual(s_magic))
            {
                throw new TpmStateException(source, "not a TrustStack TPM state file (bad magic)");
            }

            var body = bytes[..^32];
            if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(body), bytes[^32..]))
            {
                throw new TpmStateException(source, "checksum mismatch (the file is corrupt or truncated)");
            }

            var r = new TpmReader(body[s_magic.Length..]);
            var version = r.ReadU16();
            if (version != Version)
            {
                throw new TpmStateException(source, $"version {version} is not supported (expected {Version})");
            }

            var state = new EngineState(options.PcrBanks);
            try
            {
                ReadBody(ref r, state, store);
                r.EnsureConsumed();
            }
            catch
            {
                state.Dispose();
                throw;
            }

            return state;
        }
        catch (TpmException e)
        {
            throw new TpmStateException(source, $"malformed body: {e.Message}", e);
        }
    }

    /// <summary>Loads the state file into <paramref name="tpm"/>; false when there is none.</summary>
    /// <exception cref="TpmStateException">The file exists but cannot be used.</exception>
    public bool TryLoad(SoftwareTpm tpm)
    {
        if (!File.Exists(Path))
        {
            return false;
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TpmStateException(Path, e.Message, e);
        }

        try
        {
            tpm.ReplaceState(Deserialize(bytes, tpm.Options, tpm.Secrets, Path));
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static void WriteBody(TpmWriter w, EngineState s, ulong clock)
    {
        foreach (var secret in new[] { s.Eps, s.Sps, s.Pps, s.ShProof, s.EhProof, s.PhProof })
        {
            var value = secret!.Reveal();
            w.WriteTpm2b(value);
            CryptographicOperations.ZeroMemory(value);
        }

        foreach (var h in new[] { s.Owner, s.Endorsement, s.Platform, s.Lockout })
        {
            w.WriteTpm2b(h.AuthValue);
            w.WriteTpm2b(h.AuthPolicy);
            w.WriteAlg(h.PolicyAlg);
            w.WriteU8(h.Enabled ? (byte)1 : (byte)0);
        }

        w.WriteU64(clock);
        w.WriteU32(s.ResetCount);
        w.WriteU32(s.RestartCount);
        w.WriteU32(s.ClearCount);
        w.WriteU8(s.ClockSafe ? (byte)1 : (byte)0);
        w.WriteU16(s.OrderlyShutdown is { } su ? (ushort)(1 + (ushort)su) : (ushort)0);

        w.WriteU32((uint)s.NvIndices.Count);
        foreach (var nv in s.NvIndices.Values)
        {
            nv.Public.Marshal(w);
            w.WriteTpm2b(nv.AuthValue);
            w.WriteTpm2b(nv.Data);
        }

        w.WriteU32((uint)s.PersistentObjects.Count);
        foreach (var o in s.PersistentObjects.Values)
        {
            w.WriteU32(o.Handle);
            w.WriteU32(o.Hierarchy);
            w.WriteU8(o.IsPrimary ? (byte)1 : (byte)0);
            o.Public.MarshalSized(w);
            var sensitive = o.Sensitive.Reveal();
            w.WriteTpm2b(sensitive);
            CryptographicOperations.ZeroMemory(sensitive);
            w.WriteTpm2b(o.QualifiedName);
        }

        // PCRs survive only an orderly TPM2_Shutdown(STATE) (Part 1 §36.4).
        var savePcrs = s.OrderlyShutdown == TpmSu.State;
        w.WriteU8(savePcrs ? (byte)1 : (byte)0);
        if (savePcrs)
        {
            w.WriteU32(s.PcrUpdateCounter);
            foreach (var bank in s.Banks)
            {
                w.WriteAlg(bank);
                foreach (var value in s.Pcrs[bank])
                {
                    w.WriteBytes(value);
                }
            }
        }
    }

    private static void ReadBody(ref TpmReader r, EngineState s, ITpmSecretStore store)
    {
        ITpmSecret Secret(ref TpmReader reader, string purpose)
        {
            var value = reader.ReadTpm2b(128);
            var secret = store.Store(value, purpose);
            CryptographicOperations.ZeroMemory(value);
            return secret;
        }

        s.Eps = Secret(ref r, "EPS");
        s.Sps = Secret(ref r, "SPS");
        s.Pps = Secret(ref r, "PPS");
        s.ShProof = Secret(ref r, "shProof");
        s.EhProof = Secret(ref r, "ehProof");
        s.PhProof = Secret(ref r, "phProof");
        foreach (var h in new[] { s.Owner, s.Endorsement, s.Platform, s.Lockout })
        {
            h.AuthValue = r.ReadTpm2b(64);
            h.AuthPolicy = r.ReadTpm2b(64);
            h.PolicyAlg = r.ReadAlg();
            h.Enabled = r.ReadU8() != 0;
        }

        s.ClockBase = r.ReadU64();
        s.ResetCount = r.ReadU32();
        s.RestartCount = r.ReadU32();
        s.ClearCount = r.ReadU32();
        s.ClockSafe = r.ReadU8() != 0;
        var orderly = r.ReadU16();
        s.OrderlyShutdown = orderly == 0 ? null : (TpmSu)(orderly - 1);

        var nvCount = r.ReadU32();
        for (var i = 0; i < nvCount; i++)
        {
            var pub = TpmsNvPublic.Unmarshal(ref r);
            var auth = r.ReadTpm2b(64);
            var data = r.ReadTpm2b();
            s.NvIndices[pub.NvIndex] = new NvIndex(pub, auth, data);
        }

        var objectCount = r.ReadU32();
        for (var i = 0; i < objectCount; i++)
        {
            var handle = r.ReadU32();
            var hierarchy = r.ReadU32();
            var isPrimary = r.ReadU8() != 0;
            var pub = TpmtPublic.UnmarshalSized(ref r);
            var sensitiveBytes = r.ReadTpm2b();
            var sr = new TpmReader(sensitiveBytes);
            using var sensitive = TpmtSensitive.Unmarshal(ref sr);
            CryptographicOperations.ZeroMemory(sensitiveBytes);
            var qualifiedName = r.ReadTpm2b(68);
            var secret = SecretMarshal.StoreSensitive(store, sensitive, $"persistent object 0x{handle:x8}");
            s.PersistentObjects[handle] = new TpmObject(pub, secret, sensitive.AuthValue, hierarchy, qualifiedName, isPrimary) { Handle = handle };
        }

        if (r.ReadU8() != 0)
        {
            s.PcrUpdateCounter = r.ReadU32();
            foreach (var bank in s.Banks)
            {
                var alg = r.ReadAlg();
                if (alg != bank)
                {
                    throw r.Fail(TpmRc.Value, $"saved PCR bank {alg} does not match the configured bank {bank}");
                }

                foreach (var value in s.Pcrs[bank])
                {
                    r.ReadBytes(value.Length).CopyTo(value);
                }
            }

            s.SavedPcrsValid = true;
        }
    }
}
