using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Enhanced-authorization policy commands (TPM 2.0 Part 3 §23): PolicyPCR, PolicySecret,
/// PolicyAuthValue, PolicyPassword, PolicyCommandCode, PolicyGetDigest, PolicyRestart.
/// Each extends the session's policyDigest with the computations of <see cref="PolicyDigest"/>
/// (the offline calculator), so client and engine cannot disagree; trial sessions compute the
/// digest and skip the checks.
/// </summary>
internal sealed class PolicyCommands : ICommandGroup
{
    private static readonly HandleSpec PolicySession = new(HandleKinds.PolicySession);

    public void Register(CommandTable table)
    {
        table.Add(TpmCc.PolicyPCR, [PolicySession], 0, PolicyPcr);
        table.Add(TpmCc.PolicySecret, [new HandleSpec(HandleKinds.Entity, AuthRole.User), PolicySession], 0, PolicySecret, CommandFlags.DecryptFirst | CommandFlags.EncryptFirst);
        table.Add(TpmCc.PolicyAuthValue, [PolicySession], 0, PolicyAuthValue);
        table.Add(TpmCc.PolicyPassword, [PolicySession], 0, PolicyPassword);
        table.Add(TpmCc.PolicyCommandCode, [PolicySession], 0, PolicyCommandCode);
        table.Add(TpmCc.PolicyGetDigest, [PolicySession], 0, PolicyGetDigest, CommandFlags.EncryptFirst);
        table.Add(TpmCc.PolicyRestart, [PolicySession], 0, PolicyRestart);
        table.Add(TpmCc.PolicyOR, [PolicySession], 0, PolicyOr);
    }

    /// <summary>
    /// TPM2_PolicyOR (Part 3 §23.6): the session's digest must be one of pHashList (2 to 8 digests;
    /// a trial session skips the check), then policyDigest = H(0…0 ‖ TPM_CC_PolicyOR ‖ digests).
    /// </summary>
    private static void PolicyOr(CommandContext c)
    {
        var session = Session(c, 0);
        var r = c.ReadParameters();
        var count = r.ReadU32();
        if (count is < 2 or > 8)
        {
            throw r.Fail(TpmRc.Size, $"pHashList has {count} digests (2 to 8)");
        }

        var digests = new List<byte[]>((int)count);
        for (var i = 0; i < count; i++)
        {
            digests.Add(r.ReadTpm2b(64));
        }

        r.EnsureConsumed();
        if (!session.IsTrial && !digests.Any(d => CryptographicOperations.FixedTimeEquals(d, session.PolicyDigest)))
        {
            throw CommandContext.ParameterError(TpmRc.Value, 1, "the policy digest is none of pHashList");
        }

        // policyDigest = H(0...0 ‖ TPM_CC_PolicyOR ‖ digests), Part 3 §23.6.
        var w = new TpmWriter();
        w.WriteBytes(new byte[TpmHash.DigestSize(session.AuthHash)]);
        w.WriteU32((uint)TpmCc.PolicyOR);
        foreach (var d in digests)
        {
            w.WriteBytes(d);
        }

        session.PolicyDigest = TpmHash.Hash(session.AuthHash, w.WrittenSpan);
    }

    /// <summary>The policy session at handle slot <paramref name="index"/>; a context-saved session is not loaded.</summary>
    private static AuthSession Session(CommandContext c, int index)
    {
        var handle = c.Handles[index];
        return c.State.Sessions.TryGetValue(handle, out var session) && !session.IsSaved && session.IsPolicy
            ? session
            : throw new TpmException((TpmRc)((uint)TpmRc.ReferenceH0 + (uint)index), $"policy session 0x{handle:x8} is not loaded");
    }

    /// <summary>TPM2_PolicyPCR (Part 3 §23.7): H(old ‖ TPM_CC_PolicyPCR ‖ pcrs ‖ digestTPM).</summary>
    private static void PolicyPcr(CommandContext c)
    {
        var session = Session(c, 0);
        var r = c.ReadParameters();
        var pcrDigest = r.ReadTpm2b(64);
        r.Parameter = 2;
        var pcrs = PcrCommands.Filter(c.State, PcrCommands.ReadSelection(ref r));
        r.EnsureConsumed();

        var current = PcrCommands.ComputeDigest(c.State, pcrs, session.AuthHash);
        var digest = current;
        if (!session.IsTrial)
        {
            if (session.PcrCounter >= 0 && session.PcrCounter != c.State.PcrUpdateCounter)
            {
                throw new TpmException(TpmRc.PcrChanged, "PCRs changed since an earlier PolicyPCR in this session");
            }

            if (pcrDigest.Length != 0 && !CryptographicOperations.FixedTimeEquals(pcrDigest, current))
            {
                throw CommandContext.ParameterError(TpmRc.Value, 1, "pcrDigest does not match the current PCR values");
            }
        }
        else if (pcrDigest.Length != 0)
        {
            // A trial session takes the caller's digest as given.
            digest = pcrDigest;
        }

        session.PolicyDigest = PolicyDigest.ExtendPcr(session.AuthHash, session.PolicyDigest, pcrs, digest);
        if (!session.IsTrial)
        {
            session.PcrCounter = c.State.PcrUpdateCounter;
        }
    }

