using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_CreatePrimary, Create, Load, LoadExternal, ReadPublic, Unseal (Part 3 §12, §24).</summary>
internal sealed class ObjectCommands : ICommandGroup
{
    /// <summary>MAX_SYM_DATA: the largest TPM2B_SENSITIVE_DATA (sealed data) of the reference implementation.</summary>
    public const int MaxSensitiveData = 128;

    /// <summary>Largest TPM2B_PRIVATE accepted (integrity + encrypted TPM2B_SENSITIVE).</summary>
    public const int MaxPrivateSize = 2048;

    /// <summary>Largest TPM2B_DATA (outsideInfo, qualifyingData): sizeof(TPMT_HA), a SHA-512 TPMT_HA of 66 octets (Part 2 §10.4.3; libtpms).</summary>
    public const int MaxDataSize = 66;

    public void Register(CommandTable table)
    {
        const CommandFlags encrypted = CommandFlags.DecryptFirst | CommandFlags.EncryptFirst;
        table.Add(TpmCc.CreatePrimary, [new(HandleKinds.Hierarchy, AuthRole.User)], 1, CreatePrimary, encrypted);
        table.Add(TpmCc.Create, [new(HandleKinds.Object, AuthRole.User)], 0, Create, encrypted);
        table.Add(TpmCc.Load, [new(HandleKinds.Object, AuthRole.User)], 1, Load, encrypted);
        table.Add(TpmCc.LoadExternal, [], 1, LoadExternal, encrypted);
        table.Add(TpmCc.ReadPublic, [new(HandleKinds.Object)], 0, ReadPublic, CommandFlags.EncryptFirst);
        table.Add(TpmCc.Unseal, [new(HandleKinds.Object, AuthRole.User)], 0, Unseal, CommandFlags.EncryptFirst);
        table.Add(TpmCc.ObjectChangeAuth, [new(HandleKinds.Transient, AuthRole.Admin), new(HandleKinds.Object)], 0, ObjectChangeAuth, encrypted);
    }

    /// <summary>
    /// The first free transient handle, 0x80000000 + slot as libtpms numbers them (freed slots are
    /// reused); TPM_RC_OBJECT_MEMORY when all <see cref="SoftwareTpmOptions.MaxTransientObjects"/> are taken.
    /// </summary>
    internal static uint FreeTransientHandle(CommandContext c)
    {
        var max = (uint)c.Tpm.Options.MaxTransientObjects;
        for (uint slot = 0; slot < max; slot++)
        {
            var handle = TpmRh.TransientFirst + slot;
            if (!c.State.TransientObjects.ContainsKey(handle))
            {
                return handle;
            }
        }

        throw new TpmException(TpmRc.ObjectMemory, $"all {max} transient object slots are in use");
    }

    /// <summary>QN = nameAlg ‖ H_nameAlg(parentQN ‖ Name) (TPM 2.0 Part 1 §16); a hierarchy's QN is its handle.</summary>
    internal static byte[] QualifiedName(ReadOnlySpan<byte> parentQualifiedName, TpmAlgId nameAlg, ReadOnlySpan<byte> name) =>
        TpmHash.NameOf(nameAlg, parentQualifiedName, name);

    /// <summary>
    /// Reads a TPM2B_PUBLIC command parameter (the caller has set the parameter number), checking
    /// fields as they are unmarshalled (<see cref="PublicAreaReader"/>); only TPM2_LoadExternal
    /// accepts a TPM_ALG_NULL nameAlg.
    /// </summary>
    internal static TpmtPublic ReadPublicArea(ref TpmReader r, bool allowNullNameAlg = false)
    {
        var publicArea = SizedStructures.Read<TpmtPublic>(
            ref r,
            allowNullNameAlg ? PublicAreaReader.ReadAllowingNullNameAlg : PublicAreaReader.ReadRequiringNameAlg,
            "TPM2B_PUBLIC")!;
        var parametersMatch = publicArea.Type switch
        {
            TpmAlgId.Rsa => publicArea.Unique is RsaPublicId,
            TpmAlgId.Ecc => publicArea.Unique is EccPoint,
            _ => publicArea.Unique is DigestPublicId,
        };
        if (!parametersMatch)
        {
            throw r.Fail(TpmRc.Type, "unique field does not match the object type");
        }

        return publicArea;
    }

