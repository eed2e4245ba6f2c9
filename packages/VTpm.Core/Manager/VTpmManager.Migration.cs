using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// The manager's side of vTPM migration (Migration/): the source locks an instance and exports
/// its live state, then either unlocks it (rollback) or destroys it (commit); the destination
/// keeps a received instance inactive (<see cref="VTpmInstanceState.Incoming"/>) until the commit
/// activates it. Locks and incoming instances are files beside the state files
/// (<c>&lt;uuid&gt;.migrating</c>, <c>&lt;uuid&gt;.incoming</c>), so a restarted manager keeps them.
/// </summary>
public sealed partial class VTpmManager
{
    /// <summary>The hardware TPM (null for an in-memory manager without one).</summary>
    internal Tpm2? Hardware => _hardware;

    /// <summary>The randomness source of the manager.</summary>
    internal IRandomSource Random => _random;

    /// <summary>The logger factory of the manager.</summary>
    internal ILoggerFactory LoggerFactory => _loggerFactory;

    /// <summary>The state folder (full path), or null.</summary>
    internal string? StateDirectory => _store.StateDirectory;

    /// <summary>The manager's clock.</summary>
    internal TimeProvider Time => _time;

    /// <summary>Whether the manager has the VM at all, in any state.</summary>
    internal bool Contains(Guid vmId)
    {
        lock (_lock)
        {
            return _slots.ContainsKey(vmId);
        }
    }

    /// <summary>The VM's state, or null when the manager has no such VM.</summary>
    internal VTpmInstanceState? StateOf(Guid vmId)
    {
        lock (_lock)
        {
            return _slots.TryGetValue(vmId, out var slot) ? slot.State : null;
        }
    }

    /// <summary>
    /// Locks a vTPM for an outgoing migration: its server closes, it serves nothing and cannot be
    /// started, and its state at rest is current. Returns its live state image (reset data
    /// included when the engine runs) and whether the image is live. Idempotent for a VM
    /// already locked. The caller zeroes the image.
    /// </summary>
    internal (byte[] Image, bool Live) LockForMigration(Guid vmId)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var slot = Get(vmId);
            if (slot.State == VTpmInstanceState.Incoming)
            {
                throw new InvalidOperationException($"The vTPM of VM {vmId} is an inactive incoming migration; it cannot migrate.");
            }

            if (slot.State != VTpmInstanceState.Migrating)
            {
                // The server closes first: a response written before its sockets close belongs to a
                // command that ran before the export below; a later one cannot be delivered.
                StopServer(slot);
                slot.LockedFrom = slot.State;
                SetState(slot, VTpmInstanceState.Migrating);
                _store.WriteMigratingMarker(vmId, slot.LockedFrom);
            }

            if (slot.Engine is { } engine)
            {
                Persist(slot);
                return engine.IsStarted ? (engine.ExportLiveState(), true) : (engine.ExportState(), false);
            }

