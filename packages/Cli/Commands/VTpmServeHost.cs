using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Cli.Commands;

/// <summary>
/// What <c>truststack vtpm serve</c> runs over its manager: each vTPM's swtpm server on a stable
/// port (VM slot i on base+2i, slots kept in <c>DIR/serve-ports</c> so a VM keeps its port when
/// another leaves), the migration source and destination, and the control endpoint
/// (<c>DIR/control.sock</c>) through which <c>vtpm migrate</c> moves or resolves a served vTPM.
/// A vTPM that cannot be served (left mid-migration, damaged state file, port taken) is reported
/// and skipped; the others serve.
/// </summary>
internal sealed class VTpmServeHost : IVTpmControlHandler, IAsyncDisposable
{
    /// <summary>The file of VM → port slot assignments in the state folder.</summary>
    public const string PortsFileName = "serve-ports";

    private readonly VTpmManager _manager;
    private readonly Tpm2 _hardware;
    private readonly string _dir;
    private readonly int _basePort;
    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly ILoggerFactory _loggerFactory;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _migrations = new(1, 1);
    private readonly Dictionary<Guid, int> _slots;
    private TcpMigrationListener? _listener;
    private VTpmControlServer? _control;

    public VTpmServeHost(VTpmManager manager, Tpm2 hardware, string dir, int basePort, TextWriter output, TextWriter error, ILoggerFactory loggerFactory)
    {
        _manager = manager;
        _hardware = hardware;
        _dir = dir;
        _basePort = basePort;
        _output = output;
        _error = error;
        _loggerFactory = loggerFactory;
        _slots = LoadSlots();

        // Unfinished migrations are reported and left to `vtpm migrate --resolve` (an operator
        // decision), not rolled back behind the operator's back.
        Source = new VTpmMigrationSource(manager, new VTpmMigrationSourceOptions { RecoverOnStart = false });
    }

    public VTpmMigrationSource Source { get; }

    public VTpmMigrationDestination? Destination { get; private set; }

    private string PortsPath => Path.Combine(_dir, PortsFileName);

    /// <summary>Starts accepting migrations on 127.0.0.1:<paramref name="port"/>; a migrated vTPM is served at once on a free slot.</summary>
    public void AcceptMigrations(int port)
    {
        Destination = new VTpmMigrationDestination(_manager);
        Destination.Activated += (_, instance) => Serve(instance.VmId, "arrived by migration: ");
        _listener = new TcpMigrationListener(Destination, port, _loggerFactory.CreateLogger<TcpMigrationListener>());
        _listener.Start();
        WriteLine($"accepting migrations on 127.0.0.1:{_listener.Port}; attestation key {Convert.ToHexStringLower(Destination.AttestationKeyName)}");
    }

    /// <summary>Starts and serves every vTPM of the folder; reports (and skips) those that cannot serve.</summary>
    /// <returns>How many serve.</returns>
    /// <exception cref="VirtualizationLayerChangedException">No vTPM can open: the layer changed.</exception>
    public int ServeAll()
    {
        var pending = Source.Pending;
        var served = 0;
        foreach (var instance in _manager.List())
        {
            if (instance.State == VTpmInstanceState.Migrating)
            {
                Warn($"vm {instance.VmId} not served: {DescribeLocked(instance.VmId, pending)}; resolve with: truststack vtpm migrate --resolve --vm {instance.VmId} --state {_dir}");
                continue;
            }

            if (Serve(instance.VmId, string.Empty))
            {
                served++;
            }
        }

        lock (_lock)
        {
            SaveSlots();
        }

        return served;
    }

    /// <summary>Starts the control endpoint; a folder path too long for a UNIX socket only costs the endpoint (reported).</summary>
    public void StartControl()
    {
        var path = VTpmControlServer.DefaultPath(_dir);
        var control = new VTpmControlServer(path, this, _loggerFactory.CreateLogger<VTpmControlServer>());
        try
        {
            control.Start();
            _control = control;
            WriteLine($"control endpoint {path}");
        }
        catch (Exception e) when (e is SocketException or IOException or ArgumentException)
        {
            Warn($"no control endpoint ({path}: {e.Message}); `vtpm migrate` on this folder is refused while it serves");
        }
    }

