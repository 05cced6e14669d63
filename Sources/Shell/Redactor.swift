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
    public static func redact(_ text: String) -> String {
        guard !text.isEmpty else { return text }
        var out = text.replacing(urlCredentials) { match in
            "\(match.output.1)\(mask)@"
        }
        out = out.replacing(assignment) { match in
            // Not a secret name, but the value may hold one ("failed: TOKEN=x" matches as name "failed"
            // with value "TOKEN=x"), and matches never overlap: look inside the value too.
            guard isSecretName(String(match.output.name)) else {
                return "\(match.output.prefix)\(redact(String(match.output.value)))"
            }
            let value = match.output.value
            let quote = value.first == "\"" || value.first == "'" ? String(value.prefix(1)) : ""
            return "\(match.output.prefix)\(quote)\(mask)\(quote)"
        }
        return out
    }

    // scheme://user:password@  — keep the user, hide the password.
    nonisolated(unsafe) private static let urlCredentials = #/([A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]*:)[^\s/@]+@/#

    // NAME=value, --name=value, NAME: value (a space after the colon, so `https://` is no assignment),
    // "name": "value"; a quoted value is hidden up to its closing quote, a bare one up to space, quote, & , ;
    nonisolated(unsafe) private static let assignment =
        #/(?<prefix>(?:--)?"?(?<name>[A-Za-z_][A-Za-z0-9_\-]*)(?:"?\s*=\s*|"\s*:\s*|:\s+))(?<value>"[^"]*"|'[^']*'|[^\s"&,;']+)/#
}
