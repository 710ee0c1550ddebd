import Foundation
import Testing
import Datasets
import NN
import Tensors
@testable import Training

/// Nothing a run trained is lost or silently corrupted: the log keeps non-finite values, a run
/// directory belongs to one run, checkpoints are checked on load, sizes before allocating, and a
/// resume with changed flags refuses what cannot change and applies what can.
@Suite(.serialized) struct RunSafetyTests {
    func quiet(_ c: TrainingConfiguration, corpus: Corpus = syntheticCorpus(), say: @escaping (String) -> Void = { _ in }) -> Trainer {
        let t = Trainer(configuration: c, corpus: corpus, say: say)
        t.showsProgress = false
        return t
    }

    @Test func logKeepsNonFiniteValuesAsStrings() throws {
        let dir = temporaryRunDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("log.jsonl")
        let log = try MetricsLog(url: url)
        log.append(["step": 1, "loss": Double.nan])
        log.append(["step": 2, "loss": Double.infinity, "ppl": -Double.infinity])
        log.append(["step": 3, "loss": 2e8])
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 3)
        #expect(text.contains("\"loss\":\"NaN\"") && text.contains("\"Infinity\"") && text.contains("\"-Infinity\""))
        let back = try MetricsLog.read(url)
        #expect((back[0]["loss"] as? NSNumber)?.doubleValue.isNaN == true)
        #expect((back[1]["loss"] as? NSNumber)?.doubleValue == .infinity)
        #expect((back[1]["ppl"] as? NSNumber)?.doubleValue == -.infinity)
        #expect((back[2]["loss"] as? NSNumber)?.doubleValue == 2e8)
    }

    /// A diverging evaluation stops the run before `best` or `last` gets its weights; the log
    /// keeps the non-finite entry.
    @Test func nonFiniteEvaluationStopsBeforeAnyCheckpoint() throws {
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = try tinyConfiguration(dir, steps: 4, optim: "sgd")
        try c.apply(["eval-interval": "2", "varlen": "false"], source: "test")
        _ = try quiet(c).run()
        let bestBefore = try Data(contentsOf: dir.appendingPathComponent("best.safetensors"))
        try c.apply(["lr": "1e39", "clip": "0", "max-step": "40", "eval-interval": "1"], source: "test")
        do { _ = try quiet(c).run(resume: true); Issue.record("expected the run to diverge") } catch let e as TrainingError {
            #expect(e.message.contains("diverged") && e.message.contains("at step"))
            #expect(e.message.contains("(step 4"))
        }
        #expect(try Data(contentsOf: dir.appendingPathComponent("best.safetensors")) == bestBefore)
        for name in ["best", "last"] {
            try RunCheckpoint.read(dir.appendingPathComponent("\(name).safetensors")).checkFinite(includingState: true)
        }
        let entries = try MetricsLog.read(dir.appendingPathComponent("log.jsonl"))
        #expect(entries.contains { ($0["loss"] as? NSNumber)?.doubleValue.isFinite == false })
    }

    @Test func runDirectoryBelongsToOneRun() throws {
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try RunDirectory.claim(dir, resume: false, overwrite: false, say: { _ in })
        do { _ = try RunDirectory.claim(dir, resume: true, overwrite: false, say: { _ in }); Issue.record("expected a refusal") } catch {
            #expect("\(error)".contains("in use") && "\(error)".contains("\(getpid())"))
        }
        first.release()
        try Data("{}\n".utf8).write(to: dir.appendingPathComponent("log.jsonl"))
        do { _ = try RunDirectory.claim(dir, resume: false, overwrite: false, say: { _ in }); Issue.record("expected a refusal") } catch {
            #expect("\(error)".contains("--resume") && "\(error)".contains("--work-dir") && "\(error)".contains("--overwrite"))
        }
        var said: [String] = []
        let again = try RunDirectory.claim(dir, resume: false, overwrite: true, say: { said.append($0) })
        again.release()
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("log.jsonl").path))
        #expect(said.count == 1)
    }

    @Test func checksumCatchesAFlippedBitAndMissingSlots() throws {
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try quiet(try tinyConfiguration(dir, steps: 2)).run()
        let url = dir.appendingPathComponent("last.safetensors")
        var data = try Data(contentsOf: url)
        data[data.count - 3] ^= 0x01
        do { _ = try Safetensors.decode(data, source: "flipped"); Issue.record("expected a checksum error") } catch {
            #expect(error.message.contains("checksum"))
        }
        // Non-finite weights: refused unless asked for, and never written by save.
        var ckpt = try RunCheckpoint.read(url)
        let key = ckpt.tensors.keys.sorted().first { $0.hasPrefix("model.") }!
        ckpt.tensors[key] = Tensor.full(ckpt.tensors[key]!.shape, Double.nan)
        do { try ckpt.checkFinite(); Issue.record("expected a refusal") } catch {
            #expect(error.message.contains("NaN") && error.message.contains("--allow-non-finite"))
        }
        try ckpt.checkFinite(allowNonFinite: true)
        // A missing optimizer slot (Adam keeps two per parameter) is named.
        var tensors = ckpt.tensors
        tensors[key] = try RunCheckpoint.read(url).tensors[key]
        let slot = tensors.keys.sorted().first { $0.hasPrefix("optimizer.") }!
        tensors[slot] = nil
        try Safetensors.write(tensors, metadata: ckpt.metadata, checksum: true, to: url)
        do { _ = try RunCheckpoint.read(url); Issue.record("expected a refusal") } catch {
            #expect(error.message.contains("optimizer state"))
        }
    }

    @Test func checksumIsStableAndSensitive() {
        let a: [UInt8] = Array(0..<37)
        var b = a
        b[20] ^= 0x80
        let ha = a.withUnsafeBytes { Safetensors.checksum($0) }, hb = b.withUnsafeBytes { Safetensors.checksum($0) }
        #expect(ha != hb)
        #expect(ha == a.withUnsafeBytes { Safetensors.checksum($0) })
        #expect(Array(a.prefix(36)).withUnsafeBytes { Safetensors.checksum($0) } != ha)
    }

    @Test func sizesAreCheckedBeforeAllocating() throws {
        do { try SizeCheck.window(bptt: 100_000_000, batchSize: 4, streamLength: 750, tokens: 3000, split: "valid"); Issue.record("expected a refusal") } catch {
            #expect(error.message.contains("--bptt 100000000") && error.message.contains("750"))
        }
        try SizeCheck.window(bptt: 70, batchSize: 4, streamLength: 750, tokens: 3000, split: "valid")
        // 3 × 70 × 80 × 33278 × 4 bytes ≈ 2.2 GB of logits for WikiText-2 at batch 80.
        do {
            try SizeCheck.memory(parameters: 1_000_000, bptt: 70, batchSize: 80, evalBatchSize: 10, vocabulary: 33278, available: 1e9)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.message.contains("--bptt") && error.message.contains("--batch-size"))
        }
        do {
            try SizeCheck.memory(parameters: 200_000_000, bptt: 8, batchSize: 2, evalBatchSize: 2, vocabulary: 100, available: 1e9)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.message.contains("--nhid"))
        }
        try SizeCheck.memory(parameters: 1_000_000, bptt: 70, batchSize: 80, evalBatchSize: 10, vocabulary: 33278, available: 8e9)
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = try tinyConfiguration(dir, steps: 2)
        try c.apply(["bptt": "100000000"], source: "test")
        #expect(throws: TrainingError.self) { _ = try quiet(c).run() }
    }

    /// Another --batch-size on resume: the carried state starts fresh, the data continues at the
    /// same share of the epoch, and the run says so; another --nhid or dataset is refused by name.
    @Test func resumeWithChangedFlags() throws {
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = try tinyConfiguration(dir, steps: 4)
        _ = try quiet(c).run()
        try c.apply(["batch-size": "2", "batch-split": "1", "lr": "0.02", "max-step": "6"], source: "test")
        var said: [String] = []
        let r = try quiet(c, say: { said.append($0) }).run(resume: true)
        #expect(r.step == 6)
        #expect(said.contains { $0.contains("--batch-size 2") && $0.contains("carried state starts fresh") })
        #expect(said.contains { $0.contains("--lr 0.01 → 0.02") })
        #expect(ResumeCheck.position(375, savedSteps: 750, steps: 1500) == 750)

        var bigger = c
        try bigger.apply(["nhid": "24"], source: "test")
        do { _ = try quiet(bigger).run(resume: true); Issue.record("expected a refusal") } catch {
            #expect("\(error)".contains("--nhid 24") && "\(error)".contains("shape mismatch"))
        }
        let base = syntheticCorpus()
        let other = Corpus(name: "other", tokenization: .words, vocabulary: base.vocabulary, splits: base.splits)
        do { _ = try quiet(c, corpus: other).run(resume: true); Issue.record("expected a refusal") } catch {
            #expect("\(error)".contains("--dataset"))
        }
    }
}
