import Logging
import OpsCore
import Shell

/// Backups in an S3-compatible bucket (AWS, Backblaze B2, MinIO): `<prefix>/<object>` and
/// `<prefix>/<id>.manifest.json`.
///
/// Uploads are multipart with a fixed part size: one part is buffered (memory is bounded by `partSize`),
/// uploaded and retried on transient failures; any failure aborts the multipart upload. An object smaller
/// than one part is a single PutObject. After completing, a HEAD checks the object's size. Reads are ranged
/// GETs of `partSize` each. Every call blocks the calling thread (`S3Client.blocking`).
public final class S3BackupStore: BackupStore {
    public let location: S3Location
    /// Bytes per multipart part and per ranged read; at least `S3Client.minimumPartSize`.
    public let partSize: Int
    public var uploadMemory: Int { partSize }
    let client: S3Client
    let retry: RetryPolicy
    let logger: Logger?
    /// Test seam: runs before every attempt to upload part `partNumber` (a single PutObject is part 1).
    let beforePart: (@Sendable (_ partNumber: Int, _ attempt: Int) throws -> Void)?

    public var description: String { location.description }

    /// The default retry: 5 attempts, backing off from 1 s up to 30 s.
    public static let defaultRetry = RetryPolicy(maxAttempts: 5, initialDelay: .seconds(1), maxDelay: .seconds(30))

    /// - Parameters:
    ///   - endpoint: `https://s3.us-west-004.backblazeb2.com`, `http://127.0.0.1:9000`; path-style requests.
    ///   - partSize: raised to `S3Client.minimumPartSize` (5 MiB) when smaller.
    ///   - logger: receives one warning per retry.
    public convenience init(location: S3Location, credentials: AWSCredentials, endpoint: String, region: String,
                            partSize: Int = 16 << 20, retry: RetryPolicy = S3BackupStore.defaultRetry, logger: Logger? = nil) {
        self.init(location: location, credentials: credentials, endpoint: endpoint, region: region, partSize: partSize,
                  retry: retry, logger: logger, beforePart: nil)
    }

    init(location: S3Location, credentials: AWSCredentials, endpoint: String, region: String, partSize: Int,
         retry: RetryPolicy, logger: Logger?, beforePart: (@Sendable (Int, Int) throws -> Void)?) {
        self.location = location
        self.partSize = max(partSize, S3Client.minimumPartSize)
        self.client = S3Client(endpoint: endpoint, region: region, credentials: credentials)
        self.retry = retry
        self.logger = logger
        self.beforePart = beforePart
    }

    // MARK: BackupStore

    public func list() throws -> [BackupManifest] {
        let action = "listing the backups in \(location) failed"
        return try manifests(in: try names(action: action), action: action).sorted { $0.id < $1.id }
    }

    public func beginUpload(object: String) throws -> BackupUpload {
        guard BackupObjectName.isValid(object) else { throw BackupStoreError.invalidObjectName(object) }
        let action = "starting the upload of \(location.url(object)) failed, nothing was written"
        guard try size(of: object, action: action) == nil else {
            throw BackupStoreError.alreadyExists(object, store: location.description)
        }
        return S3Upload(store: self, object: object)
    }

    public func commit(_ manifest: BackupManifest) throws {
        try checkNames(manifest)
        let action = "committing backup \(manifest.id) in \(location) failed, no manifest was written"
        guard try size(of: manifest.fileName, action: action) == nil else {
            throw BackupStoreError.alreadyExists(manifest.fileName, store: location.description)
        }
        let actual = try size(of: manifest.object, action: action)
        guard actual == manifest.sizeBytes else {
            throw BackupStoreError.incomplete(object: location.url(manifest.object), expected: manifest.sizeBytes, actual: actual)
        }
        try put(manifest, action: "writing manifest \(location.url(manifest.fileName)) failed: "
            + "the backup does not exist (the next run removes its object); fix the cause and run it again")
    }

