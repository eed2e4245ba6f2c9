using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// An engine's persistent state as one image: a magic, a version, the body, and a SHA-256 of all
/// of it. The state folder holds it as <c>tpm-state.bin</c>, written atomically (temporary file,
/// flush to disk, rename), so a crash leaves the old or the new state. An in-process power cycle
/// goes through the same image, so it loses exactly what a restart from the folder loses.
/// The file and its temporary file are created owner-only (0600; the folder 0700), and with a
/// <see cref="TpmStateKey"/> the file holds the image AES-256-GCM encrypted
/// (<see cref="StateFileCipher"/>); without one the seeds inside are in the clear, as in swtpm's
/// state files without <c>--key</c>.
/// </summary>
/// <remarks>
/// Body: the primary seeds and proofs; the hierarchies (authValue, authPolicy, enable); clock and
/// counters; the orderly-shutdown type; NV indices; persistent objects. After TPM2_Shutdown(STATE)
/// also the reset data a TPM Restart or Resume needs (Part 1 §36.4): PCRs and their update
/// counter, the null seed and proof, the context key and sequence, the stClear epoch, the
/// saved sessions and (since version 3) the ECDAA commit state — gr.commitNonce, commitCounter
/// and commitArray, which the reference keeps across TPM Restart and Resume (CryptStartup renews
/// them only at TPM Reset). Version 2 images (no commit state) still load; outstanding
/// commitments of such an image are gone, as after a TPM Reset of the commit state.
/// </remarks>
internal sealed class StatePersistence
{
    public const string FileName = "tpm-state.bin";
    private const ushort Version = 3;

    /// <summary>The oldest version still read (version 2: no ECDAA commit state in the reset data).</summary>
    private const ushort OldestReadableVersion = 2;
    private const int ChecksumSize = 32;
    private static readonly byte[] s_magic = "TSTPMST1"u8.ToArray();

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly ITpmSecret? _key;
    private readonly byte[]? _keyId;

    /// <param name="directory">The state folder.</param>
    /// <param name="key">The state key (held by the engine's secret store), or null to write the image in the clear.</param>
    /// <param name="keyId">The key's <see cref="TpmStateKey.KeyId"/>.</param>
    public StatePersistence(string directory, ITpmSecret? key = null, byte[]? keyId = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = directory;
        Path = System.IO.Path.Combine(directory, FileName);
        _key = key;
        _keyId = keyId;
    }

    public string Directory { get; }

    public string Path { get; }

    /// <summary>True when the file is written encrypted.</summary>
    public bool Encrypts => _key is not null;

    /// <summary>After <see cref="TryLoad"/>: the file read was a clear image although a key is set (a file from before encryption was turned on).</summary>
    public bool LoadedUnencrypted { get; private set; }

    /// <summary>After <see cref="TryLoad"/>: the file read was readable by group or others, and was made owner-only.</summary>
    public UnixFileMode? TightenedFrom { get; private set; }

    /// <summary>The state image of <paramref name="state"/> (zero it after use: it holds the seeds).</summary>
    public static byte[] Serialize(EngineState state)
    {
        var w = new TpmWriter(4096);
        w.WriteBytes(s_magic);
        w.WriteU16(Version);
        WriteBody(w, state);
        w.WriteBytes(SHA256.HashData(w.WrittenSpan));
        var image = w.ToArray();
        w.Clear();
        return image;
    }

