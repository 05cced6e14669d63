import OpsCore

/// `s3://bucket/prefix`: where in an object store the backups live.
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
    public var bucket: String
    /// Without leading or trailing `/`; empty for the bucket's top level.
    public var prefix: String

    public init(bucket: String, prefix: String = "") {
        self.bucket = bucket
        self.prefix = Self.trimmed(prefix)
    }

    /// Parses `s3://bucket` or `s3://bucket/some/prefix` (a trailing `/` is ignored).
    public init(parsing text: String) throws {
        func bad(_ reason: String) -> BackupStoreError { .invalidLocation(text, reason: reason) }
        guard text.hasPrefix("s3://") else { throw bad("it does not start with s3://") }
        let rest = text.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = Self.trimmed(String(rest.dropFirst(bucket.count)))
        guard !bucket.isEmpty else { throw bad("the bucket name is missing") }
        guard (3...63).contains(bucket.count),
              bucket.utf8.allSatisfy({ (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
                  || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") }) else {
            throw bad("'\(bucket)' is not a bucket name (3 to 63 letters, digits, '-', '.' or '_')")
        }
        guard prefix.isEmpty || !prefix.split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
            throw bad("the prefix has an empty path segment ('//')")
        }
        self.init(bucket: bucket, prefix: prefix)
    }

    public var description: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }

    /// The key of `name` under the prefix.
    public func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "/" + name }

    /// `s3://bucket/prefix/name`, for messages.
    func url(_ name: String) -> String { "s3://\(bucket)/\(key(name))" }

    private static func trimmed(_ text: String) -> String {
        var text = Substring(text)
        while text.hasPrefix("/") { text = text.dropFirst() }
        while text.hasSuffix("/") { text = text.dropLast() }
        return String(text)
    }
}

/// Object store credentials from the environment, never echoing a value.
public enum StoreCredentials {
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (with `AWS_SESSION_TOKEN` for temporary credentials);
    /// when neither is set, the backup scripts' `B2_KEY_ID` and `B2_APP_KEY`, with `B2_BUCKET` as the bucket.
    /// Missing or half-set variables throw a one-line error naming the variables to set.
    public static func fromEnvironment(_ env: [String: String]) throws -> (credentials: AWSCredentials, bucket: String?) {
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        func pair(_ id: String, _ secret: String) throws -> (String, String)? {
            switch (value(id), value(secret)) {
            case let (id?, secret?): return (id, secret)
            case (nil, nil): return nil
            case (_?, nil): throw BackupStoreError.missingCredentials("\(id) is set but \(secret) is not: set both")
            case (nil, _?): throw BackupStoreError.missingCredentials("\(secret) is set but \(id) is not: set both")
            }
        }
        if let (id, secret) = try pair("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") {
            return (AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN")), nil)
        }
        if let (id, key) = try pair("B2_KEY_ID", "B2_APP_KEY") {
            return (AWSCredentials(accessKeyID: id, secretAccessKey: key), value("B2_BUCKET"))
        }
        throw BackupStoreError.missingCredentials(
            "no object store credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or B2_KEY_ID, B2_APP_KEY and B2_BUCKET)")
    }
}
