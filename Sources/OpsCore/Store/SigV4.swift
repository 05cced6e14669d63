import Crypto
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An access key pair, and the session token of temporary credentials. Neither secret shows in `description`.
public struct AWSCredentials: Sendable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// `AWS_SESSION_TOKEN` of temporary (STS) credentials; sent, signed, as `x-amz-security-token`.
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String {
        "access key \(accessKeyID) (secret hidden\(sessionToken == nil ? "" : ", session token hidden"))"
    }
}

/// AWS Signature Version 4 for the `Authorization` header.
///
/// Paths and query items go in decoded; the signer percent-encodes them once (S3 rule: no double encoding),
/// and `SigV4.canonicalURI(_:)`/`canonicalQuery(_:)` give the same encoding for the URL that is sent.
public struct SigV4: Sendable {
    /// The payload hash S3 accepts when the body is not hashed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of no bytes.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// What signing produced: the headers to add, and the intermediate texts for tests.
    public struct Signed: Sendable, CustomStringConvertible {
        /// `x-amz-date`, `x-amz-content-sha256` (when asked for), `x-amz-security-token` (with a session
        /// token) and `Authorization`, to add to the request.
        public var headers: [(name: String, value: String)]
        public var canonicalRequest: String
        public var stringToSign: String
        /// Hex HMAC; part of `Authorization`, never put it in a message.
        public var signature: String

        public var description: String { "SigV4 signed request (signature hidden)" }
    }

    /// Signs one request.
    /// - Parameters:
    ///   - method: `GET`, `PUT`, …
    ///   - path: the decoded path, starting with `/`.
    ///   - query: decoded query items, in any order.
    ///   - headers: the headers to sign, `Host` included; names in any case.
    ///   - payloadHash: lowercase hex SHA-256 of the body, or `SigV4.unsignedPayload`.
    ///   - date: the signing time (also sent as `x-amz-date`).
    ///   - contentHashHeader: whether to add and sign `x-amz-content-sha256` (S3 requires it).
    public func sign(method: String, path: String, query: [(name: String, value: String)] = [],
                     headers: [(name: String, value: String)], payloadHash: String, date: Date,
                     contentHashHeader: Bool = true) -> Signed {
        let amzDate = Self.amzDate(date)
        let day = String(amzDate.prefix(8))
        var all = headers
        all.append((name: "x-amz-date", value: amzDate))
        if contentHashHeader { all.append((name: "x-amz-content-sha256", value: payloadHash)) }
        if let token = credentials.sessionToken { all.append((name: "x-amz-security-token", value: token)) }

        // Same-named headers join with commas in the order given; names sort as lowercase bytes.
        var merged: [String: [String]] = [:]
        for header in all {
            merged[header.name.lowercased(), default: []].append(Self.trimmedHeaderValue(header.value))
        }
        let names = merged.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let canonicalHeaders = names.map { "\($0):\(merged[$0, default: []].joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")

        let canonicalRequest = [
            method, Self.canonicalURI(path), Self.canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.sha256Hex(Array(canonicalRequest.utf8))]
            .joined(separator: "\n")

        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = Self.hex(Array(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"

        var out: [(name: String, value: String)] = [(name: "x-amz-date", value: amzDate)]
        if contentHashHeader { out.append((name: "x-amz-content-sha256", value: payloadHash)) }
        if let token = credentials.sessionToken { out.append((name: "x-amz-security-token", value: token)) }
        out.append((name: "Authorization", value: authorization))
        return Signed(headers: out, canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature)
    }

    /// The path with each segment percent-encoded once; the slashes between segments stay.
    public static func canonicalURI(_ path: String) -> String {
        let encoded = uriEncode(path, keepSlash: true)
        return encoded.isEmpty ? "/" : encoded
    }

    /// Query items encoded (RFC 3986) and sorted by name, then value; `name=` for an empty value.
    public static func canonicalQuery(_ items: [(name: String, value: String)]) -> String {
        items.map { (uriEncode($0.name, keepSlash: false), uriEncode($0.value, keepSlash: false)) }
            .sorted { a, b in
                a.0 == b.0 ? Array(a.1.utf8).lexicographicallyPrecedes(Array(b.1.utf8))
                    : Array(a.0.utf8).lexicographicallyPrecedes(Array(b.0.utf8))
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Percent-encodes every byte but `A-Z a-z 0-9 - . _ ~` (and `/` when `keepSlash`), uppercase hex.
    public static func uriEncode(_ text: String, keepSlash: Bool) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lowercase hex SHA-256 of the bytes.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        hex(Array(SHA256.hash(data: bytes)))
    }

    /// `20150830T123600Z` for the date, in UTC.
    public static func amzDate(_ date: Date) -> String {
        var t = time_t(Int(date.timeIntervalSince1970.rounded(.down)))
        var parts = tm()
        gmtime_r(&t, &parts)
        return pad(Int(parts.tm_year) + 1900, 4) + pad(Int(parts.tm_mon) + 1, 2) + pad(Int(parts.tm_mday), 2)
            + "T" + pad(Int(parts.tm_hour), 2) + pad(Int(parts.tm_min), 2) + pad(Int(parts.tm_sec), 2) + "Z"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes { out += [digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]] }
        return String(decoding: out, as: UTF8.self)
    }

    /// Leading and trailing spaces dropped, runs of spaces inside made one (line breaks count as spaces).
    static func trimmedHeaderValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            .joined(separator: " ")
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let digits = String(n)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
