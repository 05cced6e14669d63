import Logging
import Shell

/// Copies an image from one engine to another without a temporary file:
/// `docker save REF | zstd | ssh host 'zstd -d | docker load'`.
///
/// Skips the copy when the destination already has an image of the same ID under that reference.
/// The stages run over real pipes; a failing stage is named in the error.
///
/// - Returns: true when the image was copied, false when the destination already had it.
public func transferImage(_ reference: String, from source: Docker, to destination: Docker, logger: Logger?)
    async throws -> Bool
{
    guard let id = try await source.imageID(reference) else { throw DockerError.imageNotFound(reference) }
    if try await destination.imageID(reference) == id {
        logger?.info("\(reference) is already on \(destination.target), not copied")
        return false
    }
    logger?.info("copying \(reference) from \(source.target) to \(destination.target)")
    try await streamImage(reference, from: source, to: destination)
    return true
}

/// The copy itself, without the ID check: save on the source, compress here, decompress and load there.
func streamImage(_ reference: String, from source: Docker, to destination: Docker) async throws {
    let save = source.target.command(source.command(["save", reference]))
    // Compressed on this side because the slow link is usually the one to the destination.
    let compress = Command("zstd", "--quiet", "--stdout", "-3", "-T0")
    var load = Target.shell(#"zstd --quiet --decompress --stdout | docker load --quiet"#)
    load.environment = destination.environment.mapValues { $0 }
    do {
        _ = try await Runner().pipeline([save, compress, destination.target.command(load)])
    } catch let error as CommandError {
        throw DockerError.classify(error, target: error.stage == 0 ? source.target : destination.target)
    }
}
