import Logging
import Shell

extension Docker {
    /// The full ID (`sha256:…`) of a local image, or nil when the engine has none by that reference.
    public func imageID(_ reference: String) async throws -> String? {
        do {
            return try await capture(["image", "inspect", "--format", "{{.Id}}", reference]).stdoutText
        } catch DockerError.command(let error)
            where error.stderrTail.contains(where: { $0.contains("No such image") || $0.contains("No such object") })
        {
            return nil
        }
    }

    /// Pulls an image, retrying only what looks transient (timeouts, connection trouble, registry 5xx).
    ///
    /// An image the registry does not have throws ``DockerError/imageNotFound(_:)`` at once.
    public func pull(_ reference: String, retry policy: RetryPolicy, logger: Logger?) async throws {
        try await Shell.retry(
            policy, logger: logger, what: "docker pull \(reference)", isTransient: DockerError.isTransientPull
        ) { _ in
            do {
                try await capture(["pull", "--quiet", reference])
            } catch DockerError.command(let error) where DockerError.isImageNotFound(error) {
                throw DockerError.imageNotFound(reference)
            }
        }
    }

    /// Builds an image from a directory on the target and tags it.
    ///
    /// - Parameter dockerfile: the Dockerfile's path; nil means `Dockerfile` in the context.
    public func build(context: String, dockerfile: String?, tag: String) async throws {
        var arguments = ["build", "--quiet", "--tag", tag]
        if let dockerfile { arguments += ["--file", dockerfile] }
        try await capture(arguments + ["--", context])
    }

    /// Gives an image another reference (`docker tag SOURCE TARGET`).
    public func tag(_ source: String, _ target: String) async throws {
        try await capture(["tag", source, target])
    }

    /// Removes one reference of an image; an image a container still uses fails and is reported.
    public func removeImage(_ reference: String) async throws {
        try await capture(["image", "rm", reference])
    }

    /// The tagged images of one repository, newest first.
    public func images(repository: String) async throws -> [ImageInfo] {
        let output = try await capture([
            "image", "ls", "--no-trunc", "--format", "{{.Tag}}\t{{.ID}}\t{{.CreatedAt}}", repository,
        ])
        let images = output.stdoutText.split(separator: "\n").compactMap { line -> ImageInfo? in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            // Untagged (`<none>`) images cannot be deployed or rolled back to by name.
            guard fields.count == 3, fields[0] != "<none>", let created = DockerTime.parse(fields[2]) else {
                return nil
            }
            return ImageInfo(repository: repository, tag: fields[0], id: fields[1], createdAt: created)
        }
        return images.sorted { $0.createdAt > $1.createdAt }
    }

    /// The containers of one Compose project (running or not), found by Compose's project label.
    public func containers(project: String) async throws -> [ContainerInfo] {
        let format = #"{{.ID}}\#t{{.Names}}\#t{{.Label "com.docker.compose.service"}}\#t{{.State}}\#t{{.Image}}"#
        let output = try await capture([
            "ps", "--all", "--no-trunc", "--filter", "label=com.docker.compose.project=\(project)", "--format", format,
        ])
        return output.stdoutText.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 5 else { return nil }
            return ContainerInfo(id: fields[0], name: fields[1], service: fields[2], state: fields[3], image: fields[4])
        }
    }
}
