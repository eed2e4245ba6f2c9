namespace TrustStack.Tpm.Hardware;

/// <summary>Context management: flush, save, load, persist.</summary>
public sealed partial class Tpm2
{
    /// <summary>TPM2_FlushContext: unloads a transient object, or flushes a loaded or saved session.</summary>
    /// <param name="handle">A transient object handle (0x80xxxxxx) or a session handle.</param>
    /// <exception cref="TpmException">TPM_RC_HANDLE + P1 when nothing is loaded at <paramref name="handle"/>; TPM_RC_VALUE + P1 for other handle types.</exception>
    public void FlushContext(uint handle)
    {
        Execute(TpmCc.FlushContext, [], [], w => w.WriteU32(handle));
        ForgetName(handle);
    }

    /// <summary>TPM2_FlushContext of a session; the session is closed afterwards.</summary>
    /// <param name="session">The session to flush.</param>
    /// <exception cref="TpmException">TPM_RC_HANDLE + P1 when the TPM no longer has the session.</exception>
    public void FlushContext(TpmSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        FlushContext(session.Handle);
        session.IsClosed = true;
    }

    /// <summary>
    /// TPM2_ContextSave. An object stays loaded (flush it to free its slot); a session leaves its
    /// slot and cannot be used until <see cref="ContextLoad"/> brings it back at the same handle.
    /// </summary>
    /// <param name="handle">A transient object or loaded session.</param>
    /// <returns>The saved context, integrity-protected and encrypted by the TPM; valid until the next TPM Reset.</returns>
    /// <exception cref="TpmException">For example TPM_RC_REFERENCE_H0 when nothing is loaded at <paramref name="handle"/>.</exception>
    public TpmsContext ContextSave(uint handle)
    {
        var r = Execute(TpmCc.ContextSave, [handle], [], null).Reader();
        var context = TpmsContext.Unmarshal(ref r);
        r.EnsureConsumed();
        return context;
    }

    /// <summary>TPM2_ContextLoad: an object comes back at a new transient handle, a session at its own handle.</summary>
    /// <param name="context">A context from <see cref="ContextSave"/>.</param>
    /// <returns>The handle of the loaded object or session.</returns>
    /// <exception cref="TpmException">
    /// TPM_RC_INTEGRITY + P1 (tampered, or saved before a TPM Reset or TPM2_Clear), TPM_RC_HANDLE + P1
    /// (a session context that was already loaded or is stale), TPM_RC_OBJECT_MEMORY, TPM_RC_SESSION_MEMORY,
    /// TPM_RC_HIERARCHY + P1 (the object's hierarchy is disabled).
    /// </exception>
    public uint ContextLoad(TpmsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var handle = Execute(TpmCc.ContextLoad, [], [], context.Marshal, 1).Handles[0];
        ForgetName(handle);
        return handle;
    }

    /// <summary>
    /// TPM2_EvictControl. With a transient <paramref name="objectHandle"/>, stores a copy of the
    /// object at <paramref name="persistentHandle"/> (owner range 0x81000000–0x817FFFFF, platform
    /// range 0x81800000–0x81FFFFFF); with a persistent one (equal to <paramref name="persistentHandle"/>), evicts it.
    /// </summary>
    /// <param name="auth">TPM_RH_OWNER or TPM_RH_PLATFORM.</param>
    /// <param name="objectHandle">The transient object to persist, or the persistent object to evict.</param>
    /// <param name="persistentHandle">The persistent handle.</param>
    /// <param name="authorization">Authorization of <paramref name="auth"/>; the empty password by default.</param>
    /// <exception cref="TpmException">
    /// TPM_RC_NV_DEFINED (handle in use), TPM_RC_RANGE + P1 (handle outside the hierarchy's range),
    /// TPM_RC_ATTRIBUTES + H2 (stClear or null-hierarchy object), TPM_RC_HIERARCHY + H2, TPM_RC_HANDLE + H2.
    /// </exception>
    public void EvictControl(uint auth, uint objectHandle, uint persistentHandle, TpmAuthorization? authorization = null)
    {
        Execute(TpmCc.EvictControl, [auth, objectHandle], [authorization ?? TpmAuthorization.EmptyPassword], w => w.WriteU32(persistentHandle));
        if (TpmRh.TypeOf(objectHandle) != TpmHt.Persistent && _names.TryGetValue(objectHandle, out var name))
        {
            SetName(persistentHandle, name);
        }
        else
        {
            ForgetName(persistentHandle);
        }
    }
}
