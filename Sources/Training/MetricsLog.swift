import Foundation

/// Appends one JSON object per line to a run's `log.jsonl` (`deq plot` reads it back).
public final class MetricsLog {
    public let url: URL
    private let handle: FileHandle

    /// Opens `url` for appending. With `truncatingAfter`, lines whose `step` is larger are
    /// dropped first: a resumed run rewrites what the interrupted run logged after its checkpoint.
    public init(url: URL, truncatingAfter step: Int? = nil) throws {
        self.url = url
        let fm = FileManager.default
        if let step, let data = fm.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) {
            let kept = text.split(separator: "\n").filter { line in
                guard let entry = Self.parse(String(line)), let s = (entry["step"] as? NSNumber)?.intValue else { return true }
                return s <= step
            }
            try (kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).write(to: url, atomically: true, encoding: .utf8)
        } else if !fm.fileExists(atPath: url.path) || step == nil {
            fm.createFile(atPath: url.path, contents: nil)
        }
        handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    /// Writes `fields` as one line, keys sorted; numbers keep full precision.
    public func append(_ fields: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        handle.write(data + Data("\n".utf8))
    }

    /// Every entry of a log file.
    public static func read(_ url: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").compactMap { parse(String($0)) }
    }

    static func parse(_ line: String) -> [String: Any]? {
        guard let data = line.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
