#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under /tmp for one test, removed by `remove()`.
public struct TempDirectory: Sendable {
    public let path: String

    public init(prefix: String = "opskit-test") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buf in mkdtemp(buf.baseAddress!) }
        guard made != nil else { throw TestSupportError("mkdtemp failed: errno \(errno)") }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func remove() {
        _ = system("rm -rf '\(path)'")
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    /// Writes this string to a file (tests only; production code uses Shell's AtomicFile).
    public func write(toFile path: String) throws {
        guard let f = fopen(path, "w") else { throw TestSupportError("cannot open \(path)") }
        defer { fclose(f) }
        guard fputs(self, f) >= 0 else { throw TestSupportError("cannot write \(path)") }
    }
}