    /// <summary>Reads a state image into a new <see cref="EngineState"/>.</summary>
    /// <exception cref="TpmStateException">The image is corrupt or of another version.</exception>
    public static EngineState Deserialize(ReadOnlySpan<byte> image, IReadOnlyList<TpmAlgId> banks, ITpmSecretStore store, string source)
    {
        if (image.Length < s_magic.Length + 2 + ChecksumSize || !image[..s_magic.Length].SequenceEqual(s_magic))
        {
            throw new TpmStateException(source, "not a TrustStack TPM state file (bad magic)");
        }

        var body = image[..^ChecksumSize];
        Span<byte> checksum = stackalloc byte[ChecksumSize];
        SHA256.HashData(body, checksum);
        if (!CryptographicOperations.FixedTimeEquals(checksum, image[^ChecksumSize..]))
        {
            throw new TpmStateException(source, "checksum mismatch (the file is corrupt or truncated)");
        }

        var state = new EngineState(banks);
        try
        {
            var r = new TpmReader(body[s_magic.Length..]);
            var version = r.ReadU16();
            if (version is < OldestReadableVersion or > Version)
            {
                throw new TpmStateException(source, $"version {version} is not supported (expected {OldestReadableVersion} to {Version})");
            }

            ReadBody(ref r, state, store, version);
            r.EnsureConsumed();
            return state;
        }
        catch (TpmException e)
        {
            state.Dispose();
            throw new TpmStateException(source, $"malformed body: {e.Message}", e);
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="image"/> to the state file atomically, encrypted when a key is set.</summary>
    public void Write(ReadOnlySpan<byte> image)
    {
        StateFolderLock.CreateOwnerOnlyDirectory(Directory);
        var data = _key is null ? null : StateFileCipher.Encrypt(_key, _keyId, image);
        var temp = Path + ".tmp";

        // A temporary file left by a crash may have any mode, and opening it would keep that mode:
        // remove it and create a new one owner-only from the first octet (O_CREAT|O_EXCL with mode
        // 0600, so there is no moment at which it is readable by others, and no symlink is followed).
        File.Delete(temp);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        using (var stream = new FileStream(temp, options))
        {
            stream.Write(data is null ? image : data);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, Path, overwrite: true);
    }

    /// <summary>Writes the engine's state to the state file.</summary>
    public void Save(SoftwareTpm tpm)
    {
        var image = Serialize(tpm.State);
        try
        {
            Write(image);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(image);
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
            TightenMode();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TpmStateException(Path, e.Message, e);
        }

        byte[]? image = null;
        try
        {
            if (StateFileCipher.IsEncrypted(bytes))
            {
                if (_key is null)
                {
                    throw new TpmStateException(Path, "it is encrypted (AES-256-GCM): give its key (SoftwareTpmOptions.StateEncryptionKey, embedded:state=DIR,state-key=FILE, or tpm serve --state-key FILE)");
                }

                image = StateFileCipher.Decrypt(_key, _keyId, bytes, Path);
            }

            LoadedUnencrypted = _key is not null && image is null;
            tpm.ReplaceState(Deserialize(image ?? bytes, tpm.Options.PcrBanks, tpm.Secrets, Path));
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
            if (image is not null)
            {
                CryptographicOperations.ZeroMemory(image);
            }
        }
    }

    /// <summary>A state file from before files were created owner-only (0644) is made 0600.</summary>
    private void TightenMode()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(Path);
        if ((mode & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute)) != 0)
        {
            File.SetUnixFileMode(Path, OwnerOnly);
            TightenedFrom = mode;
        }
    }

    private static void WriteBody(TpmWriter w, EngineState s)
    {
        foreach (var secret in new[] { s.Eps, s.Sps, s.Pps, s.ShProof, s.EhProof, s.PhProof })
        {
            WriteSecret(w, secret!);
        }

        foreach (var h in new[] { s.Owner, s.Endorsement, s.Platform, s.Lockout })
        {
            w.WriteTpm2b(h.AuthValue);
            w.WriteTpm2b(h.AuthPolicy);
            w.WriteAlg(h.PolicyAlg);
            w.WriteU8(h.Enabled ? (byte)1 : (byte)0);
        }

        w.WriteU64(s.ClockBase);
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
            o.WriteTo(w);
        }

