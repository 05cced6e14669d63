#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// This process's environment as a dictionary, read straight from `environ`.
///
/// FoundationEssentials' `ProcessInfo.processInfo.environment` gives the same, but its first use sets up all
/// of ProcessInfo (~0.2 ms), which a tool run every minute (monitor) need not pay.
public enum ProcessEnvironment {
    /// Every `NAME=value` entry; the first wins when a name repeats (as getenv does).
    public static func current() -> [String: String] {
        var values: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                let name = String(text[..<equals])
                if values[name] == nil { values[name] = String(text[text.index(after: equals)...]) }
            }
            p += 1
        }
        return values
    }
}
