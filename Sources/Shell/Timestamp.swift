#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// ISO 8601 UTC timestamps (`2026-05-01T12:00:00.123Z`) without Foundation's formatters.
enum Timestamp {
    /// The current wall-clock time with milliseconds.
    static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return iso8601(seconds: Int(ts.tv_sec), milliseconds: Int(ts.tv_nsec) / 1_000_000)
    }

    /// Formats seconds since 1970 in UTC; `milliseconds` nil leaves out the fraction.
    static func iso8601(seconds: Int, milliseconds: Int? = nil) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        var out = pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
        out += "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2)
        if let milliseconds { out += "." + pad(milliseconds, 3) }
        return out + "Z"
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let digits = String(n)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