    private static void CreatePrimary(CommandContext c)
    {
        var hierarchy = c.Handles[0];
        var input = CreationInput.Read(c);
        try
        {
            var handle = FreeTransientHandle(c);
            input.Validate(parent: null, isPrimary: true);

            var seed = c.State.SeedOf(hierarchy).Reveal();
            TpmtPublic outPublic;
            TpmtSensitive sensitive;
            try
            {
                (outPublic, sensitive) = KeyGenerator.CreatePrimary(null, seed, input.Template, input.Sensitive);
            }
            catch (TpmException e)
            {
                throw CommandContext.Numbered(e, 1);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(seed);
            }

            using (sensitive)
            {
                var name = outPublic.GetName();
                var qualifiedName = QualifiedName(PermanentEntity.BigEndian(hierarchy), outPublic.NameAlg, name);
                var creation = Creation.Compute(c, hierarchy, parent: null, outPublic.NameAlg, input, name, hierarchy);
                var secret = SecretMarshal.StoreSensitive(c.Tpm.Secrets, sensitive, $"object 0x{handle:x8} sensitive");
                c.State.TransientObjects[handle] = new TpmObject(outPublic, secret, sensitive.AuthValue, hierarchy, qualifiedName, isPrimary: true) { Handle = handle };
                c.ResponseHandles.Add(handle);
                outPublic.MarshalSized(c.Output);
                creation.Write(c.Output);
                c.Output.WriteTpm2b(name);
            }
        }
        finally
        {
            input.Clear();
        }
    }

    private static void Create(CommandContext c)
    {
        var parent = c.Object(0);
        var input = CreationInput.Read(c);
        try
        {
            if (!parent.IsStorageParent)
            {
                throw CommandContext.HandleError(TpmRc.Type, 1, "the parent is not a storage key");
            }

            // A TPM builds the new object in a free slot, so Create needs one (as libtpms).
            _ = FreeTransientHandle(c);
            input.Validate(parent.Public, isPrimary: false);

            TpmtPublic outPublic;
            TpmtSensitive sensitive;
            try
            {
                (outPublic, sensitive) = KeyGenerator.CreateOrdinary(input.Template, input.Sensitive, c.Tpm.Random, parent.Public);
            }
            catch (TpmException e)
            {
                throw CommandContext.Numbered(e, 1);
            }

            using (sensitive)
            {
                var name = outPublic.GetName();
                byte[] outPrivate;
                using (var parentSensitive = parent.ReadSensitive())
                {
                    outPrivate = ObjectProtection.Wrap(parent.Public.NameAlg, parentSensitive.SeedValue, parent.Public.Parameters.Symmetric, name, sensitive);
                }

                var creation = Creation.Compute(c, c.Handles[0], parent, outPublic.NameAlg, input, name, parent.Hierarchy);
                c.Output.WriteTpm2b(outPrivate);
                outPublic.MarshalSized(c.Output);
                creation.Write(c.Output);
            }
        }
        finally
        {
            input.Clear();
        }
    }

    private static void Load(CommandContext c)
    {
        var parent = c.Object(0);
        var r = c.ReadParameters();
        var inPrivate = r.ReadTpm2b(MaxPrivateSize);
        r.Parameter = 2;
        var inPublic = ReadPublicArea(ref r);
        r.EnsureConsumed();

        var handle = FreeTransientHandle(c);
        if (inPrivate.Length == 0)
        {
            throw CommandContext.ParameterError(TpmRc.Size, 1, "empty inPrivate");
        }

        if (!parent.IsStorageParent)
        {
            throw CommandContext.HandleError(TpmRc.Type, 1, "the parent is not a storage key");
        }

        if (!TpmHash.IsSupported(inPublic.NameAlg))
        {
            throw CommandContext.ParameterError(TpmRc.Hash, 2, $"nameAlg {inPublic.NameAlg}");
        }

        var name = inPublic.GetName();
        TpmtSensitive sensitive;
        using (var parentSensitive = parent.ReadSensitive())
        {
            try
            {
                sensitive = ObjectProtection.Unwrap(parent.Public.NameAlg, parentSensitive.SeedValue, parent.Public.Parameters.Symmetric, name, inPrivate);
            }
            catch (TpmException e)
            {
                throw CommandContext.Numbered(e, 1);
            }
        }

        using (sensitive)
        {
            CheckSensitiveForLoad(inPublic, sensitive, parent.Public);

            // Part 3 §12.2: with a fixedTPM parent the integrity check vouches for the keys; else validate them.
            if ((parent.Attributes & TpmaObject.FixedTpm) == 0)
            {
                ValidateKeys(inPublic, sensitive);
            }

            var qualifiedName = QualifiedName(parent.QualifiedName, inPublic.NameAlg, name);
            var secret = SecretMarshal.StoreSensitive(c.Tpm.Secrets, sensitive, $"object 0x{handle:x8} sensitive");
            c.State.TransientObjects[handle] = new TpmObject(inPublic, secret, sensitive.AuthValue, parent.Hierarchy, qualifiedName, isPrimary: false) { Handle = handle };
            c.ResponseHandles.Add(handle);
            c.Output.WriteTpm2b(name);
        }
    }

