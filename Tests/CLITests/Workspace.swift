import Foundation

/// The files the bad-input cases point at, made once per test process in a temporary folder:
/// tiny corpora (good, empty, non-UTF-8, another vocabulary), config files, two trained
/// checkpoints (an LSTM and a DEQ-Transformer, one step each) and altered copies of them.
struct Workspace: Sendable {
    let root: URL
    let deq: DeqProcess

    /// Built on first use; every case shares it (the suite is serialized).
    static let shared: Result<Workspace, CLITestError> = {
        do { return .success(try Workspace()) } catch let e as CLITestError { return .failure(e) } catch {
            return .failure(CLITestError("\(error)"))
        }
    }()

    /// Flags of a one-step LSTM run on the tiny corpus (a case adds or overrides flags after them).
    static let tinyTraining = ["train", "--data", "data", "--train-split", "valid", "--max-step", "1", "--emsize", "8",
                               "--nhid", "8", "--nlayers", "1", "--batch-size", "2", "--bptt", "4", "--eval-interval", "1",
                               "--log-interval", "1", "--work-dir", "scratch"]

    private init() throws {
        deq = try DeqProcess.locate()
        let temporary = FileManager.default.temporaryDirectory
        Self.removeStale(in: temporary)
        root = temporary.appendingPathComponent("eq-cli-\(UUID().uuidString)")
        try makeCorpora()
        try makeConfigs()
        try train(["--work-dir", "lstm"])
        try train(["--optim", "adam", "--work-dir", "lstm-adam"])
        try train(["--model", "deq-transformer", "--config", "deq-tiny.yaml", "--work-dir", "dt"])
        try makeCheckpoints()
        try makeSafetyCheckpoints()
    }