    /// <inheritdoc />
    public async Task<VTpmControlResponse> HandleAsync(VTpmControlRequest request, CancellationToken cancellationToken)
    {
        switch (request.Command)
        {
            case VTpmControlCommand.List:
                return new VTpmControlResponse { Instances = [.. _manager.List().Select(i => new VTpmControlInstance(i.VmId, i.State, i.Port))] };
            case VTpmControlCommand.Migrate or VTpmControlCommand.Resolve when request.VmId is null:
                return VTpmControlResponse.Failed($"{request.Command.ToString().ToLowerInvariant()} needs a VM");
        }

        var vm = request.VmId!.Value;
        await _migrations.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            VTpmMigrationResult result;
            if (request.Command == VTpmControlCommand.Migrate)
            {
                TcpMigrationTransport transport;
                try
                {
                    transport = TcpMigrationTransport.Parse(request.Destination ?? string.Empty);
                }
                catch (FormatException e)
                {
                    return VTpmControlResponse.Failed(e.Message);
                }

                using (transport)
                {
                    if (!_manager.List().Any(i => i.VmId == vm))
                    {
                        return VTpmControlResponse.Failed($"No vTPM for VM {vm} here.");
                    }

                    var policy = MigrationTrustPolicy.SameLayerAs(_hardware, PcrSelectionList.Parse(_manager.Options.VirtualizationLayerPcrs), request.TrustedAttestationKeyNames);
                    result = await Source.MigrateAsync(vm, transport, policy, cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                result = await Source.ResolveAsync(vm, TcpMigrationTransport.Parse, cancellationToken).ConfigureAwait(false);
            }

            AfterMigration(result);
            return new VTpmControlResponse { Migration = result };
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or IOException or TpmException)
        {
            return VTpmControlResponse.Failed(e.Message);
        }
        finally
        {
            _migrations.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_control is not null)
        {
            await _control.DisposeAsync().ConfigureAwait(false);
        }

        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }

        _migrations.Dispose();
    }

    private static string DescribeLocked(Guid vm, IReadOnlyList<VTpmPendingMigration> pending)
    {
        if (pending.FirstOrDefault(p => p.VmId == vm) is not { } entry)
        {
            var unreadable = pending.Where(p => p.State == VTpmPendingMigrationState.Unreadable).Select(p => p.Problem).ToList();
            return unreadable.Count == 0
                ? "it is locked for an outgoing migration that no journal entry records"
                : $"it is locked for an outgoing migration whose journal entry cannot be read ({string.Join("; ", unreadable)})";
        }

        var state = entry.State switch
        {
            VTpmPendingMigrationState.Locked => "interrupted before its commit (resolving rolls it back and serves it here)",
            VTpmPendingMigrationState.Aborting => "rolled back, the abort not yet acknowledged (resolving serves it here)",
            _ => "committed, the destination holds it (resolving destroys this copy and resends the commit)",
        };
        return $"it is locked for migration {entry.MigrationId} to {entry.Endpoint}, {entry.State.ToString().ToLowerInvariant()}: {state}";
    }

    /// <summary>After a migration or resolution: a moved vTPM gives up its slot; one rolled back here serves (again).</summary>
    private void AfterMigration(VTpmMigrationResult result)
    {
        if (result.Moved)
        {
            ReleaseSlot(result.VmId);
            WriteLine($"vm {result.VmId} {result.Outcome.ToString().ToLowerInvariant()} (migration {result.MigrationId}): no longer served here");
            return;
        }

        var state = StateOf(result.VmId);
        if (state is VTpmInstanceState.Stopped || (state is VTpmInstanceState.Running && _manager.Inspect(result.VmId).Port is null))
        {
            // A vTPM skipped at start (left mid-migration) and now rolled back: serve it now.
            Serve(result.VmId, "rolled back: ");
        }
    }

