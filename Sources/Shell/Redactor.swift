/// Hides secrets in anything we print: values of secret-named variables and passwords inside URLs.
///
/// A name is secret when it is `KEY`, `SECRET` or `TOKEN`, ends in `_KEY`, `_SECRET` or `_TOKEN`, or
/// contains `PASSWORD`/`PASSWD` (case-insensitive). `AWS_ACCESS_KEY_ID` is an identifier, not a secret.
public enum Redactor {
    public static let mask = "***"

    public static func isSecretName(_ name: String) -> Bool {
        let n = name.uppercased().replacing("-", with: "_")
        if ["KEY", "SECRET", "TOKEN", "APIKEY", "API_KEY"].contains(n) { return true }
        if n.hasSuffix("_KEY") || n.hasSuffix("_SECRET") || n.hasSuffix("_TOKEN") { return true }
        return n.contains("PASSWORD") || n.contains("PASSWD")
    }

    /// Redacts an environment-style dictionary's values by name.
    public static func redact(environment: [String: String]) -> [String: String] {
        environment.reduce(into: [:]) { out, pair in
            out[pair.key] = isSecretName(pair.key) ? mask : redact(pair.value)
        }
    }

    /// Redacts free text: `NAME=value`, `NAME: value`, `--name=value`, `"name": "value"` for secret names,
    /// and `scheme://user:password@host`.
    ///
    /// A hand-written scanner, not a Regex: this runs on every log line and error, and compiling Swift
    /// regexes cost more at start-up (measured with callgrind) than the rest of a health check.
    public static func redact(_ text: String) -> String {
        guard !text.isEmpty else { return text }
        var bytes = Array(text.utf8)
        var changed = redactURLCredentials(&bytes)
        changed = redactAssignments(&bytes) || changed
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }

    private static let maskBytes = Array(mask.utf8)

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    private static func isNameStart(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        isNameStart(b) || (b >= 0x30 && b <= 0x39) || b == 0x2D
    }

    /// `scheme://user:password@` — keeps the user, hides the password.
    private static func redactURLCredentials(_ bytes: inout [UInt8]) -> Bool {
        var changed = false
        var i = 0
        while i + 3 <= bytes.count {
            guard bytes[i] == 0x3A, bytes[i + 1] == 0x2F, bytes[i + 2] == 0x2F else { i += 1; continue }  // "://"
            var u = i + 3
            while u < bytes.count, !isSpace(bytes[u]), bytes[u] != 0x2F, bytes[u] != 0x3A, bytes[u] != 0x40 { u += 1 }
            guard u < bytes.count, bytes[u] == 0x3A else { i = u; continue }
            let start = u + 1
            var p = start
            while p < bytes.count, !isSpace(bytes[p]), bytes[p] != 0x2F, bytes[p] != 0x40 { p += 1 }
            if p > start, p < bytes.count, bytes[p] == 0x40 {
                bytes.replaceSubrange(start..<p, with: maskBytes)
                changed = true
                i = start + maskBytes.count + 1
            } else {
                i = p
            }
        }
        return changed
    }

    /// `NAME=value`, `--name=value`, `NAME: value` (a space after the colon, so `https://` is no assignment),
    /// `"name": "value"`. A quoted value is hidden up to its closing quote, a bare one up to a space,
    /// quote, `&`, `,` or `;`. A non-secret name's value is scanned like any text ("failed: TOKEN=x").
    private static func redactAssignments(_ bytes: inout [UInt8]) -> Bool {
        var changed = false
        var i = 0
        while i < bytes.count {
            // A name starts at a word boundary; `-` before it is a boundary too (`--github-token=`).
            guard isNameStart(bytes[i]), i == 0 || bytes[i - 1] == 0x2D || !isNameByte(bytes[i - 1]) else {
                i += 1
                continue
            }
            var j = i
            while j < bytes.count, isNameByte(bytes[j]) { j += 1 }
            let nameEnd = j
            guard let valueStart = separatorEnd(bytes, from: nameEnd) else { i = nameEnd; continue }
            guard valueStart < bytes.count,
                  isSecretName(String(decoding: bytes[i..<nameEnd], as: UTF8.self))
            else { i = valueStart; continue }
            let first = bytes[valueStart]
            var end = valueStart
            if first == 0x22 || first == 0x27 {  // quoted: hide up to the closing quote
                end += 1
                // No closing quote: hide to the end of the line rather than risk printing the secret.
                while end < bytes.count, bytes[end] != first, bytes[end] != 0x0A { end += 1 }
                bytes.replaceSubrange((valueStart + 1)..<end, with: maskBytes)
                i = valueStart + 1 + maskBytes.count + 1
            } else {
                while end < bytes.count, !isSpace(bytes[end]), ![0x22, 0x27, 0x26, 0x2C, 0x3B].contains(bytes[end]) {
                    end += 1
                }
                guard end > valueStart else { i = valueStart; continue }
                bytes.replaceSubrange(valueStart..<end, with: maskBytes)
                i = valueStart + maskBytes.count
            }
            changed = true
        }
        return changed
    }

    /// Where the value starts after `"?\s*=\s*`, `"\s*:\s*` or `:\s+`; nil when no separator follows.
    private static func separatorEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var k = start
        let quoted = k < bytes.count && bytes[k] == 0x22
        if quoted { k += 1 }
        let beforeSpaces = k
        while k < bytes.count, isSpace(bytes[k]) { k += 1 }
        guard k < bytes.count else { return nil }
        if bytes[k] == 0x3D {  // =
            k += 1
        } else if bytes[k] == 0x3A {  // :
            k += 1
            let spaced = k < bytes.count && isSpace(bytes[k])
            guard quoted || (spaced && k - 1 == beforeSpaces) else { return nil }
        } else {
            return nil
        }
        while k < bytes.count, isSpace(bytes[k]) { k += 1 }
        return k
    }
}