    public func updateManifest(_ manifest: BackupManifest) throws {
        try checkNames(manifest)
        let action = "updating manifest \(location.url(manifest.fileName)) failed, the previous one is unchanged"
        guard try size(of: manifest.fileName, action: action) != nil else {
            throw BackupStoreError.notFound(manifest.id, store: location.description)
        }
        try put(manifest, action: action)
    }

    public func open(_ manifest: BackupManifest) throws -> ByteSource {
        try checkNames(manifest)
        let url = location.url(manifest.object)
        guard let size = try size(of: manifest.object, action: "opening \(url) failed") else {
            throw BackupStoreError.damaged(object: url, reason: "the object is missing")
        }
        guard size == manifest.sizeBytes else {
            throw BackupStoreError.damaged(object: url, reason: "it has \(size) bytes, the manifest says \(manifest.sizeBytes)")
        }
        return S3RangedSource(store: self, object: manifest.object, size: size)
    }

    public func delete(_ manifest: BackupManifest) throws {
        try checkNames(manifest)
        let action = "deleting backup \(manifest.id) from \(location) failed"
        guard try size(of: manifest.fileName, action: action + ", nothing was changed") != nil else {
            throw BackupStoreError.notFound(manifest.id, store: location.description)
        }
        try call("DELETE \(location.url(manifest.fileName))", action: action + ", nothing was changed") { _ in
            try client.blocking.deleteObject(bucket: location.bucket, key: location.key(manifest.fileName))
        }
        try call("DELETE \(location.url(manifest.object))",
                 action: action + " after its manifest was removed (the backup is gone; the next run removes the object)") { _ in
            try client.blocking.deleteObject(bucket: location.bucket, key: location.key(manifest.object))
        }
    }

    public func removeLeftovers() throws -> [String] {
        let action = "removing leftovers in \(location) failed"
        let names = try names(action: action)
        let referenced = Set(try manifests(in: names, action: action).map(\.object))
        var removed: [String] = []
        for name in names where BackupObjectName.isValid(name) && !referenced.contains(name) {
            try call("DELETE \(location.url(name))", action: action) { _ in
                try client.blocking.deleteObject(bucket: location.bucket, key: location.key(name))
            }
            removed.append(name)
        }
        let uploads = try call("list multipart uploads in \(location)", action: action) { _ in
            try client.blocking.listMultipartUploads(bucket: location.bucket, prefix: location.prefix)
        }
        for upload in uploads {
            guard let name = childName(upload.key), BackupObjectName.isValid(name) else { continue }
            try call("abort the upload of \(location.url(name))", action: action) { _ in
                try client.blocking.abortMultipartUpload(bucket: location.bucket, key: upload.key, uploadID: upload.uploadID)
            }
            removed.append("unfinished upload of \(name)")
        }
        return removed
    }

    // MARK: Helpers

    /// Runs one S3 call, retrying transient failures; errors become `BackupStoreError`s saying `action`.
    func call<T>(_ what: String, action: String, _ body: (_ attempt: Int) throws -> T) throws -> T {
        do {
            return try retryBlocking(retry, logger: logger, what: what, isTransient: S3Client.isTransient, operation: body)
        } catch {
            throw Self.wrap(error, action: action)
        }
    }

    static func wrap(_ error: any Error, action: String) -> any Error {
        switch error {
        case let error as StoreError: BackupStoreError.s3(error, action: action)
        case let error as HTTPError: BackupStoreError.network(error, action: action)
        default: error
        }
    }

    /// The object's size, or nil when there is none.
    func size(of name: String, action: String) throws -> Int? {
        do {
            return try call("HEAD \(location.url(name))", action: action) { _ in
                try client.blocking.headObject(bucket: location.bucket, key: location.key(name))
            }
        } catch BackupStoreError.s3(.noSuchKey, _) {
            return nil
        }
    }

