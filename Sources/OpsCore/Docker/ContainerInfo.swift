/// One container of a Compose project, as `docker ps` sees it.
public struct ContainerInfo: Sendable, Equatable {
    /// The full container ID.
    public var id: String
    public var name: String
    /// The Compose service it belongs to.
    public var service: String
    /// `running`, `exited`, `restarting`, `created`, …
    public var state: String
    /// The image reference it was created from.
    public var image: String

    public init(id: String, name: String, service: String, state: String, image: String) {
        self.id = id
        self.name = name
        self.service = service
        self.state = state
        self.image = image
    }
}