    /// The process keeps its workspace to the end (the cases share it), so earlier runs' folders
    /// are removed here once they are an hour old.
    private static func removeStale(in temporary: URL) {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: temporary.path)) ?? [] where name.hasPrefix("eq-cli-") {
            let dir = temporary.appendingPathComponent(name)
            let modified = (try? fm.attributesOfItem(atPath: dir.path))?[.modificationDate] as? Date
            if let modified, Date().timeIntervalSince(modified) > 3600 { try? fm.removeItem(at: dir) }
        }
    }

    func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    private func write(_ relative: String, _ text: String) throws { try write(relative, Data(text.utf8)) }

    private func write(_ relative: String, _ data: Data) throws {
        let u = url(relative)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: u)
    }

    /// Sentences over a small vocabulary, the same on every run (a linear congruential walk).
    private func sentences(_ words: [String], lines: Int, seed: Int) -> String {
        var x = seed
        return (0..<lines).map { _ in
            (0..<12).map { _ in x = (x * 1_103_515_245 + 12_345) % 2_147_483_648; return words[(x >> 8) % words.count] }
                .joined(separator: " ")
        }.joined(separator: "\n") + "\n"
    }

    private func makeCorpora() throws {
        let words = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran"]
        try write("data/wikitext-2/valid.txt", sentences(words, lines: 40, seed: 1))
        try write("data/wikitext-2/test.txt", sentences(words, lines: 20, seed: 2))
        try write("empty/wikitext-2/valid.txt", "")
        try write("empty/wikitext-2/test.txt", "")
        try write("binary/wikitext-2/valid.txt", Data([0xFF, 0xFE, 0x00, 0x62, 0x61, 0x64, 0xC3]))
        try write("binary/wikitext-2/test.txt", sentences(words, lines: 20, seed: 2))
        let other = ["other", "words", "here", "entirely"]
        try write("other/wikitext-2/valid.txt", sentences(other, lines: 40, seed: 3))
        try write("other/wikitext-2/test.txt", sentences(other, lines: 20, seed: 4))
        try FileManager.default.createDirectory(at: url("nocorpus"), withIntermediateDirectories: true)
    }

    private func makeConfigs() throws {
        let tiny = "d-model: 8\nn-head: 2\nd-inner: 8\nmem-len: 4\ncutoffs: none\n"
        try write("deq-tiny.yaml", tiny)
        try write("cutoffs-order.yaml", "d-model: 8\nn-head: 2\nd-inner: 8\ncutoffs: 5,3\n")
        try write("cutoffs-repeated.yaml", "d-model: 8\nn-head: 2\nd-inner: 8\ncutoffs: 3,3\n")
        try write("heads.yaml", "d-model: 8\nn-head: 3\nd-inner: 8\ncutoffs: none\n")
        try write("tolerance.yaml", tiny + "tolerance: -1\n")
        try write("solver.yaml", tiny + "solver: newton\n")
        try write("nested.yaml", "optim:\n  name: sgd\n")
        try write("truncated.json", "{\"lr\": ")
        try write("array.json", "{\"lr\": [1, 2]}")
        try write("unknown.yaml", "bogus: 3\n")
        try write("zero.yaml", "batch-size: 0\n")
        try write("latin1.yaml", Data([0x6C, 0x72, 0x3A, 0x20, 0xE9, 0x0A]))
        try write("novalue.yaml", "lr:\n")
    }

    private func train(_ extra: [String]) throws {
        let out = try deq.run(Self.tinyTraining + extra, in: root)
        guard out.status == 0 else { throw CLITestError("setting up the CLI tests: deq \((Self.tinyTraining + extra).joined(separator: " ")) failed:\n\(out.output)") }
    }

    /// Copies of the LSTM checkpoint with one thing broken, and hand-made safetensors files.
    private func makeCheckpoints() throws {
        let good = try Data(contentsOf: url("lstm/last.safetensors"))
        try write("truncated.safetensors", good.prefix(100))
        try write("tiny.safetensors", Data("garbage".utf8))
        try write("huge-header.safetensors", Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) + Data("{}".utf8))
        func entry(_ shape: [Int]) -> [String: Any] {
            ["__metadata__": ["format": "equilibrium-run-1"], "x": ["dtype": "F32", "shape": shape, "data_offsets": [0, 4]] as [String: Any]]
        }
        try write("rank13.safetensors", Self.safetensors(entry(Array(repeating: 1, count: 13)), body: Data(count: 4)))
        try write("overflow.safetensors", Self.safetensors(entry([1 << 62, 4]), body: Data(count: 4)))
        try write("plain.safetensors", Self.safetensors(["x": ["dtype": "F32", "shape": [1], "data_offsets": [0, 4]]], body: Data(count: 4)))

        try alter(good, "architecture.safetensors") { h in
            var meta = h["__metadata__"] as! [String: String]
            meta["architecture"] = meta["architecture"]!.replacingOccurrences(of: "\"nhid\":\"8\"", with: "\"nhid\":\"16\"")
            h["__metadata__"] = meta
        }
        try alter(good, "huge-architecture.safetensors") { h in
            var meta = h["__metadata__"] as! [String: String]
            meta["architecture"] = meta["architecture"]!.replacingOccurrences(of: "\"nhid\":\"8\"", with: "\"nhid\":\"100000000\"")
            h["__metadata__"] = meta
        }
        try alter(good, "missing-tensor.safetensors") { h in h["model.decoder.bias"] = nil }
        try alter(good, "half.safetensors") { h in
            var entry = h["model.decoder.bias"] as! [String: Any]
            entry["dtype"] = "F16"
            h["model.decoder.bias"] = entry
        }
        try alter(good, "config.safetensors") { h in
            var meta = h["__metadata__"] as! [String: String]
            meta["config"] = "{not json"
            h["__metadata__"] = meta
        }
        try alter(good, "resume-position/last.safetensors") { h in
            var meta = h["__metadata__"] as! [String: String]
            meta["data_position"] = "99999999999"
            h["__metadata__"] = meta
        }
        try alter(good, "resume-step/last.safetensors") { h in
            var meta = h["__metadata__"] as! [String: String]
            meta["step"] = "-5"
            h["__metadata__"] = meta
        }
    }

    /// Run directories and checkpoints for the run-safety cases (made from the Adam run, whose
    /// checkpoint holds optimizer slots): a finished run to start over, a flipped data bit,
    /// non-finite weights, a missing optimizer slot, and runs to resume with other data.
    private func makeSafetyCheckpoints() throws {
        let good = try Data(contentsOf: url("lstm-adam/last.safetensors"))
        for dir in ["existing-run", "resume-vocab", "resume-overwrite"] {
            try write("\(dir)/last.safetensors", good)
            try write("\(dir)/log.jsonl", try Data(contentsOf: url("lstm-adam/log.jsonl")))
        }
        let n = good.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        var flipped = good
        flipped[8 + n + (good.count - 8 - n) / 2] ^= 0x10
        try write("flipped.safetensors", flipped)
        // NaN in the decoder bias, with the checksum dropped (else the checksum speaks first).
        let header = try JSONSerialization.jsonObject(with: good.subdata(in: 8..<(8 + n))) as! [String: Any]
        let bias = (header["model.decoder.bias"] as! [String: Any])["data_offsets"] as! [Int]
        var body = good.subdata(in: (8 + n)..<good.count)
        body.replaceSubrange(bias[0]..<(bias[0] + 4), with: [0x00, 0x00, 0xC0, 0x7F])
        try alter(good.prefix(8 + n) + body, "nan-weights.safetensors") { h in
            var meta = h["__metadata__"] as! [String: String]
            meta["eq_data_checksum"] = nil
            h["__metadata__"] = meta
        }
        try write("resume-nan/last.safetensors", try Data(contentsOf: url("nan-weights.safetensors")))
        try alter(good, "resume-optimizer/last.safetensors") { h in
            let slot = h.keys.sorted().first { $0.hasPrefix("optimizer.") }!
            h[slot] = nil
        }
    }

    /// Rewrites a safetensors file's JSON header (the data bytes stay as they are).
    private func alter(_ file: Data, _ relative: String, _ edit: (inout [String: Any]) -> Void) throws {
        let n = file.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        guard var header = try JSONSerialization.jsonObject(with: file.subdata(in: 8..<(8 + n))) as? [String: Any] else {
            throw CLITestError("the trained checkpoint has no JSON header")
        }
        edit(&header)
        try write(relative, Self.safetensors(header, body: file.subdata(in: (8 + n)..<file.count)))
    }

    private static func safetensors(_ header: [String: Any], body: Data) throws -> Data {
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var length = UInt64(json.count).littleEndian
        return withUnsafeBytes(of: &length) { Data($0) } + json + body
    }
}