    /// The names directly under the prefix.
    private func names(action: String) throws -> [String] {
        // The listing asks for the prefix without its trailing '/' and filters here: moto rejects valid
        // signatures for a '/' in the prefix parameter, and S3 and B2 give the same answer either way.
        let objects = try call("list \(location)", action: action) { _ in
            try client.blocking.listObjects(bucket: location.bucket, prefix: location.prefix)
        }
        return objects.compactMap { childName($0.key) }
    }

    /// `name` for the key `<prefix>/name`; nil for keys elsewhere or deeper.
    private func childName(_ key: String) -> String? {
        let keyPrefix = location.prefix.isEmpty ? "" : location.prefix + "/"
        guard key.hasPrefix(keyPrefix) else { return nil }
        let name = String(key.dropFirst(keyPrefix.count))
        return name.isEmpty || name.contains("/") ? nil : name
    }

    private func manifests(in names: [String], action: String) throws -> [BackupManifest] {
        var out: [BackupManifest] = []
        for name in names {
            guard let id = BackupObjectName.manifestID(of: name) else { continue }
            let url = location.url(name)
            let bytes = try call("GET \(url)", action: action) { _ in
                try client.blocking.getObject(bucket: location.bucket, key: location.key(name), maxBytes: 1 << 20)
            }
            let manifest = try BackupManifest(decoding: bytes, from: url)
            guard manifest.id == id else {
                throw BackupStoreError.manifestUnreadable(url, reason: "it describes backup \(manifest.id), not \(id)")
            }
            out.append(manifest)
        }
        return out
    }

    private func put(_ manifest: BackupManifest, action: String) throws {
        let bytes = manifest.encoded()
        try call("PUT \(location.url(manifest.fileName))", action: action) { _ in
            try client.blocking.putObject(bucket: location.bucket, key: location.key(manifest.fileName), bytes: bytes)
        }
    }

    private func checkNames(_ manifest: BackupManifest) throws {
        guard BackupObjectName.isValid(manifest.object) else { throw BackupStoreError.invalidObjectName(manifest.object) }
        guard BackupObjectName.manifestID(of: manifest.fileName) == manifest.id, !manifest.fileName.contains("/") else {
            throw BackupStoreError.invalidObjectName(manifest.fileName)
        }
    }
}

/// One object on its way into S3: a part at a time, or a single PutObject when it fits in one part.
final class S3Upload: BackupUpload {
    private let store: S3BackupStore
    private let object: String
    private let key: String
    private var buffer: [UInt8] = []
    private var uploadID: String?
    private var parts: [S3UploadedPart] = []
    private var state = State.writing
    private(set) var bytesWritten = 0

    private enum State { case writing, finished, closed }

    init(store: S3BackupStore, object: String) {
        self.store = store
        self.object = object
        key = store.location.key(object)
        buffer.reserveCapacity(store.partSize)
    }

    deinit {
        // Dropped without finish or abort (an error upstream): no unfinished upload keeps costing storage.
        if state == .writing { abort() }
    }

