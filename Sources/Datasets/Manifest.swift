import Foundation

/// The token counts recorded in `Data/manifest.json`, used to check that a corpus on disk is the
/// canonical one (a truncated or re-tokenised file gives another count).
public struct Manifest: Sendable {
    /// dataset → file → expected token count (files whose count is not recorded are absent).
    public var tokens: [String: [String: Int]]

    public init(tokens: [String: [String: Int]]) { self.tokens = tokens }

    /// Reads the manifest JSON (`{"datasets": {name: {"files": {file: {"tokens": n}}}}}`).
    public static func load(_ url: URL) throws(DatasetError) -> Manifest {
        guard let data = FileManager.default.contents(atPath: url.path),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let datasets = root["datasets"] as? [String: Any] else {
            throw DatasetError("cannot read the data manifest at \(url.path); it should be the project's Data/manifest.json")
        }
        var tokens: [String: [String: Int]] = [:]
        for (name, entry) in datasets {
            guard let files = (entry as? [String: Any])?["files"] as? [String: Any] else { continue }
            for (file, info) in files {
                if let n = (info as? [String: Any])?["tokens"] as? Int { tokens[name, default: [:]][file] = n }
            }
        }
        return Manifest(tokens: tokens)
    }

    /// The manifest shipped with the sources (found from this file's path), or in `Data/` under
    /// the working directory.
    public static func locate(sourceFile: String = #filePath) -> URL? {
        let fm = FileManager.default
        let cwd = URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent("Data/manifest.json")
        if fm.fileExists(atPath: cwd.path) { return cwd }
        let root = URL(fileURLWithPath: sourceFile).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let src = root.appendingPathComponent("Data/manifest.json")
        return fm.fileExists(atPath: src.path) ? src : nil
    }

    /// One line per split whose token count differs from the manifest (empty when all match or
    /// the manifest records no count). Byte corpora are checked on their total length.
    public func mismatches(in corpus: Corpus, kind: CorpusKind) -> [String] {
        guard let expected = tokens[kind == .ptbChar ? "ptb" : kind.rawValue] else { return [] }
        var out: [String] = []
        if kind == .enwik8 || kind == .text8 {
            let total = corpus.splits.values.reduce(0) { $0 + $1.count }
            if let n = expected[kind.rawValue], n != total {
                out.append("\(kind.rawValue) has \(total) bytes but the manifest records \(n)")
            }
            return out
        }
        for (split, ids) in corpus.splits.sorted(by: { $0.key < $1.key }) {
            guard let file = kind.manifestFile(split: split), let n = expected[file] else { continue }
            if ids.count != n {
                out.append("\(kind.folder)/\(file) has \(ids.count) tokens but the manifest records \(n); re-download it with Data/fetch.sh \(kind.rawValue) DIR")
            }
        }
        return out
    }
}
