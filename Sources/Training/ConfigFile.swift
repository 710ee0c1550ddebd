import Foundation

/// Reads flat key/value configs from JSON (via Foundation) or a YAML subset: one `key: value` per
/// line, `#` comments, optional quotes. Only flat mappings are needed (every key is a scalar), so
/// a small reader avoids a package dependency; nested YAML is rejected with a clear message.
public enum ConfigFile {
    public static func read(_ path: String) throws(ConfigurationError) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read the config file \(path); check the path given to --config")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError("the config file \(path) is not UTF-8 text")
        }
        let lower = path.lowercased()
        if lower.hasSuffix(".json") || text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
            return try parseJSON(data, source: path)
        }
        return try parseYAML(text, source: path)
    }

    /// A JSON scalar as the string a flag would carry (JSONDecoder keeps booleans apart from numbers).
    private enum Scalar: Decodable {
        case text(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .text(b ? "true" : "false") }
            else if let i = try? c.decode(Int.self) { self = .text("\(i)") }
            else if let d = try? c.decode(Double.self) { self = .text("\(d)") }
            else { self = .text(try c.decode(String.self)) }
        }
    }

    public static func parseJSON(_ data: Data, source: String) throws(ConfigurationError) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: data), let dict = object as? [String: Any] else {
            throw ConfigurationError("\(source) is not a JSON object of keys and values; write it as {\"lr\": 20, \"bptt\": 35}")
        }
        guard let decoded = try? JSONDecoder().decode([String: Scalar].self, from: data) else {
            let bad = dict.first { !($0.value is String || $0.value is NSNumber) }?.key ?? "?"
            throw ConfigurationError("the value of \"\(bad)\" in \(source) must be a number, string or boolean")
        }
        return decoded.mapValues { if case .text(let s) = $0 { return s } else { return "" } }
    }

    public static func parseYAML(_ text: String, source: String) throws(ConfigurationError) -> [String: String] {
        var out: [String: String] = [:]
        // Any newline ends a line: "\r\n" (a file saved on Windows) is one Character, not "\n".
        for (n, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = String(rawLine)
            if let hash = line.range(of: " #") ?? (line.hasPrefix("#") ? line.range(of: "#") : nil) {
                line = String(line[..<hash.lowerBound])
            }
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("---") { continue }
            guard !line.hasPrefix(" ") && !line.hasPrefix("\t") && !line.hasPrefix("-") else {
                throw ConfigurationError("\(source) line \(n + 1): only flat \"key: value\" lines are supported, not nested YAML")
            }
            guard let colon = line.firstIndex(of: ":") else {
                throw ConfigurationError("\(source) line \(n + 1): expected \"key: value\", got \"\(line)\"")
            }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let f = value.first, f == "\"" || f == "'", value.last == f {
                value = String(value.dropFirst().dropLast())
            }
            guard !value.isEmpty else {
                throw ConfigurationError("\(source) line \(n + 1): \"\(key)\" has no value; only flat \"key: value\" lines are supported")
            }
            out[key] = value
        }
        return out
    }
}