    private var action: String { "uploading \(store.location.url(object)) failed, nothing from this run was kept" }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard state == .writing else { throw BackupStoreError.uploadClosed(object) }
        try abortingOnError {
            var offset = 0
            while offset < chunk.count {
                let count = min(store.partSize - buffer.count, chunk.count - offset)
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[offset..<offset + count]))
                offset += count
                if buffer.count == store.partSize { try uploadPart() }
            }
        }
        bytesWritten += chunk.count
    }

    func finish() throws {
        guard state == .writing else { throw BackupStoreError.uploadClosed(object) }
        try abortingOnError {
            if let uploadID {
                if !buffer.isEmpty { try uploadPart() }
                try complete(uploadID)
            } else {
                try store.call("PUT \(store.location.url(object))", action: action) { attempt in
                    try store.beforePart?(1, attempt)
                    try store.client.blocking.putObject(bucket: store.location.bucket, key: key, bytes: buffer)
                }
            }
            buffer = []
            state = .finished
            let size = try store.size(of: object, action: action)
            guard size == bytesWritten else {
                throw BackupStoreError.incomplete(object: store.location.url(object), expected: bytesWritten, actual: size)
            }
        }
    }

    func abort() {
        switch state {
        case .writing:
            if let uploadID {
                _ = try? store.call("abort the upload of \(store.location.url(object))", action: action) { _ in
                    try store.client.blocking.abortMultipartUpload(bucket: store.location.bucket, key: key, uploadID: uploadID)
                }
            }
        case .finished:
            _ = try? store.call("DELETE \(store.location.url(object))", action: action) { _ in
                try store.client.blocking.deleteObject(bucket: store.location.bucket, key: key)
            }
        case .closed:
            break
        }
        state = .closed
        buffer = []
    }

    private func abortingOnError(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            abort()
            throw error
        }
    }

    /// Uploads the buffer as the next part (starting the multipart upload first if needed).
    private func uploadPart() throws {
        guard parts.count < S3Client.maximumPartCount else {
            throw BackupStoreError.tooLarge(object: store.location.url(object), limit: S3Client.maximumPartCount * store.partSize)
        }
        let uploadID = try self.uploadID ?? store.call("start the upload of \(store.location.url(object))", action: action) { _ in
            try store.client.blocking.createMultipartUpload(bucket: store.location.bucket, key: key)
        }
        self.uploadID = uploadID
        let number = parts.count + 1
        // The buffer goes to the request without a copy; once the call returns it is ours again, unshared,
        // so clearing it keeps its memory for the next part.
        let part = try store.call("part \(number) of \(store.location.url(object))", action: action) { attempt in
            try store.beforePart?(number, attempt)
            return try store.client.blocking.uploadPart(bucket: store.location.bucket, key: key, uploadID: uploadID,
                                                        partNumber: number, bytes: buffer)
        }
        parts.append(part)
        buffer.removeAll(keepingCapacity: true)
    }

    /// CompleteMultipartUpload; a retry that finds the upload gone may mean the first try succeeded, which
    /// the size check after it tells.
    private func complete(_ uploadID: String) throws {
        var tries = 0
        do {
            try store.call("complete the upload of \(store.location.url(object))", action: action) { attempt in
                tries = attempt
                try store.client.blocking.completeMultipartUpload(bucket: store.location.bucket, key: key,
                                                                  uploadID: uploadID, parts: parts)
            }
        } catch BackupStoreError.s3(.noSuchUpload, _) where tries > 1 {
            return
        }
    }
}

/// Reads an object with ranged GETs of `partSize` bytes, one range in memory at a time.
final class S3RangedSource: ByteSource {
    private let store: S3BackupStore
    private let object: String
    private let size: Int
    private var chunk: [UInt8] = []
    private var chunkOffset = 0
    private var fetched = 0

    init(store: S3BackupStore, object: String, size: Int) {
        self.store = store
        self.object = object
        self.size = size
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        if chunkOffset == chunk.count {
            guard fetched < size else { return 0 }
            let range = fetched...(min(fetched + store.partSize, size) - 1)
            let url = store.location.url(object)
            chunk = []
            chunk = try store.call("GET \(url) bytes \(range.lowerBound)-\(range.upperBound)", action: "reading \(url) failed") { _ in
                try store.client.blocking.getObject(bucket: store.location.bucket, key: store.location.key(object), range: range)
            }
            guard chunk.count == range.count else {
                throw BackupStoreError.damaged(object: url, reason: "bytes \(range.lowerBound)-\(range.upperBound) came back "
                    + "as \(chunk.count) bytes (the object changed or is shorter than its manifest says)")
            }
            fetched += chunk.count
            chunkOffset = 0
        }
        let count = min(buffer.count, chunk.count - chunkOffset)
        chunk.withUnsafeBytes { all in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[chunkOffset..<chunkOffset + count]))
        }
        chunkOffset += count
        return count
    }
}