    private static void LoadExternal(CommandContext c)
    {
        var r = c.ReadParameters();
        TpmtSensitive? sensitive = null;
        try
        {
            sensitive = SizedStructures.Read(ref r, TpmtSensitive.Unmarshal, "TPM2B_SENSITIVE", allowEmpty: true);

            r.Parameter = 2;
            var inPublic = ReadPublicArea(ref r, allowNullNameAlg: true);
            r.Parameter = 3;
            var hierarchy = r.ReadU32();
            r.EnsureConsumed();
            if (hierarchy is not (TpmRh.Owner or TpmRh.Endorsement or TpmRh.Platform or TpmRh.Null))
            {
                throw CommandContext.ParameterError(TpmRc.Value, 3, $"0x{hierarchy:x8} is not a hierarchy");
            }

            var handle = FreeTransientHandle(c);
            if (!c.State.PermanentEntityFor(hierarchy)!.Enabled)
            {
                throw CommandContext.ParameterError(TpmRc.Hierarchy, 3, $"hierarchy 0x{hierarchy:x8} is disabled");
            }

            if (sensitive is not null)
            {
                if (hierarchy != TpmRh.Null)
                {
                    throw CommandContext.ParameterError(TpmRc.Hierarchy, 3, "an external object with a sensitive area loads only in TPM_RH_NULL");
                }

                if ((inPublic.ObjectAttributes & (TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.Restricted)) != 0)
                {
                    throw CommandContext.ParameterError(TpmRc.Attributes, 2, "an external object with a sensitive area cannot be fixedTPM, fixedParent or restricted");
                }
            }

            // TrustStack computes Names with a hash; TPM_ALG_NULL names (handles) are not supported.
            if (!TpmHash.IsSupported(inPublic.NameAlg))
            {
                throw CommandContext.ParameterError(TpmRc.Hash, 2, $"nameAlg {inPublic.NameAlg}");
            }

            if (sensitive is null)
            {
                try
                {
                    KeyGenerator.ValidateAlgorithms(inPublic);
                    KeyGenerator.SchemeChecks(inPublic, null);
                }
                catch (TpmException e)
                {
                    throw CommandContext.Numbered(e, 2);
                }

                ValidatePublicKey(inPublic);
            }
            else
            {
                CheckSensitiveForLoad(inPublic, sensitive, parent: null);
                ValidateKeys(inPublic, sensitive);
            }

            var name = inPublic.GetName();
            var secret = sensitive is null
                ? c.Tpm.Secrets.Store([], $"object 0x{handle:x8} (public only)")
                : SecretMarshal.StoreSensitive(c.Tpm.Secrets, sensitive, $"object 0x{handle:x8} sensitive");

            // An external object's qualified name is its Name (it has no parent in this TPM).
            c.State.TransientObjects[handle] = new TpmObject(inPublic, secret, sensitive?.AuthValue ?? [], hierarchy, name, isPrimary: false) { Handle = handle, IsExternal = true };
            c.ResponseHandles.Add(handle);
            c.Output.WriteTpm2b(name);
        }
        finally
        {
            sensitive?.Dispose();
        }
    }

    private static void ReadPublic(CommandContext c)
    {
        c.ReadParameters().EnsureConsumed();
        var o = c.Object(0);
        if (o.Sequence is not null)
        {
            throw CommandContext.HandleError(TpmRc.Sequence, 1, "a sequence object has no public area");
        }

        o.Public.MarshalSized(c.Output);
        c.Output.WriteTpm2b(o.Name);
        c.Output.WriteTpm2b(o.QualifiedName);
    }

