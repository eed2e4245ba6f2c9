using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Vmm.ShadowPaging;

/// <summary>
/// The model back end: each secret of a vTPM engine lives in MMU-vTPM private frames owned by the
/// vTPM's context; the engine reads and writes it only through that context's MMU (shadow paging
/// with the access control), so any other context that maps the frames is denied and audited.
/// Thread-safe (one lock around the hypervisor).
/// </summary>
public sealed class MmuVTpmSecretStore : ITpmSecretStore
{
    private readonly Lock _lock = new();

    /// <summary>Creates a store whose secrets are private to <paramref name="vtpmContext"/>.</summary>
    /// <exception cref="ArgumentException">The context belongs to another hypervisor.</exception>
    public MmuVTpmSecretStore(MmuVTpm module, AddressSpaceContext vtpmContext)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(vtpmContext);
        if (!module.Hypervisor.Contexts.Contains(vtpmContext))
        {
            throw new ArgumentException("The context belongs to another hypervisor.", nameof(vtpmContext));
        }

        Module = module;
        Context = vtpmContext;
    }

    /// <summary>
    /// A self-contained platform: machine memory of <paramref name="machineFrames"/> frames, a
    /// hypervisor with MMU-vTPM, a management domain (context "dom0") and one vTPM domain whose
    /// context owns the secrets.
    /// </summary>
    public static MmuVTpmSecretStore CreatePlatform(int machineFrames = 8192, string vtpmName = "vtpm-1", TimeProvider? timeProvider = null)
    {
        var hypervisor = new Hypervisor(new MachineMemory(machineFrames), accessControlEnabled: true, timeProvider);
        var dom0 = hypervisor.CreateDomain("Domain-0", DomainKind.Management, initialFrames: 16);
        hypervisor.CreateContext(dom0, "dom0");
        var vtpm = hypervisor.CreateDomain(vtpmName, DomainKind.VTpm, maxGuestFrames: machineFrames);
        var context = hypervisor.CreateContext(vtpm, vtpmName);
        return new MmuVTpmSecretStore(new MmuVTpm(hypervisor), context);
    }

    /// <summary>The MMU-vTPM module.</summary>
    public MmuVTpm Module { get; }

    /// <summary>The vTPM context that owns every secret of this store.</summary>
    public AddressSpaceContext Context { get; }

    /// <summary>The hypervisor (for the audit log and attack scenarios).</summary>
    public Hypervisor Hypervisor => Module.Hypervisor;

    /// <inheritdoc />
    /// <remarks>No: a derived key object would keep the secret outside the protected frames.</remarks>
    public bool AllowsDerivedKeyCaching => false;

    /// <summary>The private regions in use (purpose and frames, never contents).</summary>
    public IReadOnlyList<VTpmPrivateRegion> Regions
    {
        get
        {
            lock (_lock)
            {
                return [.. Module.Regions.Where(r => r.Owner == Context)];
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The write through the vTPM's MMU failed.</exception>
    public ITpmSecret Store(ReadOnlySpan<byte> value, string purpose)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        lock (_lock)
        {
            var region = Module.Allocate(Context, value.Length, purpose);
            var status = Module.Write(region, 0, value);
            if (status != TranslationStatus.Ok)
            {
                Module.Free(region);
                throw new InvalidOperationException($"Writing the secret through {Context.Name}'s MMU failed: {status}.");
            }

            return new ProtectedSecret(this, region);
        }
    }

    private sealed class ProtectedSecret(MmuVTpmSecretStore store, VTpmPrivateRegion region) : ITpmSecret
    {
        public int Length => region.Length;

        public void CopyTo(Span<byte> destination)
        {
            if (destination.Length < region.Length)
            {
                throw new ArgumentException($"The destination needs {region.Length} octets.", nameof(destination));
            }

            lock (store._lock)
            {
                ObjectDisposedException.ThrowIf(region.IsFreed, this);
                var status = store.Module.Read(region, 0, destination[..region.Length]);
                if (status != TranslationStatus.Ok)
                {
                    CryptographicOperations.ZeroMemory(destination);
                    throw new InvalidOperationException($"Reading the secret through {store.Context.Name}'s MMU failed: {status}.");
                }
            }
        }

        public void Dispose()
        {
            lock (store._lock)
            {
                store.Module.Free(region);
            }
        }

        public override string ToString() => $"MMU-vTPM secret ({region.Purpose}, {region.Length} octets)";
    }
}
