import FoundationEssentials

/// One tagged local image.
public struct ImageInfo: Sendable, Equatable {
    public var repository: String
    public var tag: String
    /// The full image ID, `sha256:…`.
    public var id: String
    /// When the image was built (to the second).
    public var createdAt: Date

    public init(repository: String, tag: String, id: String, createdAt: Date) {
        self.repository = repository
        self.tag = tag
        self.id = id
        self.createdAt = createdAt
    }

    /// `repository:tag`.
    public var reference: String { "\(repository):\(tag)" }
}
