namespace TrustStack.Vmm.ShadowPaging.Tests;

public sealed class MachineMemoryTests
{
    [Fact]
    public void Allocate_Fresh_ReturnsSequentialFramesFromOne()
    {
        var memory = new MachineMemory(8);

        Assert.Equal(1UL, memory.Allocate());
        Assert.Equal(2UL, memory.Allocate());
        Assert.Equal(5, memory.FreeFrames);
    }

    [Fact]
    public void Free_WrittenFrame_IsZeroedAndReused()
    {
        var memory = new MachineMemory(4);
        var mfn = memory.Allocate();
        memory.Frame(mfn).Fill(0xA5);

        memory.Free(mfn);

        Assert.False(memory.IsAllocated(mfn));
        Assert.True(memory.Frame(mfn).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(mfn, memory.Allocate());
    }

    [Fact]
    public void Free_NotAllocated_Throws()
    {
        var memory = new MachineMemory(4);

        Assert.Throws<ArgumentException>(() => memory.Free(2));
        Assert.Throws<ArgumentException>(() => memory.Free(0));
    }

    [Fact]
    public void Allocate_Exhausted_ThrowsInsufficientMemory()
    {
        var memory = new MachineMemory(3);
        memory.Allocate();
        memory.Allocate();

        Assert.Throws<InsufficientMemoryException>(() => memory.Allocate());
    }
}
