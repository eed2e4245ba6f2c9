using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_HierarchyChangeAuth, TPM2_Clear (TPM 2.0 Part 3 §24).</summary>
internal sealed class HierarchyCommands : ICommandGroup
{
    /// <summary>Largest authValue: the largest digest the TPM implements (SHA-512), as TPM2B_AUTH allows.</summary>
    public const int MaxAuthSize = 64;

    public void Register(CommandTable table)
    {
        // TPMI_RH_HIERARCHY_AUTH: lockout, endorsement, owner or platform; USER role.
        table.Add(
            TpmCc.HierarchyChangeAuth,
            [new HandleSpec(HandleKinds.Owner | HandleKinds.Endorsement | HandleKinds.Platform | HandleKinds.Lockout, AuthRole.User)],
            0,
            HierarchyChangeAuth,
            CommandFlags.WritesNv | CommandFlags.DecryptFirst);

        // TPMI_RH_CLEAR: lockout or platform; USER role.
        table.Add(TpmCc.Clear, [new HandleSpec(HandleKinds.Lockout | HandleKinds.Platform, AuthRole.User)], 0, Clear, CommandFlags.WritesNv);
    }

    /// <summary>Part 3 §24.8: sets a hierarchy's authValue; the response HMAC is keyed with the new value.</summary>
    private static void HierarchyChangeAuth(CommandContext c)
    {
        var r = c.ReadParameters();
        var newAuth = r.ReadTpm2b(MaxAuthSize);
        r.EnsureConsumed();

        var trimmed = TpmObject.TrimAuth(newAuth);
        CryptographicOperations.ZeroMemory(newAuth);
        var hierarchy = c.State.PermanentEntityFor(c.Handles[0])
            ?? throw CommandContext.HandleError(TpmRc.Value, 1, $"0x{c.Handles[0]:x8} is not a hierarchy");

        var old = hierarchy.AuthValue;
        hierarchy.AuthValue = trimmed;
        CryptographicOperations.ZeroMemory(old);
        c.NewAuthValue = trimmed;
    }

    /// <summary>
    /// Part 3 §24.6: removes everything that belongs to the Owner — storage and endorsement
    /// objects (loaded and persistent), NV indices not created by the platform — and gives the
    /// storage hierarchy a new seed, new proofs, empty authValues and policies, a zero clock.
    /// </summary>
    private static void Clear(CommandContext c)
    {
        c.ReadParameters().EnsureConsumed();
        var s = c.State;
        var tpm = c.Tpm;

        // New seed and proofs first (the only step that can fail); then the rest cannot fail.
        var sps = tpm.NewSecret(64, "SPS");
        var shProof = tpm.NewSecret(64, "shProof");
        var ehProof = tpm.NewSecret(64, "ehProof");
        s.Sps?.Dispose();
        s.ShProof?.Dispose();
        s.EhProof?.Dispose();
        s.Sps = sps;
        s.ShProof = shProof;
        s.EhProof = ehProof;

        s.Owner.Enabled = true;
        s.Endorsement.Enabled = true;
        foreach (var h in new[] { s.Owner, s.Endorsement, s.Lockout })
        {
            CryptographicOperations.ZeroMemory(h.AuthValue);
            h.AuthValue = [];
            h.AuthPolicy = [];
            h.PolicyAlg = TpmAlgId.Null;
        }

        RemoveObjects(s.TransientObjects);
        RemoveObjects(s.PersistentObjects);
        foreach (var handle in s.NvIndices.Where(kv => !kv.Value.IsPlatformCreated).Select(kv => kv.Key).ToList())
        {
            var index = s.NvIndices[handle];
            s.NvIndices.Remove(handle);
            CryptographicOperations.ZeroMemory(index.AuthValue);
            CryptographicOperations.ZeroMemory(index.Data);
        }

        tpm.ResetClock();
        s.ClockSafe = true;
        s.ResetCount = 0;
        s.RestartCount = 0;
        s.ClearCount++;
        s.PcrUpdateCounter++;

        // The response HMAC of a lockout authorization is keyed with the new (empty) lockoutAuth.
        if (c.Handles[0] == TpmRh.Lockout)
        {
            c.NewAuthValue = [];
        }
    }

    private static void RemoveObjects(SortedDictionary<uint, TpmObject> objects)
    {
        foreach (var handle in objects.Where(kv => kv.Value.Hierarchy is TpmRh.Owner or TpmRh.Endorsement).Select(kv => kv.Key).ToList())
        {
            var o = objects[handle];
            objects.Remove(handle);
            o.Dispose();
        }
    }
}
