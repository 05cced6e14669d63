/// Why an object store call failed, in one line a person can act on. Never holds a secret or a signature.
public enum StoreError: Error, Sendable, CustomStringConvertible, Equatable {
    /// `SignatureDoesNotMatch`: the secret (or the clock, or a proxy rewriting the request) is wrong.
    case signatureMismatch
    /// `InvalidAccessKeyId`: the store does not know this access key ID.
    case unknownAccessKey(String)
    /// `AccessDenied` or a bare 403: the key may not do this.
    case accessDenied(resource: String)
    /// `NoSuchBucket`.
    case noSuchBucket(String)
    /// `NoSuchKey`, or a 404 to a HEAD.
    case noSuchKey(bucket: String, key: String)
    /// `NoSuchUpload`: the multipart upload was completed, aborted or never existed.
    case noSuchUpload(String)
    /// `RequestTimeTooSkewed`: this machine's clock is too far from the store's.
    case clockSkew
    /// Any other S3 error code, with the store's own message.
    case rejected(status: Int, code: String, message: String)
    /// A reply this client cannot read.
    case invalidResponse(String)

    /// Whether trying again may succeed: the store's own failures (5xx), throttling and request timeouts.
    /// A wrong signature, key, permission, bucket or upload stays wrong however often it is sent.
    public var isTransient: Bool {
        switch self {
        case .rejected(let status, let code, _):
            status >= 500 || ["RequestTimeout", "SlowDown", "InternalError", "ServiceUnavailable"].contains(code)
        case .signatureMismatch, .unknownAccessKey, .accessDenied, .noSuchBucket, .noSuchKey, .noSuchUpload,
             .clockSkew, .invalidResponse:
            false
        }
    }

    public var description: String {
        switch self {
        case .signatureMismatch:
            "S3 rejected the request signature: check AWS_SECRET_ACCESS_KEY (or B2_APP_KEY)"
        case .unknownAccessKey(let id):
            "S3 does not know access key ID '\(id)': check AWS_ACCESS_KEY_ID (or B2_KEY_ID)"
        case .accessDenied(let resource):
            "S3 denied access to \(resource): check the access key's permissions (or the credentials)"
        case .noSuchBucket(let bucket):
            "bucket '\(bucket)' does not exist: create it or check the bucket name and endpoint"
        case .noSuchKey(let bucket, let key):
            "no object s3://\(bucket)/\(key): check the key (and that the bucket exists)"
        case .noSuchUpload(let id):
            "multipart upload '\(id)' no longer exists (completed or aborted): start the upload again"
        case .clockSkew:
            "S3 says this machine's clock is off: synchronise it (NTP) and retry"
        case .rejected(let status, let code, let message):
            "S3 answered \(status) \(code): \(message)"
        case .invalidResponse(let why):
            "unexpected S3 response: \(why)"
        }
    }
}
