using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Vmm.ShadowPaging;

/// <summary>
/// Host machine memory: an arena of 4 KiB machine frames, named by machine frame number (MFN),
/// with a frame allocator. Frames are zero when handed out (they are zeroed on free). MFN 0 is
/// reserved and never allocated, so 0 can mean "no frame" in tables.
/// </summary>
public sealed class MachineMemory
{
    /// <summary>Size of a frame in octets (x86-64 base page).</summary>
    public const int FrameSize = 4096;

    /// <summary>log2 of <see cref="FrameSize"/>.</summary>
    public const int FrameShift = 12;

    private readonly byte[] _arena;
    private readonly int[] _free;
    private readonly bool[] _allocated;
    private int _freeCount;

    /// <summary>Creates machine memory of <paramref name="frameCount"/> frames (frame 0 reserved).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 2 or more than 262,144 frames (1 GiB).</exception>
    public MachineMemory(int frameCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frameCount, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(frameCount, 262_144);
        _arena = GC.AllocateArray<byte>(frameCount * FrameSize, pinned: true);
        _allocated = new bool[frameCount];
        _allocated[0] = true;
        _free = new int[frameCount];

        // Pop order gives MFN 1, 2, 3, ... so layouts are deterministic.
        for (var mfn = frameCount - 1; mfn >= 1; mfn--)
        {
            _free[_freeCount++] = mfn;
        }
    }

    /// <summary>Total number of frames, frame 0 included.</summary>
    public int FrameCount => _allocated.Length;

    /// <summary>Frames still free.</summary>
    public int FreeFrames => _freeCount;

    /// <summary>Allocates one zeroed frame.</summary>
    /// <returns>Its machine frame number.</returns>
    /// <exception cref="InsufficientMemoryException">No frame is free.</exception>
    public ulong Allocate()
    {
        if (_freeCount == 0)
        {
            throw new InsufficientMemoryException($"All {FrameCount - 1} machine frames are in use.");
        }

        var mfn = _free[--_freeCount];
        _allocated[mfn] = true;
        return (ulong)mfn;
    }

    /// <summary>Zeroes the frame and returns it to the allocator.</summary>
    /// <exception cref="ArgumentException">The frame is not allocated (or is frame 0).</exception>
    public void Free(ulong mfn)
    {
        if (mfn == 0 || !IsAllocated(mfn))
        {
            throw new ArgumentException($"Machine frame {mfn} is not allocated.", nameof(mfn));
        }

        CryptographicOperations.ZeroMemory(Frame(mfn));
        _allocated[(int)mfn] = false;
        _free[_freeCount++] = (int)mfn;
    }

    /// <summary>Whether <paramref name="mfn"/> is an allocated frame.</summary>
    public bool IsAllocated(ulong mfn) => mfn < (ulong)_allocated.Length && _allocated[(int)mfn];

    /// <summary>
    /// The frame's octets: the raw view the hypervisor itself has, with no paging and no access
    /// control (so also what an attacker who controls the hypervisor sees — outside MMU-vTPM's scope).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">No such frame.</exception>
    public Span<byte> Frame(ulong mfn)
    {
        if (mfn >= (ulong)_allocated.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(mfn), mfn, "No such machine frame.");
        }

        return _arena.AsSpan((int)mfn << FrameShift, FrameSize);
    }

    /// <summary>Reads the little-endian 64-bit word at machine address <paramref name="maddr"/> (8-aligned).</summary>
    internal ulong ReadU64(ulong maddr) => BinaryPrimitives.ReadUInt64LittleEndian(_arena.AsSpan(checked((int)maddr), 8));

    /// <summary>Writes the little-endian 64-bit word at machine address <paramref name="maddr"/> (8-aligned).</summary>
    internal void WriteU64(ulong maddr, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(_arena.AsSpan(checked((int)maddr), 8), value);
}
