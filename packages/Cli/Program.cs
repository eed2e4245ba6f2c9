using TrustStack.Cli;

return await CliApp.RunAsync(args).ConfigureAwait(false);
