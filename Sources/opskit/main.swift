import OpsKitCLI
await OpsKitMain.main(arguments: CommandLine.arguments)
