extension CommandError {
    /// Whether ssh itself failed (exit 255: no connection, auth or host key refused), which may be worth
    /// retrying; any other exit code belongs to the remote command.
    ///
    /// A remote command that itself exits 255 is indistinguishable; don't use 255 for remote results.
    public var isSSHConnectionFailure: Bool {
        termination == .exited(255) && (command == "ssh" || command.hasPrefix("ssh "))
    }
}
