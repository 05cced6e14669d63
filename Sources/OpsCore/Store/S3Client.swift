import FoundationEssentials

/// One object in a listing.
public struct S3Object: Sendable, Equatable {
    public var key: String
    public var size: Int

    public init(key: String, size: Int) {
        self.key = key
        self.size = size
    }
}

/// One uploaded part of a multipart upload, as `completeMultipartUpload` needs it.
public struct S3UploadedPart: Sendable, Equatable {
    public var partNumber: Int
    public var etag: String

    public init(partNumber: Int, etag: String) {
        self.partNumber = partNumber
        self.etag = etag
    }
}

/// A multipart upload that was started and neither completed nor aborted.
public struct S3MultipartUpload: Sendable, Equatable {
    public var key: String
    public var uploadID: String

    public init(key: String, uploadID: String) {
        self.key = key
        self.uploadID = uploadID
    }
}

/// An S3-compatible object store spoken to with path-style URLs (`http://host:port/bucket/key`), SigV4-signed.
///
/// Every call exists twice: `async` here, and blocking in `blocking` for code that runs on threads of its own
/// (the backup pipeline). Both send the same requests (`S3Call`) and read the replies the same way.
/// No `x-amz-checksum-*` headers are ever sent: Backblaze B2 rejects them.
public struct S3Client: Sendable {
    /// Smallest part S3 accepts in a multipart upload, except the last one.
    public static let minimumPartSize = 5 * 1024 * 1024
    /// Most parts one multipart upload may have.
    public static let maximumPartCount = 10_000

    public let endpoint: String
    public let signer: SigV4
    private let http: HTTPClient
    private let now: @Sendable () -> Date

    /// - Parameters:
    ///   - endpoint: `http(s)://host[:port]`, no bucket in it.
    ///   - region: the signing region, e.g. `us-east-1`.
    ///   - now: the clock used for signing (tests inject one).
    public init(endpoint: String, region: String, credentials: AWSCredentials, http: HTTPClient = HTTPClient(),
                now: @escaping @Sendable () -> Date = { Date() }) {
        var endpoint = endpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.endpoint = endpoint
        self.signer = SigV4(credentials: credentials, region: region, service: "s3")
        self.http = http
        self.now = now
    }

