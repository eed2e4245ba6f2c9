using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// A CPU profile of the normalized-statistics model: the word size and the cycles one word
/// multiplication, addition, memory read and memory write costs. Loaded from a user-editable JSON file.
/// </summary>
/// <param name="Name">The profile's name.</param>
/// <param name="Description">Free text.</param>
/// <param name="WordBits">The word size (32 or 64).</param>
/// <param name="CyclesPerWordMultiplication">Cycles per word multiplication.</param>
/// <param name="CyclesPerWordAddition">Cycles per word addition (and logic operation).</param>
/// <param name="CyclesPerMemoryRead">Cycles per word read.</param>
/// <param name="CyclesPerMemoryWrite">Cycles per word write.</param>
/// <param name="ClockGHz">Clock rate, to print microseconds.</param>
public sealed record NsCpuProfile(
    string Name,
    string Description,
    int WordBits,
    double CyclesPerWordMultiplication,
    double CyclesPerWordAddition,
    double CyclesPerMemoryRead,
    double CyclesPerMemoryWrite,
    double ClockGHz)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The shipped default profile (the embedded default-cpu-profile.json).</summary>
    public static NsCpuProfile Default { get; } = LoadDefault();

    /// <summary>The default profile's JSON text, a starting point for a user's own file.</summary>
    public static string DefaultJson
    {
        get
        {
            using var stream = typeof(NsCpuProfile).Assembly.GetManifestResourceStream("TrustStack.Daa.Tmz.default-cpu-profile.json")
                ?? throw new InvalidOperationException("the default CPU profile is not embedded");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }

    /// <summary>Parses a profile.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="FormatException">Malformed or invalid values.</exception>
    public static NsCpuProfile Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        NsCpuProfile? profile;
        try
        {
            profile = JsonSerializer.Deserialize<NsCpuProfile>(json, Json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"CPU profile: {e.Message}", e);
        }

        if (profile is null || profile.WordBits is not (8 or 16 or 32 or 64) || profile.CyclesPerWordMultiplication < 0 || profile.CyclesPerWordAddition < 0
            || profile.CyclesPerMemoryRead < 0 || profile.CyclesPerMemoryWrite < 0 || profile.ClockGHz <= 0 || string.IsNullOrWhiteSpace(profile.Name))
        {
            throw new FormatException("CPU profile: name, wordBits (8/16/32/64), non-negative cycle costs and a positive clockGHz are required");
        }

        return profile;
    }

    /// <summary>Loads a profile file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The profile.</returns>
    public static NsCpuProfile Load(string path) => Parse(File.ReadAllText(path));

    /// <summary>Cycles for a count of word operations.</summary>
    /// <param name="ops">The word operations.</param>
    /// <returns>Cycles.</returns>
    public double Cycles(NsWordOps ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        return (ops.Multiplications * CyclesPerWordMultiplication) + (ops.Additions * CyclesPerWordAddition) + (ops.Reads * CyclesPerMemoryRead) + (ops.Writes * CyclesPerMemoryWrite);
    }

    private static NsCpuProfile LoadDefault() => Parse(DefaultJson);
}

/// <summary>Single-precision (word) operations: multiplications, additions, memory reads and writes.</summary>
/// <param name="Multiplications">Word multiplications.</param>
/// <param name="Additions">Word additions (and logic operations).</param>
/// <param name="Reads">Word reads.</param>
/// <param name="Writes">Word writes.</param>
public sealed record NsWordOps(double Multiplications, double Additions, double Reads, double Writes)
{
    /// <summary>Nothing.</summary>
    public static NsWordOps Zero { get; } = new(0, 0, 0, 0);

    /// <summary>Sum.</summary>
    /// <param name="left">One.</param>
    /// <param name="right">The other.</param>
    /// <returns>The sum.</returns>
    public static NsWordOps operator +(NsWordOps left, NsWordOps right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new(left.Multiplications + right.Multiplications, left.Additions + right.Additions, left.Reads + right.Reads, left.Writes + right.Writes);
    }

    /// <summary>Scaling.</summary>
    /// <param name="ops">The operations.</param>
    /// <param name="factor">The factor.</param>
    /// <returns>The scaled operations.</returns>
    public static NsWordOps operator *(NsWordOps ops, double factor)
    {
        ArgumentNullException.ThrowIfNull(ops);
        return new(ops.Multiplications * factor, ops.Additions * factor, ops.Reads * factor, ops.Writes * factor);
    }

    /// <summary>Named addition (CA2225).</summary>
    /// <param name="left">One.</param>
    /// <param name="right">The other.</param>
    /// <returns>The sum.</returns>
    public static NsWordOps Add(NsWordOps left, NsWordOps right) => left + right;

    /// <summary>Named scaling (CA2225).</summary>
    /// <param name="ops">The operations.</param>
    /// <param name="factor">The factor.</param>
    /// <returns>The scaled operations.</returns>
    public static NsWordOps Multiply(NsWordOps ops, double factor) => ops * factor;
}
