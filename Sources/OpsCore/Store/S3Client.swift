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

/// An S3-compatible object store spoken to with path-style URLs (`http://host:port/bucket/key`), SigV4-signed.
///
/// No `x-amz-checksum-*` headers are ever sent: Backblaze B2 rejects them.
public struct S3Client: Sendable {
    /// Smallest part S3 accepts in a multipart upload, except the last one.
    public static let minimumPartSize = 5 * 1024 * 1024

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

    // MARK: Buckets and objects

    /// Creates a bucket (in the signer's region when that is not us-east-1).
    public func createBucket(_ bucket: String) async throws {
        var body: [UInt8] = []
        if signer.region != "us-east-1" {
            body = Array(("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<LocationConstraint>\(S3XML.escape(signer.region))</LocationConstraint></CreateBucketConfiguration>").utf8)
        }
        _ = try await send("PUT", bucket: bucket, body: body, contentType: body.isEmpty ? nil : "application/xml")
    }

    /// Stores `bytes` under `key`, replacing any object there.
    public func putObject(bucket: String, key: String, bytes: [UInt8]) async throws {
        _ = try await send("PUT", bucket: bucket, key: key, body: bytes, contentType: "application/octet-stream")
    }

    /// The whole object, buffered; `maxBytes` bounds it.
    public func getObject(bucket: String, key: String, maxBytes: Int = 256 * 1024 * 1024) async throws -> [UInt8] {
        try await send("GET", bucket: bucket, key: key, maxResponseBytes: maxBytes).body
    }

    /// The object's size in bytes.
    public func headObject(bucket: String, key: String) async throws -> Int {
        // curl measures the announced Content-Length against the response limit even when no body comes.
        let response = try await send("HEAD", bucket: bucket, key: key, maxResponseBytes: .max)
        guard let length = response.header("Content-Length").flatMap({ Int($0) }) else {
            throw StoreError.invalidResponse("HEAD s3://\(bucket)/\(key) gave no Content-Length")
        }
        return length
    }

    /// Deletes the object; deleting a missing key succeeds, as in S3.
    public func deleteObject(bucket: String, key: String) async throws {
        _ = try await send("DELETE", bucket: bucket, key: key)
    }

    /// Every object whose key starts with `prefix`, following continuation tokens (ListObjectsV2).
    public func listObjects(bucket: String, prefix: String = "") async throws -> [S3Object] {
        var objects: [S3Object] = []
        var token: String?
        repeat {
            var query = [(name: "list-type", value: "2"), (name: "prefix", value: prefix)]
            if let token { query.append((name: "continuation-token", value: token)) }
            let xml = try await send("GET", bucket: bucket, query: query).bodyText[...]
            for block in S3XML.blocks("Contents", in: xml) {
                guard let key = S3XML.value("Key", in: block),
                      let size = S3XML.value("Size", in: block).flatMap({ Int($0) }) else {
                    throw StoreError.invalidResponse("a listing entry of bucket '\(bucket)' lacks Key or Size")
                }
                objects.append(S3Object(key: key, size: size))
            }
            token = S3XML.value("IsTruncated", in: xml) == "true" ? S3XML.value("NextContinuationToken", in: xml) : nil
        } while token != nil
        return objects
    }

    // MARK: Multipart upload

    /// Starts a multipart upload; returns its upload ID.
    public func createMultipartUpload(bucket: String, key: String) async throws -> String {
        let response = try await send("POST", bucket: bucket, key: key, query: [(name: "uploads", value: "")],
                                      contentType: "application/octet-stream")
        guard let id = S3XML.value("UploadId", in: response.bodyText[...]), !id.isEmpty else {
            throw StoreError.invalidResponse("CreateMultipartUpload for s3://\(bucket)/\(key) returned no UploadId")
        }
        return id
    }

    /// Uploads part `partNumber` (1…10000); returns its ETag for `completeMultipartUpload`.
    public func uploadPart(bucket: String, key: String, uploadID: String, partNumber: Int,
                           bytes: [UInt8]) async throws -> S3UploadedPart {
        let response = try await send(
            "PUT", bucket: bucket, key: key,
            query: [(name: "partNumber", value: String(partNumber)), (name: "uploadId", value: uploadID)],
            body: bytes, contentType: "application/octet-stream")
        guard let etag = response.header("ETag"), !etag.isEmpty else {
            throw StoreError.invalidResponse("UploadPart \(partNumber) of s3://\(bucket)/\(key) returned no ETag")
        }
        return S3UploadedPart(partNumber: partNumber, etag: etag)
    }

    /// Joins the parts, in part-number order, into the object.
    public func completeMultipartUpload(bucket: String, key: String, uploadID: String,
                                        parts: [S3UploadedPart]) async throws {
        let list = parts.sorted { $0.partNumber < $1.partNumber }.map {
            "<Part><PartNumber>\($0.partNumber)</PartNumber><ETag>\(S3XML.escape($0.etag))</ETag></Part>"
        }.joined()
        let body = Array(("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            + list + "</CompleteMultipartUpload>").utf8)
        let response = try await send("POST", bucket: bucket, key: key, query: [(name: "uploadId", value: uploadID)],
                                      body: body, contentType: "application/xml")
        // S3 may answer 200 and still report an error in the body once it has started writing the reply.
        if let code = S3XML.value("Code", in: response.bodyText[...]) {
            throw Self.error(status: response.status, code: code, body: response.bodyText,
                             bucket: bucket, key: key, uploadID: uploadID)
        }
    }

    /// Abandons the upload and frees its parts.
    public func abortMultipartUpload(bucket: String, key: String, uploadID: String) async throws {
        _ = try await send("DELETE", bucket: bucket, key: key, query: [(name: "uploadId", value: uploadID)])
    }

    // MARK: Transport

    /// The URL for a bucket (and key), encoded exactly as it is signed.
    func url(bucket: String, key: String?, query: [(name: String, value: String)]) -> (url: String, path: String) {
        var path = "/" + bucket
        if let key { path += "/" + key }
        let canonicalQuery = SigV4.canonicalQuery(query)
        return (endpoint + SigV4.canonicalURI(path) + (canonicalQuery.isEmpty ? "" : "?" + canonicalQuery), path)
    }

    private func send(_ method: String, bucket: String, key: String? = nil,
                      query: [(name: String, value: String)] = [], body: [UInt8] = [],
                      contentType: String? = nil, maxResponseBytes: Int = 8 * 1024 * 1024) async throws -> HTTPResponse {
        let (url, path) = url(bucket: bucket, key: key, query: query)
        var headers = [(name: "Host", value: hostHeader)]
        if let contentType { headers.append((name: "Content-Type", value: contentType)) }
        let signed = signer.sign(method: method, path: path, query: query, headers: headers,
                                 payloadHash: SigV4.sha256Hex(body), date: now())
        let request = HTTPRequest(url: url, method: method, headers: headers + signed.headers,
                                  body: method == "GET" || method == "HEAD" || method == "DELETE" ? nil : .bytes(body),
                                  timeout: .seconds(300), maxResponseBytes: maxResponseBytes)
        let response = try await http.send(request)
        guard (200..<300).contains(response.status) else {
            let text = response.bodyText
            let code = S3XML.value("Code", in: text[...]) ?? ""
            throw Self.error(status: response.status, code: code, body: text, bucket: bucket, key: key,
                             uploadID: query.first { $0.name == "uploadId" }?.value)
        }
        return response
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
