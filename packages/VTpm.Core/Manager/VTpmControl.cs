namespace TrustStack.VTpm.Core;

/// <summary>What a request to a manager's control endpoint asks for.</summary>
public enum VTpmControlCommand
{
    /// <summary>The vTPMs of the manager, with their states and ports.</summary>
    List,

    /// <summary>Migrate a vTPM the manager serves (<see cref="VTpmControlRequest.VmId"/>) to <see cref="VTpmControlRequest.Destination"/>, trusting <see cref="VTpmControlRequest.TrustedAttestationKeyNames"/>.</summary>
    Migrate,

    /// <summary>Resolve the unfinished migration of <see cref="VTpmControlRequest.VmId"/> as the journal says (<see cref="VTpmMigrationSource.ResolveAsync"/>).</summary>
    Resolve,
}

/// <summary>A request to a manager's control endpoint (<see cref="VTpmControlServer"/>).</summary>
/// <param name="Command">What it asks for.</param>
public sealed record VTpmControlRequest(VTpmControlCommand Command)
{
    /// <summary>The VM, for <see cref="VTpmControlCommand.Migrate"/> and <see cref="VTpmControlCommand.Resolve"/>.</summary>
    public Guid? VmId { get; init; }

    /// <summary>The destination's migration endpoint (<c>HOST:PORT</c>), for <see cref="VTpmControlCommand.Migrate"/>.</summary>
    public string? Destination { get; init; }

    /// <summary>The Names of the destination attestation keys to trust, for <see cref="VTpmControlCommand.Migrate"/>.</summary>
    public IReadOnlyList<byte[]> TrustedAttestationKeyNames { get; init; } = [];
}

/// <summary>One vTPM as a control endpoint lists it.</summary>
/// <param name="VmId">The VM.</param>
/// <param name="State">Its state.</param>
/// <param name="Port">Its swtpm command port while served, else null.</param>
public sealed record VTpmControlInstance(Guid VmId, VTpmInstanceState State, int? Port);

/// <summary>The answer of a control endpoint: an error, or what the command produced.</summary>
public sealed record VTpmControlResponse
{
    /// <summary>Why the request failed (a one-line message), or null when it succeeded.</summary>
    public string? Error { get; init; }

    /// <summary>The outcome of a <see cref="VTpmControlCommand.Migrate"/> or <see cref="VTpmControlCommand.Resolve"/>.</summary>
    public VTpmMigrationResult? Migration { get; init; }

    /// <summary>The vTPMs, for <see cref="VTpmControlCommand.List"/>.</summary>
    public IReadOnlyList<VTpmControlInstance>? Instances { get; init; }

    /// <summary>A failed response.</summary>
    /// <param name="error">Why, in one line.</param>
    /// <returns>The response.</returns>
    public static VTpmControlResponse Failed(string error) => new() { Error = error };
}

/// <summary>What a manager's host does with control requests (<c>truststack vtpm serve</c> implements it over its manager).</summary>
public interface IVTpmControlHandler
{
    /// <summary>Handles one request. An expected failure is a response with <see cref="VTpmControlResponse.Error"/>.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancelled when the endpoint stops.</param>
    /// <returns>The response.</returns>
    Task<VTpmControlResponse> HandleAsync(VTpmControlRequest request, CancellationToken cancellationToken);
}
