using Microsoft.Extensions.Logging;

namespace TrustStack.Tpm.Hardware;

internal static partial class EngineLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Engine fault while executing {Command}; answered TPM_RC_FAILURE")]
    public static partial void LogEngineFault(this ILogger logger, TpmCc command, Exception exception);
}
