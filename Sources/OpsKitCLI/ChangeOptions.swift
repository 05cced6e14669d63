import ArgumentParser

/// Flags of tools that change things: `--yes` and `--dry-run`.
struct ChangeOptions: ParsableArguments {
    @Flag(name: [.short, .long], help: "Do not ask for confirmation (for scripts and CI).")
    var yes = false

    @Flag(name: .long, help: "Print every change it would make, and make none.")
    var dryRun = false
}