    /// <summary>Starts (if stopped) and serves one vTPM on its slot's port, printing its line; reports and returns false when it cannot.</summary>
    private bool Serve(Guid vm, string prefix)
    {
        lock (_lock)
        {
            try
            {
                if (StateOf(vm) == VTpmInstanceState.Stopped)
                {
                    _manager.Start(vm);
                }

                var instance = ServeOnSlot(vm);
                if (prefix.Length > 0)
                {
                    WriteLine($"{prefix}vm {vm}");
                }

                WriteLine($"vm {vm} vtpm 127.0.0.1:{instance.Port} control {instance.Port + 1} TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port={instance.Port}");
                return true;
            }
            catch (Exception e) when (e is VTpmStateException or VTpmLaunchRejectedException or SocketException or InvalidOperationException and not VirtualizationLayerChangedException)
            {
                Warn($"vm {vm} not served: {e.Message}");
                return false;
            }
        }
    }

    private VTpmInstance ServeOnSlot(Guid vm)
    {
        if (_slots.TryGetValue(vm, out var slot))
        {
            // A VM keeps its port: its guest is configured for it.
            return _manager.Serve(vm, PortOf(slot) ?? throw new InvalidOperationException($"its port slot {slot} lies beyond 65535 from base port {_basePort}"));
        }

        // A new VM takes the lowest free slot whose port pair is free.
        for (var candidate = 0; PortOf(candidate) is { } port; candidate++)
        {
            if (_slots.ContainsValue(candidate))
            {
                continue;
            }

            try
            {
                var instance = _manager.Serve(vm, port);
                _slots[vm] = candidate;
                SaveSlots();
                return instance;
            }
            catch (SocketException)
            {
                // Taken by something else: the next slot.
            }
        }

        throw new InvalidOperationException($"no free port pair from base port {_basePort}");
    }

    private VTpmInstanceState? StateOf(Guid vm) => _manager.List().FirstOrDefault(i => i.VmId == vm)?.State;

    private int? PortOf(int slot)
    {
        var port = _basePort + (2L * slot);
        return port is >= 1 and < 65535 ? (int)port : null;
    }

    private void ReleaseSlot(Guid vm)
    {
        lock (_lock)
        {
            if (_slots.Remove(vm))
            {
                SaveSlots();
            }
        }
    }

    private Dictionary<Guid, int> LoadSlots()
    {
        var slots = new Dictionary<Guid, int>();
        string[] lines;
        try
        {
            lines = File.Exists(PortsPath) ? File.ReadAllLines(PortsPath) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Warn($"{PortsPath} cannot be read ({e.Message}); ports are assigned afresh");
            lines = [];
        }

        var known = _manager.List().Select(i => i.VmId).ToHashSet();
        foreach (var line in lines)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && Guid.TryParseExact(parts[0], "D", out var vm) && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var slot) && known.Contains(vm) && !slots.ContainsValue(slot))
            {
                slots[vm] = slot;
            }
        }

        // VMs without a slot (a folder from before the file) take slots in creation order, as before.
        foreach (var vm in known.Where(v => !slots.ContainsKey(v)).OrderBy(v => _manager.List().ToList().FindIndex(i => i.VmId == v)))
        {
            var free = 0;
            while (slots.ContainsValue(free))
            {
                free++;
            }

            slots[vm] = free;
        }

        return slots;
    }

    private void SaveSlots()
    {
        var text = string.Concat(_slots.OrderBy(p => p.Value).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key:D} {p.Value}\n")));
        var temp = PortsPath + ".tmp";
        File.Delete(temp);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, options))
        {
            stream.Write(Encoding.ASCII.GetBytes(text));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, PortsPath, overwrite: true);
    }

    private void WriteLine(string line)
    {
        lock (_output)
        {
            _output.WriteLine(line);
            _output.Flush();
        }
    }

    private void Warn(string line)
    {
        lock (_error)
        {
            _error.WriteLine($"warning: {line}");
            _error.Flush();
        }
    }
}
