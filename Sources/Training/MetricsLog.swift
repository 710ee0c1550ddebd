import Foundation

/// Appends one JSON object per line to a run's `log.jsonl` (`deq plot` reads it back).
///
/// Every entry is kept, a diverging run's included: JSON has no number for NaN or ±∞, so such
/// values are written as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (the spellings
/// Python's `float()` and JavaScript's `Number()` accept); ``read(_:)`` turns them back into
/// numbers, and Python reads them with `json.loads` then `float(value)`.
public final class MetricsLog {
    public let url: URL
    private let handle: FileHandle

    /// Opens `url` for appending. With `truncatingAfter`, lines whose `step` is larger are
    /// dropped first: a resumed run rewrites what the interrupted run logged after its checkpoint.
    public init(url: URL, truncatingAfter step: Int? = nil) throws {
        self.url = url
        let fm = FileManager.default
        do {
            if let step, let data = fm.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) {
                let kept = text.split(separator: "\n").filter { line in
                    guard let entry = Self.parse(String(line)), let s = (entry["step"] as? NSNumber)?.intValue else { return true }
                    return s <= step
                }
                try (kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).write(to: url, atomically: true, encoding: .utf8)
            } else if !fm.fileExists(atPath: url.path) || step == nil {
                guard fm.createFile(atPath: url.path, contents: nil) else { throw FileSystemError.posix(errno) }
            }
            handle = try FileHandle(forWritingTo: url)
        } catch {
            throw FileSystemError.describe(error, writing: url, fix: "check that its directory is writable, or pass another --work-dir")
        }
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    /// Writes `fields` as one line, keys sorted; numbers keep full precision, non-finite ones
    /// become the strings above.
    public func append(_ fields: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: Self.encodable(fields), options: [.sortedKeys]) else { return }
        handle.write(data + Data("\n".utf8))
    }

    /// The non-finite numbers of `fields` as their strings.
    static func encodable(_ fields: [String: Any]) -> [String: Any] {
        fields.mapValues { value in
            guard let d = value as? Double, !d.isFinite else { return value }
            return d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity")
        }
    }

    /// Every entry of a log file, with the strings of non-finite numbers read back as numbers.
    public static func read(_ url: URL) throws -> [[String: Any]] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw FileSystemError.describe(error, reading: url, fix: "pass the run directory deq train wrote it in")
        }
        return text.split(separator: "\n").compactMap { parse(String($0)) }
    }

    static func parse(_ line: String) -> [String: Any]? {
        guard let data = line.data(using: .utf8), let entry = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        return entry.mapValues { value in
            switch value as? String {
            case "NaN": return NSNumber(value: Double.nan)
            case "Infinity": return NSNumber(value: Double.infinity)
            case "-Infinity": return NSNumber(value: -Double.infinity)
            default: return value
            }
        }
    }
}
