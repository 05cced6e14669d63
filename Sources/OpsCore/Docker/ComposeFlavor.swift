/// Which Compose CLI a target has: the v2 plugin (`docker compose`) or the v1 program (`docker-compose`).
public enum ComposeFlavor: String, Sendable {
    case v2 = "docker compose"
    case v1 = "docker-compose"

    /// The argv prefix that starts it.
    public var argv: [String] {
        switch self {
        case .v2: ["docker", "compose"]
        case .v1: ["docker-compose"]
        }
    }
}
