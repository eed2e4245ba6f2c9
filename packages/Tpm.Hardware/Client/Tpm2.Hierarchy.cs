namespace TrustStack.Tpm.Hardware;

/// <summary>Hierarchy commands.</summary>
public sealed partial class Tpm2
{
    /// <summary>TPM2_HierarchyChangeAuth: sets the authValue of a hierarchy (owner, endorsement, platform or lockout).</summary>
    /// <param name="authHandle">TPM_RH_OWNER, TPM_RH_ENDORSEMENT, TPM_RH_PLATFORM or TPM_RH_LOCKOUT.</param>
    /// <param name="newAuth">The new authValue (at most 64 octets; trailing zeros are not significant).</param>
    /// <param name="authorization">Authorization with the current authValue; the empty password by default.
    /// An HMAC session's response is checked with the new authValue, as the TPM computes it.</param>
    /// <exception cref="TpmException">TPM_RC_SIZE + P1 when <paramref name="newAuth"/> is too long; TPM_RC_BAD_AUTH / TPM_RC_AUTH_FAIL.</exception>
    public void HierarchyChangeAuth(uint authHandle, ReadOnlySpan<byte> newAuth, TpmAuthorization? authorization = null)
    {
        var value = newAuth.ToArray();
        var auth = WithResponseAuth(authorization ?? TpmAuthorization.EmptyPassword, value);
        Execute(TpmCc.HierarchyChangeAuth, [authHandle], [auth], w => w.WriteTpm2b(value));
        HierarchyAuthChanged(authHandle, value);
    }

    /// <summary>
    /// TPM2_Clear: removes the Owner — storage and endorsement objects, owner NV indices — and gives
    /// the storage hierarchy a new seed (so the SRK changes; the EK does not), empty owner,
    /// endorsement and lockout authValues and policies, and a zero clock.
    /// </summary>
    /// <param name="authHandle">TPM_RH_LOCKOUT or TPM_RH_PLATFORM.</param>
    /// <param name="authorization">Authorization of <paramref name="authHandle"/>; the empty password by default.</param>
    /// <exception cref="TpmException">TPM_RC_VALUE + H1 for another handle; authorization failures.</exception>
    public void Clear(uint authHandle = TpmRh.Lockout, TpmAuthorization? authorization = null)
    {
        var auth = authorization ?? TpmAuthorization.EmptyPassword;

        // Clearing resets lockoutAuth, so the TPM keys the response HMAC with the new (empty) value.
        if (authHandle == TpmRh.Lockout)
        {
            auth = WithResponseAuth(auth, []);
        }

        Execute(TpmCc.Clear, [authHandle], [auth], null);
        foreach (var hierarchy in new[] { TpmRh.Owner, TpmRh.Endorsement, TpmRh.Lockout })
        {
            HierarchyAuthChanged(hierarchy, []);
        }

        foreach (var handle in _names.Keys.Where(h => TpmRh.TypeOf(h) is TpmHt.Transient or TpmHt.Persistent or TpmHt.NvIndex).ToList())
        {
            _names.Remove(handle);
        }
    }

    private static TpmAuthorization WithResponseAuth(TpmAuthorization authorization, byte[] responseAuth) =>
        authorization is SessionAuthorization s
            ? new SessionAuthorization(s.UsedSession, s.AuthValue, s.Attributes) { ResponseAuthValue = responseAuth }
            : authorization;
}