            // Stopped (or locked before a restart): the state at rest, as at power-off.
            using var opened = OpenEngine(slot);
            opened.PowerOff();
            return (opened.ExportState(), false);
        }
    }

    /// <summary>Rolls a migration lock back: the vTPM returns to the state it had when locked (a restarted manager: stopped). Does nothing when it is not locked or gone.</summary>
    internal void UnlockMigration(Guid vmId)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            if (!_slots.TryGetValue(vmId, out var slot) || slot.State != VTpmInstanceState.Migrating)
            {
                return;
            }

            var previous = slot.Engine is null ? VTpmInstanceState.Stopped : slot.LockedFrom;
            SetState(slot, previous);
            _store.DeleteFile(vmId, VTpmInstanceStore.MigratingExtension);
            if (previous == VTpmInstanceState.Running && slot.Port is { } port)
            {
                try
                {
                    StartServer(slot, port);
                }
                catch (System.Net.Sockets.SocketException e)
                {
                    // The vTPM runs (reachable through OpenChannel); only its former port is taken.
                    _logger.LogWarning(e, "The vTPM of VM {VmId} resumed after a rolled-back migration but port {Port} is taken", vmId, port);
                    slot.Port = null;
                }
            }

            _logger.LogInformation("Migration of the vTPM of VM {VmId} rolled back: it is {State} again", vmId, previous);
        }
    }

    /// <summary>After a committed outgoing migration: destroys (zeroizes) the local copy. Idempotent.</summary>
    internal void ReleaseMigrated(Guid vmId)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            if (!_slots.TryGetValue(vmId, out var slot))
            {
                return;
            }

            if (slot.State != VTpmInstanceState.Migrating)
            {
                throw new InvalidOperationException($"The vTPM of VM {vmId} is {slot.State}, not locked for migration; refusing to destroy it.");
            }
        }

        Destroy(vmId);
    }

    /// <summary>
    /// Keeps a received vTPM inactive: its state image is encrypted at rest under the state key
    /// (<c>&lt;uuid&gt;.incoming</c>) and the VM is <see cref="VTpmInstanceState.Incoming"/> (not
    /// listed, not startable). Idempotent for the same VM.
    /// </summary>
    internal void StoreIncoming(Guid vmId, ReadOnlySpan<byte> image, bool live)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            if (_slots.TryGetValue(vmId, out var existing))
            {
                if (existing.State == VTpmInstanceState.Incoming)
                {
                    return;
                }

                throw new InvalidOperationException($"VM {vmId} already has a vTPM here ({existing.State}).");
            }

            var slot = new Slot(vmId) { State = VTpmInstanceState.Incoming };
            var framed = new byte[image.Length + 1];
            framed[0] = live ? (byte)1 : (byte)0;
            image.CopyTo(framed.AsSpan(1));
            try
            {
                _store.WriteIncoming(vmId, framed);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(framed);
            }

            _slots.Add(vmId, slot);
            _logger.LogInformation("Received the vTPM of VM {VmId}; it stays inactive until the migration commits", vmId);
        }
    }

    /// <summary>Discards an inactive incoming vTPM (the migration was aborted). Does nothing when there is none.</summary>
    internal void DiscardIncoming(Guid vmId)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            if (!_slots.TryGetValue(vmId, out var slot) || slot.State != VTpmInstanceState.Incoming)
            {
                return;
            }

            _store.Delete(vmId);
            _slots.Remove(vmId);
            _logger.LogInformation("Discarded the inactive incoming vTPM of VM {VmId}", vmId);
        }
    }

    /// <summary>
    /// Activates an incoming vTPM at commit: restores its engine (a live image resumes with
    /// TPM2_Startup(STATE), keeping PCRs), lets the credential provider re-issue credentials for
    /// this host, derives its vEK, lets every launch observer (the trusted
    /// junction point) measure it, writes its state at rest and adds it to the index; it then runs.
    /// Idempotent: an already active VM is returned as it is.
    /// </summary>
    /// <exception cref="VTpmLaunchRejectedException">An observer rejected the launch; the vTPM stays incoming.</exception>
    internal VTpmInstance ActivateIncoming(Guid vmId)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var slot = Get(vmId);
            if (slot.State != VTpmInstanceState.Incoming)
            {
                return Info(slot);
            }

            var source = _store.Describe(vmId, VTpmInstanceStore.IncomingExtension);
            var framed = _store.ReadIncoming(vmId) ?? throw new VTpmStateException(source, "the incoming state is missing");
            SoftwareTpm engine;
            try
            {
                if (framed.Length < 1 || framed[0] > 1)
                {
                    throw new VTpmStateException(source, "the incoming state has no valid live flag");
                }

                var live = framed[0] == 1;
                var engineOptions = new SoftwareTpmOptions
                {
                    PcrBanks = _options.VTpmPcrBanks,
                    AutoStartup = !live && _options.AutoStartup,
                    Seed = _options.Seed is { } seed ? EngineSeed(seed, vmId) : null,
                };
                engine = SoftwareTpm.FromState(framed.AsSpan(1), engineOptions, null, _time, _secretStore, _loggerFactory.CreateLogger<SoftwareTpm>());
                if (live)
                {
                    new Tpm2(engine).Startup(TpmSu.State);
                }

                engine = WithWriteThrough(vmId, engine);
            }
            catch (TpmStateException e)
            {
                throw new VTpmStateException(source, e.Message, e);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(framed);
            }

            try
            {
                // The vTPM's keys came with it; credentials naming the source host are replaced here.
                ProvisionCredentials(engine, vmId, VTpmCredentialOccasion.MigratedIn);
                AnnounceLaunch(slot, engine, "Activation after migration");
                slot.Engine = engine;
                Persist(slot);
            }
            catch
            {
                slot.Engine = null;
                engine.Dispose();

                // A state file written before the failure must not make the VM look stopped-but-live at the next start.
                _store.DeleteFile(vmId, VTpmInstanceStore.StateExtension);
                throw;
            }

            SetState(slot, VTpmInstanceState.Running);
            _order.Add(vmId);
            _store.AppendIndex(vmId);
            _store.DeleteFile(vmId, VTpmInstanceStore.IncomingExtension);
            _logger.LogInformation("Activated the migrated vTPM of VM {VmId}", vmId);
            return Info(slot);
        }
    }

    /// <summary>Opens (unseals) the state key now, so that later steps do not need hardware TPM object slots for it.</summary>
    internal void OpenStateKey()
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            _ = _store.StateKey();
        }
    }

    /// <summary>Encrypts migration bookkeeping (the journal) under the state key, bound to <paramref name="id"/>.</summary>
    internal byte[] ProtectRecord(Guid id, ReadOnlySpan<byte> record) => _store.Protect(id, record);

    /// <summary>Opens a record made by <see cref="ProtectRecord"/>; the caller zeroes the result.</summary>
    /// <exception cref="VTpmStateException">Tampered, or of another record.</exception>
    internal byte[] UnprotectRecord(Guid id, ReadOnlySpan<byte> blob, string source) => _store.Unprotect(id, blob, source);

    private static void RequireNotMigrating(Slot slot, string operation)
    {
        if (slot.State is VTpmInstanceState.Migrating or VTpmInstanceState.Incoming)
        {
            throw new InvalidOperationException($"Cannot {operation} the vTPM of VM {slot.VmId}: it is {slot.State.ToString().ToLowerInvariant()}.");
        }
    }

    private void LoadMigrationMarkers()
    {
        foreach (var slot in _slots.Values)
        {
            if (_store.Has(slot.VmId, VTpmInstanceStore.MigratingExtension))
            {
                slot.State = VTpmInstanceState.Migrating;
                slot.LockedFrom = VTpmInstanceState.Stopped;
            }
        }

        foreach (var id in _store.ListIncoming())
        {
            if (!_slots.ContainsKey(id))
            {
                _slots.Add(id, new Slot(id) { State = VTpmInstanceState.Incoming });
            }
        }
    }
}
