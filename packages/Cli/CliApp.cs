using System.CommandLine;

namespace TrustStack.Cli;

/// <summary>The <c>truststack</c> command tree.</summary>
internal static class CliApp
{
    /// <summary>Builds the root command with every sub-command.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("TrustStack: TPM virtualization and attestation.");
        root.Subcommands.Add(Commands.DemoCommand.Create());
        root.Subcommands.Add(Commands.QuoteVerifyCommand.Create());
        root.Subcommands.Add(Commands.EventLogCommands.CreateEventLogCommand());
        root.Subcommands.Add(Commands.EventLogCommands.CreateImaCommand());
        root.Subcommands.Add(Commands.VTpmCommands.Create());
        root.Subcommands.Add(Commands.TpmServeCommand.Create());
        root.Subcommands.Add(Commands.EvidenceCommands.Create());
        root.Subcommands.Add(Commands.ShadowCommands.Create());
        root.Subcommands.Add(Commands.DaaCommands.Create());
        root.Subcommands.Add(Commands.CertsCommands.Create());
        root.Subcommands.Add(Commands.AttestCommands.Create());
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static Task<int> RunAsync(string[] args) => Build().Parse(args).InvokeAsync();
}