    /// <summary>
    /// TPM2_ObjectChangeAuth (Part 3 §12.8): a new private area for the loaded object with newAuth,
    /// wrapped by its parent; the loaded object keeps its old authValue (tpm2_changeauth -c key -C parent).
    /// </summary>
    private static void ObjectChangeAuth(CommandContext c)
    {
        var o = c.Object(0);
        var parent = c.Object(1);
        var r = c.ReadParameters();
        var newAuth = r.ReadTpm2b(64);
        r.EnsureConsumed();

        if (o.Sequence is not null || o.IsPrimary || o.IsExternal || o.IsPublicOnly)
        {
            throw CommandContext.HandleError(TpmRc.Type, 1, "only an ordinary loaded object (not a primary, external or sequence object) changes its authValue this way");
        }

        // The parent must be the object's parent: QN(object) = H(QN(parent) ‖ Name(object)) (reference TPM2_ObjectChangeAuth).
        if (!parent.IsStorageParent || !QualifiedName(parent.QualifiedName, o.Public.NameAlg, o.Name).AsSpan().SequenceEqual(o.QualifiedName))
        {
            throw CommandContext.HandleError(TpmRc.Type, 2, "parentHandle is not the object's parent");
        }

        if (TpmObject.TrimAuth(newAuth).Length > TpmHash.DigestSize(o.Public.NameAlg))
        {
            throw CommandContext.ParameterError(TpmRc.Size, 1, "newAuth is longer than the object's nameAlg digest");
        }

        using var old = o.ReadSensitive();
        using var changed = new TpmtSensitive(old.SensitiveType, TpmObject.TrimAuth(newAuth), old.SeedValue.ToArray(), old.Sensitive.ToArray());
        using var parentSensitive = parent.ReadSensitive();
        c.Output.WriteTpm2b(ObjectProtection.Wrap(parent.Public.NameAlg, parentSensitive.SeedValue, parent.Public.Parameters.Symmetric, o.Name, changed));
    }

    private static void Unseal(CommandContext c)
    {
        var o = c.Object(0);
        c.ReadParameters().EnsureConsumed();
        if (o.Public.Type != TpmAlgId.Keyedhash)
        {
            throw CommandContext.HandleError(TpmRc.Type, 1, "only a KEYEDHASH data object can be unsealed");
        }

        if ((o.Attributes & (TpmaObject.Decrypt | TpmaObject.Sign | TpmaObject.Restricted)) != 0)
        {
            throw CommandContext.HandleError(TpmRc.Attributes, 1, "a sealed data object has sign, decrypt and restricted clear");
        }

        RequirePrivate(o);
        using var sensitive = o.ReadSensitive();
        c.Output.WriteTpm2b(sensitive.Sensitive);
    }

    /// <summary>A public-only object has no authValue to use: TPM_RC_AUTH_UNAVAILABLE, as the reference implementation.</summary>
    internal static void RequirePrivate(TpmObject o)
    {
        if (o.IsPublicOnly)
        {
            throw new TpmException(TpmRc.AuthUnavailable, $"object 0x{o.Handle:x8} was loaded without a sensitive area");
        }
    }

    /// <summary>ObjectLoad's checks of a sensitive area against its public area (inPrivate is parameter 1, inPublic parameter 2).</summary>
    private static void CheckSensitiveForLoad(TpmtPublic inPublic, TpmtSensitive sensitive, TpmtPublic? parent)
    {
        var digestSize = TpmHash.DigestSize(inPublic.NameAlg);
        if (sensitive.SeedValue.Length > digestSize)
        {
            throw CommandContext.ParameterError(TpmRc.KeySize, 1, "seedValue is longer than the nameAlg digest");
        }

        try
        {
            KeyGenerator.ValidateAlgorithms(inPublic);
            KeyGenerator.PublicAttributesValidation(inPublic, parent);
        }
        catch (TpmException e)
        {
            throw CommandContext.Numbered(e, 2);
        }

        if (sensitive.SensitiveType != inPublic.Type)
        {
            throw CommandContext.ParameterError(TpmRc.Type, 1, $"sensitive type {sensitive.SensitiveType} does not match public type {inPublic.Type}");
        }

        if (TpmObject.TrimmedLength(sensitive.AuthValue) > digestSize)
        {
            throw CommandContext.ParameterError(TpmRc.Size, 1, "authValue is longer than the nameAlg digest");
        }
    }

