namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Sized command structures (TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE, TPM2B_NV_PUBLIC,
/// TPM2B_SENSITIVE) read as the reference implementation reads them: the size field, then the
/// structure from the command buffer itself — not from a sub-buffer of that size, so a size
/// that is too small reads on into the next parameter — and TPM_RC_SIZE unless the structure
/// took exactly the announced octets. This is what makes a damaged size field fail with the same
/// code as on libtpms (TPM_RC_SIZE rather than TPM_RC_INSUFFICIENT).
/// </summary>
internal static class SizedStructures
{
    /// <summary>Reads one structure from the reader.</summary>
    internal delegate T StructureReader<T>(ref TpmReader reader);

    /// <summary>Reads a TPM2B-wrapped structure; an empty one is TPM_RC_SIZE unless <paramref name="allowEmpty"/> (then default).</summary>
    public static T? Read<T>(ref TpmReader r, StructureReader<T> read, string name, bool allowEmpty = false)
    {
        var size = r.ReadU16();
        if (size == 0)
        {
            return allowEmpty ? default : throw r.Fail(TpmRc.Size, $"empty {name}");
        }

        var start = r.Position;
        var value = read(ref r);
        var used = r.Position - start;
        return used == size
            ? value
            : throw r.Fail(TpmRc.Size, $"{name} announces {size} octets but its structure has {used}");
    }
}