    /// <summary>
    /// TPM2_PolicySecret (Part 3 §23.4): the caller proves knowledge of authHandle's authValue
    /// (USER role); H(H(old ‖ TPM_CC_PolicySecret ‖ authObject.Name) ‖ policyRef).
    /// </summary>
    private static void PolicySecret(CommandContext c)
    {
        var session = Session(c, 1);
        var r = c.ReadParameters();
        var nonceTpm = r.ReadTpm2b(64);
        r.Parameter = 2;
        var cpHashA = r.ReadTpm2b(64);
        r.Parameter = 3;
        var policyRef = r.ReadTpm2b(64);
        r.Parameter = 4;
        var expiration = unchecked((int)r.ReadU32());
        r.EnsureConsumed();

        if (!session.IsTrial)
        {
            if (nonceTpm.Length != 0 && !CryptographicOperations.FixedTimeEquals(nonceTpm, session.NonceTpm))
            {
                throw CommandContext.ParameterError(TpmRc.Nonce, 1, "nonceTPM is not the session's current nonce");
            }

            if (expiration != 0)
            {
                // Time-limited authorizations and their tickets need session timeouts, which the
                // engine does not keep yet.
                throw CommandContext.ParameterError(TpmRc.Value, 4, "only expiration 0 is supported");
            }

            CheckCpHash(session, cpHashA, 2);
        }

        var name = SoftwareTpm.NameOf(c.Handles[0], c.Entities[0]);
        session.PolicyDigest = PolicyDigest.ExtendSecret(session.AuthHash, session.PolicyDigest, name, policyRef);
        if (cpHashA.Length != 0)
        {
            session.CpHash = cpHashA;
        }

        // No ticket for expiration 0: an empty timeout and a null TPMT_TK_AUTH.
        c.Output.WriteTpm2b([]);
        new TpmtTicket(TpmSt.AuthSecret, TpmRh.Null, []).Marshal(c.Output);
    }

    /// <summary>TPM2_PolicyAuthValue (Part 3 §23.17): H(old ‖ TPM_CC_PolicyAuthValue); the HMAC will include the authValue.</summary>
    private static void PolicyAuthValue(CommandContext c)
    {
        var session = Session(c, 0);
        c.ReadParameters().EnsureConsumed();
        session.PolicyDigest = PolicyDigest.Extend(session.AuthHash, session.PolicyDigest, TpmCc.PolicyAuthValue, null);
        session.IsAuthValueNeeded = true;
        session.IsPasswordNeeded = false;
    }

    /// <summary>TPM2_PolicyPassword (Part 3 §23.18): the same digest as PolicyAuthValue; the authValue goes in the clear.</summary>
    private static void PolicyPassword(CommandContext c)
    {
        var session = Session(c, 0);
        c.ReadParameters().EnsureConsumed();
        session.PolicyDigest = PolicyDigest.Extend(session.AuthHash, session.PolicyDigest, TpmCc.PolicyAuthValue, null);
        session.IsPasswordNeeded = true;
        session.IsAuthValueNeeded = false;
    }

    /// <summary>TPM2_PolicyCommandCode (Part 3 §23.11): H(old ‖ TPM_CC_PolicyCommandCode ‖ code).</summary>
    private static void PolicyCommandCode(CommandContext c)
    {
        var session = Session(c, 0);
        var r = c.ReadParameters();
        var code = (TpmCc)r.ReadU32();
        r.EnsureConsumed();

        if (session.CommandCode != 0 && session.CommandCode != code)
        {
            throw CommandContext.ParameterError(TpmRc.Value, 1, $"the policy is already restricted to {session.CommandCode}");
        }

        if (!c.Tpm.ImplementedCommands.Contains(code))
        {
            throw CommandContext.ParameterError(TpmRc.PolicyCc, 1, $"command 0x{(uint)code:x8} is not implemented");
        }

        session.PolicyDigest = PolicyDigest.Extend(session.AuthHash, session.PolicyDigest, TpmCc.PolicyCommandCode, (uint)code);
        session.CommandCode = code;
    }

    /// <summary>TPM2_PolicyGetDigest (Part 3 §23.19).</summary>
    private static void PolicyGetDigest(CommandContext c)
    {
        var session = Session(c, 0);
        c.ReadParameters().EnsureConsumed();
        c.Output.WriteTpm2b(session.PolicyDigest);
    }

    /// <summary>TPM2_PolicyRestart (Part 3 §23.21): back to the initial policy state; the nonce does not change.</summary>
    private static void PolicyRestart(CommandContext c)
    {
        var session = Session(c, 0);
        c.ReadParameters().EnsureConsumed();
        session.ResetPolicy();
    }

    /// <summary>PolicyParameterChecks for cpHashA (Part 3 §23.2): digest size, and equal to an earlier one.</summary>
    private static void CheckCpHash(AuthSession session, byte[] cpHashA, int parameter)
    {
        if (cpHashA.Length == 0)
        {
            return;
        }

        if (cpHashA.Length != session.PolicyDigest.Length)
        {
            throw CommandContext.ParameterError(TpmRc.Size, parameter, $"cpHashA of {cpHashA.Length} octets for {session.AuthHash}");
        }

        if (session.CpHash.Length != 0 && !CryptographicOperations.FixedTimeEquals(session.CpHash, cpHashA))
        {
            throw new TpmException(TpmRc.Cphash, "cpHashA differs from the cpHash already set in the session");
        }
    }
}