    /// <summary>CryptValidateKeys for a public-only object: the public key has the declared size and lies on its curve.</summary>
    private static void ValidatePublicKey(TpmtPublic p)
    {
        switch (p.Parameters)
        {
            case RsaParms rsa:
                var modulus = ((RsaPublicId)p.Unique).Modulus;
                if (modulus.Length * 8 != rsa.KeyBits || modulus[0] < 0x80)
                {
                    throw CommandContext.ParameterError(TpmRc.Key, 2, $"RSA modulus of {modulus.Length} octets for a {rsa.KeyBits}-bit key");
                }

                break;
            case EccParms ecc:
                var point = (EccPoint)p.Unique;
                var curve = EccCurves.Get(ecc.Curve);
                if (point.X.Length != curve.CoordinateSize || point.Y.Length != curve.CoordinateSize)
                {
                    throw CommandContext.ParameterError(TpmRc.Key, 2, $"ECC point coordinates must have {curve.CoordinateSize} octets");
                }

                try
                {
                    _ = curve.DecodePoint(point);
                }
                catch (TpmException e)
                {
                    throw CommandContext.Numbered(e, 2);
                }

                break;
            default:
                if (((DigestPublicId)p.Unique).Digest.Length != TpmHash.DigestSize(p.NameAlg))
                {
                    throw CommandContext.ParameterError(TpmRc.Key, 2, "unique is not a nameAlg digest");
                }

                break;
        }
    }

    /// <summary>CryptValidateKeys with a sensitive area: sizes, and that the private part belongs to the public part (TPM_RC_BINDING).</summary>
    private static void ValidateKeys(TpmtPublic p, TpmtSensitive sensitive)
    {
        var digestSize = TpmHash.DigestSize(p.NameAlg);
        switch (p.Parameters)
        {
            case RsaParms rsa:
                ValidatePublicKey(p);
                if (sensitive.Sensitive.Length * 16 != rsa.KeyBits || sensitive.Sensitive[0] < 0x80)
                {
                    throw CommandContext.ParameterError(TpmRc.KeySize, 1, "the RSA prime has the wrong size");
                }

                ValidateWithPrivateKey(p, sensitive);
                break;
            case EccParms:
                ValidateWithPrivateKey(p, sensitive);
                break;
            case KeyedHashParms keyed:
                var maxSize = keyed.Scheme.Scheme switch
                {
                    TpmAlgId.Null => MaxSensitiveData,
                    _ => keyed.Scheme.HashAlg is TpmAlgId.Sha384 or TpmAlgId.Sha512 ? 128 : 64,
                };
                if (sensitive.Sensitive.Length > maxSize)
                {
                    throw CommandContext.ParameterError(TpmRc.KeySize, 1, $"keyed-hash data of {sensitive.Sensitive.Length} octets exceeds {maxSize}");
                }

                CheckSymmetricBinding(p, sensitive, digestSize);
                break;
            case SymCipherParms sym:
                if (sensitive.Sensitive.Length * 8 != sym.Sym.KeyBits)
                {
                    throw CommandContext.ParameterError(TpmRc.KeySize, 1, $"a {sym.Sym.KeyBits}-bit key cannot be {sensitive.Sensitive.Length} octets");
                }

                CheckSymmetricBinding(p, sensitive, digestSize);
                break;
        }

        // A parent's seed must be at least half the nameAlg digest (CryptValidateKeys).
        if ((p.ObjectAttributes & (TpmaObject.Restricted | TpmaObject.Decrypt)) == (TpmaObject.Restricted | TpmaObject.Decrypt)
            && (sensitive.SeedValue.Length < digestSize / 2 || sensitive.SeedValue.Length > digestSize))
        {
            throw CommandContext.ParameterError(TpmRc.Size, 1, "a parent's seedValue must be half to all of the nameAlg digest");
        }
    }

    private static void CheckSymmetricBinding(TpmtPublic p, TpmtSensitive sensitive, int digestSize)
    {
        if (sensitive.SeedValue.Length != digestSize)
        {
            throw CommandContext.ParameterError(TpmRc.KeySize, 1, "seedValue is not a nameAlg digest");
        }

        var expected = KeyGenerator.SymmetricUnique(p, sensitive.SeedValue, sensitive.Sensitive);
        var unique = ((DigestPublicId)p.Unique).Digest;
        if (unique.Length != expected.Length || !CryptographicOperations.FixedTimeEquals(unique, expected))
        {
            throw new TpmException(TpmRc.Binding, "the unique field does not match the sensitive area");
        }
    }

