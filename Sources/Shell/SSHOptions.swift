/// How ssh authenticates and connects; host keys are always checked whatever is set here.
public struct SSHOptions: Sendable {
    /// A private key (`-i`); `nil` uses the agent and ssh's defaults.
    public var identityFile: String?
    /// A known_hosts file to check the host key against; `nil` uses `~/.ssh/known_hosts`.
    public var knownHostsFile: String?
    /// How long to wait for the TCP connection (rounded up to whole seconds, at least 1).
    public var connectTimeout: Duration
    /// More `ssh` arguments, placed after ours: ssh keeps the first value of an option, so these cannot
    /// turn off host key checking or batch mode.
    public var extraOptions: [String]

    public init(
        identityFile: String? = nil, knownHostsFile: String? = nil, connectTimeout: Duration = .seconds(10),
        extraOptions: [String] = []
    ) {
        self.identityFile = identityFile
        self.knownHostsFile = knownHostsFile
        self.connectTimeout = connectTimeout
        self.extraOptions = extraOptions
    }
}