    /// Whether an error from this client is worth another attempt: 5xx and throttling replies, timeouts and
    /// broken connections. Signature, permission and not-found errors are not.
    public static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case let error as StoreError: error.isTransient
        case let error as HTTPError: error.isTransient
        default: false
        }
    }

    // MARK: Buckets and objects

    /// Creates a bucket (in the signer's region when that is not us-east-1).
    public func createBucket(_ bucket: String) async throws { try await perform(createBucketCall(bucket)) }

    /// Stores `bytes` under `key`, replacing any object there.
    public func putObject(bucket: String, key: String, bytes: [UInt8]) async throws {
        try await perform(putObjectCall(bucket: bucket, key: key, bytes: bytes))
    }

    /// The whole object, buffered; `maxBytes` bounds it.
    public func getObject(bucket: String, key: String, maxBytes: Int = 256 * 1024 * 1024) async throws -> [UInt8] {
        try await perform(getObjectCall(bucket: bucket, key: key, maxBytes: maxBytes))
    }

    /// Bytes `range` of the object (a `Range: bytes=a-b` GET); fewer only where the object ends first.
    public func getObject(bucket: String, key: String, range: ClosedRange<Int>) async throws -> [UInt8] {
        try await perform(getObjectCall(bucket: bucket, key: key, range: range))
    }

    /// The object's size in bytes.
    ///
    /// A HEAD reply has no body, so a 403 cannot say whether the signature, the key or the permission is
    /// wrong; a one-byte GET of the same object then asks, and its error is the one thrown.
    public func headObject(bucket: String, key: String) async throws -> Int {
        do {
            return try await perform(headObjectCall(bucket: bucket, key: key))
        } catch StoreError.accessDenied {
            do {
                _ = try await perform(getObjectCall(bucket: bucket, key: key, range: 0...0))
            } catch let reason as StoreError where Self.explainsForbiddenHead(reason) {
                throw reason
            }
            throw StoreError.accessDenied(resource: "s3://\(bucket)/\(key)")
        }
    }

    /// Whether a GET's error says why a HEAD got a bare 403.
    static func explainsForbiddenHead(_ error: StoreError) -> Bool {
        switch error {
        case .signatureMismatch, .unknownAccessKey, .clockSkew, .accessDenied: true
        default: false
        }
    }

    /// Deletes the object; deleting a missing key succeeds, as in S3.
    public func deleteObject(bucket: String, key: String) async throws {
        try await perform(deleteObjectCall(bucket: bucket, key: key))
    }

    /// Every object whose key starts with `prefix`, following continuation tokens (ListObjectsV2).
    public func listObjects(bucket: String, prefix: String = "") async throws -> [S3Object] {
        var objects: [S3Object] = []
        var token: String?
        repeat {
            let page = try await perform(listObjectsCall(bucket: bucket, prefix: prefix, token: token))
            objects += page.objects
            token = page.next
        } while token != nil
        return objects
    }

    // MARK: Multipart upload

    /// Starts a multipart upload; returns its upload ID.
    public func createMultipartUpload(bucket: String, key: String) async throws -> String {
        try await perform(createMultipartUploadCall(bucket: bucket, key: key))
    }

    /// Uploads part `partNumber` (1…10000); returns its ETag for `completeMultipartUpload`.
    public func uploadPart(bucket: String, key: String, uploadID: String, partNumber: Int,
                           bytes: [UInt8]) async throws -> S3UploadedPart {
        try await perform(uploadPartCall(bucket: bucket, key: key, uploadID: uploadID, partNumber: partNumber, bytes: bytes))
    }

    /// Joins the parts, in part-number order, into the object.
    public func completeMultipartUpload(bucket: String, key: String, uploadID: String,
                                        parts: [S3UploadedPart]) async throws {
        try await perform(completeMultipartUploadCall(bucket: bucket, key: key, uploadID: uploadID, parts: parts))
    }

    /// Abandons the upload and frees its parts.
    public func abortMultipartUpload(bucket: String, key: String, uploadID: String) async throws {
        try await perform(abortMultipartUploadCall(bucket: bucket, key: key, uploadID: uploadID))
    }

    /// The unfinished multipart uploads whose key starts with `prefix`, following the listing's markers.
    public func listMultipartUploads(bucket: String, prefix: String = "") async throws -> [S3MultipartUpload] {
        var uploads: [S3MultipartUpload] = []
        var marker: (key: String, uploadID: String)?
        repeat {
            let page = try await perform(listMultipartUploadsCall(bucket: bucket, prefix: prefix, marker: marker))
            uploads += page.uploads
            marker = page.next
        } while marker != nil
        return uploads
    }

    // MARK: Blocking

    /// The same calls, blocking the calling thread (`HTTPClient.sendBlocking`): for threads of one's own,
    /// never for a Swift concurrency task.
    public var blocking: Blocking { Blocking(client: self) }

    public struct Blocking: Sendable {
        let client: S3Client

        public func createBucket(_ bucket: String) throws { try client.performBlocking(client.createBucketCall(bucket)) }

        public func putObject(bucket: String, key: String, bytes: [UInt8]) throws {
            try client.performBlocking(client.putObjectCall(bucket: bucket, key: key, bytes: bytes))
        }

        public func getObject(bucket: String, key: String, maxBytes: Int = 256 * 1024 * 1024) throws -> [UInt8] {
            try client.performBlocking(client.getObjectCall(bucket: bucket, key: key, maxBytes: maxBytes))
        }

        public func getObject(bucket: String, key: String, range: ClosedRange<Int>) throws -> [UInt8] {
            try client.performBlocking(client.getObjectCall(bucket: bucket, key: key, range: range))
        }

        public func headObject(bucket: String, key: String) throws -> Int {
            do {
                return try client.performBlocking(client.headObjectCall(bucket: bucket, key: key))
            } catch StoreError.accessDenied {
                do {
                    _ = try client.performBlocking(client.getObjectCall(bucket: bucket, key: key, range: 0...0))
                } catch let reason as StoreError where S3Client.explainsForbiddenHead(reason) {
                    throw reason
                }
                throw StoreError.accessDenied(resource: "s3://\(bucket)/\(key)")
            }
        }

        public func deleteObject(bucket: String, key: String) throws {
            try client.performBlocking(client.deleteObjectCall(bucket: bucket, key: key))
        }

        public func listObjects(bucket: String, prefix: String = "") throws -> [S3Object] {
            var objects: [S3Object] = []
            var token: String?
            repeat {
                let page = try client.performBlocking(client.listObjectsCall(bucket: bucket, prefix: prefix, token: token))
                objects += page.objects
                token = page.next
            } while token != nil
            return objects
        }

        public func createMultipartUpload(bucket: String, key: String) throws -> String {
            try client.performBlocking(client.createMultipartUploadCall(bucket: bucket, key: key))
        }

        public func uploadPart(bucket: String, key: String, uploadID: String, partNumber: Int,
                               bytes: [UInt8]) throws -> S3UploadedPart {
            try client.performBlocking(client.uploadPartCall(bucket: bucket, key: key, uploadID: uploadID,
                                                             partNumber: partNumber, bytes: bytes))
        }

        public func completeMultipartUpload(bucket: String, key: String, uploadID: String, parts: [S3UploadedPart]) throws {
            try client.performBlocking(client.completeMultipartUploadCall(bucket: bucket, key: key, uploadID: uploadID,
                                                                          parts: parts))
        }

        public func abortMultipartUpload(bucket: String, key: String, uploadID: String) throws {
            try client.performBlocking(client.abortMultipartUploadCall(bucket: bucket, key: key, uploadID: uploadID))
        }

        public func listMultipartUploads(bucket: String, prefix: String = "") throws -> [S3MultipartUpload] {
            var uploads: [S3MultipartUpload] = []
            var marker: (key: String, uploadID: String)?
            repeat {
                let page = try client.performBlocking(client.listMultipartUploadsCall(bucket: bucket, prefix: prefix,
                                                                                      marker: marker))
                uploads += page.uploads
                marker = page.next
            } while marker != nil
            return uploads
        }
    }

    // MARK: The calls

    func createBucketCall(_ bucket: String) -> S3Call<Void> {
        var body: [UInt8] = []
        if signer.region != "us-east-1" {
            body = Array(("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<LocationConstraint>\(S3XML.escape(signer.region))</LocationConstraint></CreateBucketConfiguration>").utf8)
        }
        return S3Call(method: "PUT", bucket: bucket, body: body, contentType: body.isEmpty ? nil : "application/xml") { _ in }
    }

    func putObjectCall(bucket: String, key: String, bytes: [UInt8]) -> S3Call<Void> {
        S3Call(method: "PUT", bucket: bucket, key: key, body: bytes, contentType: "application/octet-stream") { _ in }
    }

    func getObjectCall(bucket: String, key: String, maxBytes: Int) -> S3Call<[UInt8]> {
        S3Call(method: "GET", bucket: bucket, key: key, maxResponseBytes: maxBytes) { $0.body }
    }

    func getObjectCall(bucket: String, key: String, range: ClosedRange<Int>) -> S3Call<[UInt8]> {
        S3Call(method: "GET", bucket: bucket, key: key,
               headers: [(name: "Range", value: "bytes=\(range.lowerBound)-\(range.upperBound)")],
               // Room for an error reply's XML too, which can be longer than a small range.
               maxResponseBytes: max(range.count, 64 * 1024)) { response in
            // 206 is the answer to a range; a 200 carries the whole object, which is only right if it is the range.
            guard response.body.count <= range.count,
                  response.status == 206 || range.lowerBound == 0 else {
                throw StoreError.invalidResponse("GET s3://\(bucket)/\(key) ignored the byte range \(range)")
            }
            return response.body
        }
    }

    func headObjectCall(bucket: String, key: String) -> S3Call<Int> {
        S3Call(method: "HEAD", bucket: bucket, key: key) { response in
            guard let length = response.header("Content-Length").flatMap({ Int($0) }) else {
                throw StoreError.invalidResponse("HEAD s3://\(bucket)/\(key) gave no Content-Length")
            }
            return length
        }
    }

    func deleteObjectCall(bucket: String, key: String) -> S3Call<Void> {
        S3Call(method: "DELETE", bucket: bucket, key: key) { _ in }
    }

    func listObjectsCall(bucket: String, prefix: String, token: String?) -> S3Call<(objects: [S3Object], next: String?)> {
        var query = [(name: "list-type", value: "2"), (name: "prefix", value: prefix)]
        if let token { query.append((name: "continuation-token", value: token)) }
        return S3Call(method: "GET", bucket: bucket, query: query) { response in
            let xml = response.bodyText[...]
            var objects: [S3Object] = []
            for block in S3XML.blocks("Contents", in: xml) {
                guard let key = S3XML.value("Key", in: block),
                      let size = S3XML.value("Size", in: block).flatMap({ Int($0) }) else {
                    throw StoreError.invalidResponse("a listing entry of bucket '\(bucket)' lacks Key or Size")
                }
                objects.append(S3Object(key: key, size: size))
            }
            let next = S3XML.value("IsTruncated", in: xml) == "true" ? S3XML.value("NextContinuationToken", in: xml) : nil
            return (objects, next)
        }
    }

    func createMultipartUploadCall(bucket: String, key: String) -> S3Call<String> {
        S3Call(method: "POST", bucket: bucket, key: key, query: [(name: "uploads", value: "")],
               contentType: "application/octet-stream") { response in
            guard let id = S3XML.value("UploadId", in: response.bodyText[...]), !id.isEmpty else {
                throw StoreError.invalidResponse("CreateMultipartUpload for s3://\(bucket)/\(key) returned no UploadId")
            }
            return id
        }
    }

    func uploadPartCall(bucket: String, key: String, uploadID: String, partNumber: Int,
                        bytes: [UInt8]) -> S3Call<S3UploadedPart> {
        S3Call(method: "PUT", bucket: bucket, key: key,
               query: [(name: "partNumber", value: String(partNumber)), (name: "uploadId", value: uploadID)],
               body: bytes, contentType: "application/octet-stream") { response in
            guard let etag = response.header("ETag"), !etag.isEmpty else {
                throw StoreError.invalidResponse("UploadPart \(partNumber) of s3://\(bucket)/\(key) returned no ETag")
            }
            return S3UploadedPart(partNumber: partNumber, etag: etag)
        }
    }

    func completeMultipartUploadCall(bucket: String, key: String, uploadID: String,
                                     parts: [S3UploadedPart]) -> S3Call<Void> {
        let list = parts.sorted { $0.partNumber < $1.partNumber }.map {
            "<Part><PartNumber>\($0.partNumber)</PartNumber><ETag>\(S3XML.escape($0.etag))</ETag></Part>"
        }.joined()
        let body = Array(("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            + list + "</CompleteMultipartUpload>").utf8)
        return S3Call(method: "POST", bucket: bucket, key: key, query: [(name: "uploadId", value: uploadID)],
                      body: body, contentType: "application/xml") { response in
            // S3 may answer 200 and still report an error in the body once it has started writing the reply.
            if let code = S3XML.value("Code", in: response.bodyText[...]) {
                throw Self.error(status: response.status, code: code, body: response.bodyText,
                                 bucket: bucket, key: key, uploadID: uploadID)
            }
        }
    }

    func abortMultipartUploadCall(bucket: String, key: String, uploadID: String) -> S3Call<Void> {
        S3Call(method: "DELETE", bucket: bucket, key: key, query: [(name: "uploadId", value: uploadID)]) { _ in }
    }

    func listMultipartUploadsCall(
        bucket: String, prefix: String, marker: (key: String, uploadID: String)?
    ) -> S3Call<(uploads: [S3MultipartUpload], next: (key: String, uploadID: String)?)> {
        var query = [(name: "uploads", value: ""), (name: "prefix", value: prefix)]
        if let marker {
            query += [(name: "key-marker", value: marker.key), (name: "upload-id-marker", value: marker.uploadID)]
        }
        return S3Call(method: "GET", bucket: bucket, query: query) { response in
            let xml = response.bodyText[...]
            var uploads: [S3MultipartUpload] = []
            for block in S3XML.blocks("Upload", in: xml) {
                guard let key = S3XML.value("Key", in: block), let id = S3XML.value("UploadId", in: block) else {
                    throw StoreError.invalidResponse("a multipart upload listing of bucket '\(bucket)' lacks Key or UploadId")
                }
                uploads.append(S3MultipartUpload(key: key, uploadID: id))
            }
            guard S3XML.value("IsTruncated", in: xml) == "true",
                  let key = S3XML.value("NextKeyMarker", in: xml), !key.isEmpty else { return (uploads, nil) }
            return (uploads, (key, S3XML.value("NextUploadIdMarker", in: xml) ?? ""))
        }
    }

    // MARK: Transport

    /// The URL for a bucket (and key), encoded exactly as it is signed.
    func url(bucket: String, key: String?, query: [(name: String, value: String)]) -> (url: String, path: String) {
        var path = "/" + bucket
        if let key { path += "/" + key }
        let canonicalQuery = SigV4.canonicalQuery(query)
        return (endpoint + SigV4.canonicalURI(path) + (canonicalQuery.isEmpty ? "" : "?" + canonicalQuery), path)
    }

    @discardableResult
    func perform<T>(_ call: S3Call<T>) async throws -> T {
        try reply(to: call, try await http.send(request(for: call)))
    }

    @discardableResult
    func performBlocking<T>(_ call: S3Call<T>) throws -> T {
        try reply(to: call, try http.sendBlocking(request(for: call)))
    }

    /// The signed request for `call`.
    func request<T>(for call: S3Call<T>) -> HTTPRequest {
        let (url, path) = url(bucket: call.bucket, key: call.key, query: call.query)
        var headers = [(name: "Host", value: hostHeader)] + call.headers
        if let contentType = call.contentType { headers.append((name: "Content-Type", value: contentType)) }
        let signed = signer.sign(method: call.method, path: path, query: call.query, headers: headers,
                                 payloadHash: SigV4.sha256Hex(call.body), date: now())
        let hasBody = !(call.method == "GET" || call.method == "HEAD" || call.method == "DELETE")
        return HTTPRequest(url: url, method: call.method, headers: headers + signed.headers,
                           body: hasBody ? .bytes(call.body) : nil,
                           timeout: .seconds(300), maxResponseBytes: call.maxResponseBytes)
    }

    /// The call's result, or the S3 error the reply carries.
    func reply<T>(to call: S3Call<T>, _ response: HTTPResponse) throws -> T {
        guard (200..<300).contains(response.status) else {
            let text = response.bodyText
            let code = S3XML.value("Code", in: text[...]) ?? ""
            throw Self.error(status: response.status, code: code, body: text, bucket: call.bucket, key: call.key,
                             uploadID: call.query.first { $0.name == "uploadId" }?.value)
        }
        return try call.parse(response)
    }

    /// `host[:port]` of the endpoint, as the `Host` header carries it.
    private var hostHeader: String {
        var rest = endpoint[...]
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        return String(rest)
    }

    static func error(status: Int, code: String, body: String, bucket: String, key: String?,
                      uploadID: String?) -> StoreError {
        let resource = key.map { "s3://\(bucket)/\($0)" } ?? "bucket '\(bucket)'"
        switch code {
        case "SignatureDoesNotMatch": return .signatureMismatch
        case "InvalidAccessKeyId":
            return .unknownAccessKey(S3XML.value("AWSAccessKeyId", in: body[...]) ?? "?")
        case "AccessDenied": return .accessDenied(resource: resource)
        case "NoSuchBucket": return .noSuchBucket(bucket)
        case "NoSuchKey": return .noSuchKey(bucket: bucket, key: key ?? "")
        case "NoSuchUpload": return .noSuchUpload(uploadID ?? "?")
        case "RequestTimeTooSkewed": return .clockSkew
        case "":
            // HEAD replies carry no body: only the status says what went wrong.
            switch status {
            case 403: return .accessDenied(resource: resource)
            case 404: return key.map { .noSuchKey(bucket: bucket, key: $0) } ?? .noSuchBucket(bucket)
            default: return .rejected(status: status, code: "(no error code)", message: "no error details in the reply")
            }
        default:
            // Only Code and Message: AWS also echoes the string to sign and the signature, which stay out.
            let message = S3XML.value("Message", in: body[...]) ?? "no message"
            return .rejected(status: status, code: code, message: message)
        }
    }
}

/// One S3 request and how to read a successful reply; the async and the blocking API both send it.
struct S3Call<T> {
    var method: String
    var bucket: String
    var key: String?
    var query: [(name: String, value: String)] = []
    /// Extra headers to send and sign (`Range`).
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    var contentType: String?
    var maxResponseBytes = 8 * 1024 * 1024
    var parse: (HTTPResponse) throws -> T
}
