namespace TrustStack.Tpm.Hardware.Tests.Structures;

/// <summary>Reads one structure (<see cref="TpmReader"/> is a ref struct, so no <c>Func</c>).</summary>
public delegate T Unmarshaller<out T>(ref TpmReader reader);

/// <summary>The invariants every marshalled structure must keep, shared by the property tests.</summary>
internal static class WireProperties
{
    /// <summary>The octets <paramref name="marshal"/> writes.</summary>
    public static byte[] Marshal(Action<TpmWriter> marshal)
    {
        var writer = new TpmWriter();
        marshal(writer);
        return writer.ToArray();
    }

    /// <summary>marshal → unmarshal → marshal reproduces the octets, and unmarshal consumes all of them.</summary>
    public static bool RoundTrips<T>(byte[] octets, Unmarshaller<T> unmarshal, Action<T, TpmWriter> marshal)
    {
        var reader = new TpmReader(octets);
        var value = unmarshal(ref reader);
        if (reader.Remaining != 0)
        {
            return false;
        }

        var again = new TpmWriter();
        marshal(value, again);
        return again.WrittenSpan.SequenceEqual(octets);
    }

    /// <summary>Any proper prefix of a valid encoding fails with TPM_RC_INSUFFICIENT, never another exception.</summary>
    public static bool TruncationThrowsInsufficient<T>(byte[] octets, int cut, Unmarshaller<T> unmarshal)
    {
        var prefix = octets[..(cut % octets.Length)];
        try
        {
            var reader = new TpmReader(prefix);
            unmarshal(ref reader);
            return false;
        }
        catch (TpmException ex)
        {
            return ex.BaseCode == TpmRc.Insufficient;
        }
    }

    /// <summary>Unmarshal of arbitrary octets either succeeds or throws <see cref="TpmException"/>; any other exception fails the property.</summary>
    public static bool ThrowsOnlyTpmException<T>(byte[]? octets, Unmarshaller<T> unmarshal)
    {
        try
        {
            var reader = new TpmReader(octets ?? []);
            unmarshal(ref reader);
        }
        catch (TpmException)
        {
        }

        return true;
    }

    /// <summary>A copy of <paramref name="octets"/> with one octet changed (XOR with a non-zero mask).</summary>
    public static byte[] Corrupt(byte[] octets, int index, byte mask)
    {
        var copy = (byte[])octets.Clone();
        copy[index % copy.Length] ^= mask == 0 ? (byte)0xFF : mask;
        return copy;
    }
}