    private static void ValidateWithPrivateKey(TpmtPublic p, TpmtSensitive sensitive)
    {
        try
        {
            using var key = new TpmPrivateKey(p, sensitive);
        }
        catch (TpmException e) when (e.ResponseCode == TpmRc.Binding)
        {
            throw;
        }
        catch (TpmException e) when (e.ResponseCode == TpmRc.Key)
        {
            throw CommandContext.ParameterError(TpmRc.KeySize, 1, e.Message);
        }
        catch (TpmException e)
        {
            throw CommandContext.Numbered(e, 1);
        }
    }

    private static TpmsSensitiveCreate ReadSensitiveCreate(ref TpmReader r) => new(r.ReadTpm2b(64), r.ReadTpm2b(MaxSensitiveData));

    /// <summary>The parameters shared by TPM2_Create and TPM2_CreatePrimary.</summary>
    private sealed record CreationInput(TpmsSensitiveCreate Sensitive, TpmtPublic Template, byte[] OutsideInfo, PcrSelectionList CreationPcr)
    {
        public static CreationInput Read(CommandContext c)
        {
            var r = c.ReadParameters();
            var sensitive = SizedStructures.Read(ref r, ReadSensitiveCreate, "TPM2B_SENSITIVE_CREATE")!;
            if (sensitive.Data.Length > MaxSensitiveData)
            {
                throw CommandContext.ParameterError(TpmRc.Size, 1, $"sensitive data of {sensitive.Data.Length} octets exceeds {MaxSensitiveData}");
            }

            r.Parameter = 2;
            var template = ReadPublicArea(ref r);
            r.Parameter = 3;
            var outside = r.ReadTpm2b(MaxDataSize);
            r.Parameter = 4;
            var pcrs = PcrCommands.ReadSelection(ref r);
            r.EnsureConsumed();
            return new CreationInput(sensitive, template, outside, pcrs);
        }

        /// <summary>CreateChecks and PublicAttributesValidation (inPublic, parameter 2), then the authValue size (inSensitive, parameter 1).</summary>
        public void Validate(TpmtPublic? parent, bool isPrimary)
        {
            try
            {
                KeyGenerator.Validate(Template, new TpmsSensitiveCreate([], Sensitive.Data), isPrimary, parent);
            }
            catch (TpmException e)
            {
                throw CommandContext.Numbered(e, 2);
            }

            if (TpmObject.TrimmedLength(Sensitive.UserAuth) > TpmHash.DigestSize(Template.NameAlg))
            {
                throw CommandContext.ParameterError(TpmRc.Size, 1, "userAuth is longer than the nameAlg digest");
            }
        }

        public void Clear()
        {
            CryptographicOperations.ZeroMemory(Sensitive.UserAuth);
            CryptographicOperations.ZeroMemory(Sensitive.Data);
        }
    }

    /// <summary>Creation data, its hash and the creation ticket (Part 3 §12.1, §24.1; Part 2 §10.7.3).</summary>
    private sealed record Creation(byte[] Data, byte[] Hash, TpmtTicket Ticket)
    {
        public static Creation Compute(CommandContext c, uint parentHandle, TpmObject? parent, TpmAlgId nameAlg, CreationInput input, byte[] name, uint hierarchy)
        {
            var filtered = PcrCommands.Filter(c.State, input.CreationPcr);
            var pcrDigest = PcrCommands.ComputeDigest(c.State, filtered, nameAlg);

            // A primary object's parent Name and qualified name are the hierarchy handle.
            var parentName = parent?.Name ?? PermanentEntity.BigEndian(parentHandle);
            var parentQualifiedName = parent?.QualifiedName ?? parentName;
            var data = new TpmsCreationData(filtered, pcrDigest, LocalityAttribute(c.Locality), parent?.Public.NameAlg ?? TpmAlgId.Null, parentName, parentQualifiedName, input.OutsideInfo).ToBytes();
            var hash = TpmHash.Hash(nameAlg, data);
            var ticket = new TpmtTicket(TpmSt.Creation, hierarchy, Tickets.Hmac(c.State, hierarchy, TpmSt.Creation, name, hash));
            return new Creation(data, hash, ticket);
        }

        public void Write(TpmWriter w)
        {
            w.WriteTpm2b(Data);
            w.WriteTpm2b(Hash);
            Ticket.Marshal(w);
        }

        /// <summary>TPMA_LOCALITY: localities 0–4 as bits, extended localities (32–255) as their value.</summary>
        private static byte LocalityAttribute(byte locality) => locality < 5 ? (byte)(1 << locality) : locality;
    }
}