        // The reset data survives only an orderly TPM2_Shutdown(STATE) (Part 1 §36.4).
        var saveResetData = s.OrderlyShutdown == TpmSu.State && s.ContextKey is not null;
        w.WriteU8(saveResetData ? (byte)1 : (byte)0);
        if (saveResetData)
        {
            WriteResetData(w, s);
        }
    }

    private static void WriteResetData(TpmWriter w, EngineState s)
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

        WriteSecret(w, s.NullSeed!);
        WriteSecret(w, s.NullProof!);
        WriteSecret(w, s.ContextKey!);
        w.WriteU64(s.ContextSequence);
        w.WriteU32(s.StClearEpoch);

        // Saved sessions: what the TPM keeps of them (the rest is in their context blobs).
        var saved = s.Sessions.Values.Where(x => x.IsSaved).ToList();
        w.WriteU32((uint)saved.Count);
        foreach (var session in saved)
        {
            w.WriteU32(session.Handle);
            w.WriteU8((byte)session.Type);
            w.WriteAlg(session.AuthHash);
            session.Symmetric.Marshal(w);
            w.WriteU16((ushort)session.SessionKey.Length);
            w.WriteU8(session.BoundEntityName is null ? (byte)0 : (byte)1);
            w.WriteTpm2b(session.BoundEntityName ?? []);
            w.WriteTpm2b(session.BoundEntityAuth ?? []);
            w.WriteU64(session.SavedSequence);
        }

        // Version 3: the ECDAA commit state (gr.commitNonce, commitCounter, commitArray), so an
        // outstanding TPM2_Commit survives Shutdown(STATE) and can be signed with exactly once.
        w.WriteU8(s.CommitNonce is null ? (byte)0 : (byte)1);
        if (s.CommitNonce is not null)
        {
            WriteSecret(w, s.CommitNonce);
            w.WriteU64(s.CommitCounter);
            w.WriteBytes(s.CommitArray);
        }
    }

    private static void ReadBody(ref TpmReader r, EngineState s, ITpmSecretStore store, ushort version)
    {
        s.Eps = ReadSecret(ref r, store, "EPS");
        s.Sps = ReadSecret(ref r, store, "SPS");
        s.Pps = ReadSecret(ref r, store, "PPS");
        s.ShProof = ReadSecret(ref r, store, "shProof");
        s.EhProof = ReadSecret(ref r, store, "ehProof");
        s.PhProof = ReadSecret(ref r, store, "phProof");
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
            var o = TpmObject.ReadFrom(ref r, store, $"persistent object 0x{handle:x8}", hierarchy, isPrimary, isExternal: false);
            o.Handle = handle;
            s.PersistentObjects[handle] = o;
        }

        if (r.ReadU8() != 0)
        {
            ReadResetData(ref r, s, store, version);
        }
    }

    private static void ReadResetData(ref TpmReader r, EngineState s, ITpmSecretStore store, ushort version)
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

        s.NullSeed = ReadSecret(ref r, store, "null seed");
        s.NullProof = ReadSecret(ref r, store, "nullProof");
        s.ContextKey = ReadSecret(ref r, store, "context key");
        s.ContextSequence = r.ReadU64();
        s.StClearEpoch = r.ReadU32();

        var sessionCount = r.ReadU32();
        for (var i = 0; i < sessionCount; i++)
        {
            var handle = r.ReadU32();
            var type = (TpmSe)r.ReadU8();
            var authHash = r.ReadAlg();
            var symmetric = TpmtSymDef.Unmarshal(ref r);
            var keySize = r.ReadU16();
            var bound = r.ReadU8() != 0;
            var boundName = r.ReadTpm2b(2 + 64);
            var boundAuth = r.ReadTpm2b(64);
            var sequence = r.ReadU64();
            if (!TpmHash.IsSupported(authHash) || keySize > 64)
            {
                throw r.Fail(TpmRc.Value, $"saved session 0x{handle:x8} is malformed");
            }

            var session = new AuthSession(handle, type, authHash, symmetric, [], new byte[keySize], bound ? boundName : null, bound ? boundAuth : null)
            {
                IsSaved = true,
                SavedSequence = sequence,
            };
            CryptographicOperations.ZeroMemory(boundAuth);
            s.Sessions[handle] = session;
        }

        if (version >= 3 && r.ReadU8() != 0)
        {
            s.CommitNonce = ReadSecret(ref r, store, "commitNonce");
            s.CommitCounter = r.ReadU64();
            r.ReadBytes(s.CommitArray.Length).CopyTo(s.CommitArray);
        }
    }

    private static void WriteSecret(TpmWriter w, ITpmSecret secret)
    {
        var value = secret.Reveal();
        w.WriteTpm2b(value);
        CryptographicOperations.ZeroMemory(value);
    }

    private static ITpmSecret ReadSecret(ref TpmReader r, ITpmSecretStore store, string purpose)
    {
        var value = r.ReadTpm2b(128);
        var secret = store.Store(value, purpose);
        CryptographicOperations.ZeroMemory(value);
        return secret;
    }
}
