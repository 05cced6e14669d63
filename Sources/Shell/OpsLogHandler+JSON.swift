import Logging

extension OpsLogHandler {
    /// One JSON object per line: `timestamp`, `level`, `tool`, `message`, `fields`, in that order.
    ///
    /// Written by hand rather than with JSONEncoder so the key order is fixed and readable, and nested
    /// metadata (arrays, dictionaries) keeps its shape.
    func jsonLine(level: Logger.Level, message: String, fields: Logger.Metadata, timestamp: String) -> String {
        var out = "{\"timestamp\":" + Self.jsonString(timestamp)
        out += ",\"level\":" + Self.jsonString(level.rawValue)
        out += ",\"tool\":" + Self.jsonString(tool)
        out += ",\"message\":" + Self.jsonString(message)
        out += ",\"fields\":" + Self.jsonObject(fields)
        return out + "}\n"
    }

    static func jsonObject(_ metadata: Logger.Metadata) -> String {
        let members = metadata.keys.sorted().compactMap { key in
            metadata[key].map { jsonString(key) + ":" + jsonValue($0) }
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    static func jsonValue(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let s): jsonString(s)
        case .stringConvertible(let c): jsonString(c.description)
        case .array(let items): "[" + items.map(jsonValue).joined(separator: ",") + "]"
        case .dictionary(let dict): jsonObject(dict)
        @unknown default: jsonString(value.description)
        }
    }

    /// A JSON string literal; control characters are escaped so a value can never break the line.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}", "\u{2029}": out += "\\u" + hex4(scalar.value)  // line separators some readers split on
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u" + hex4(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
