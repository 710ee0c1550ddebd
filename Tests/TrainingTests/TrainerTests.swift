import Foundation
import Testing
import Datasets
import Models
import NN
import Tensors
@testable import Training

/// A tiny corpus made in code: a repeating pattern with noise, so a small LSTM learns something.
func syntheticCorpus() -> Corpus {
    var vocab = Vocabulary()
    let words = (0..<30).map { "w\($0)" } + ["<unk>", "<eos>"]
    vocab.add(words)
    var rng = SplitMix64(seed: 5)
    func text(_ n: Int) -> [Int] { (0..<n).map { i in (i % 7 == 6) ? 31 : Int(rng.next() % 5) + (i % 7) * 4 } }
    return Corpus(name: "synthetic", tokenization: .words, vocabulary: vocab, splits: ["valid": text(3000), "test": text(1200)])
}

func tinyConfiguration(_ dir: URL, steps: Int, optim: String = "adam") throws -> TrainingConfiguration {
    var c = TrainingConfiguration()
    try c.apply(["emsize": "16", "nhid": "16", "nlayers": "2", "dropout": "0.3", "batch-size": "4", "bptt": "8",
                 "varlen": "true", "optim": optim, "lr": optim == "adam" ? "0.01" : "5", "clip": "0.5",
                 "max-step": "\(steps)", "eval-interval": "6", "train-split": "valid", "work-dir": dir.path,
                 "batch-split": "2", "seed": "42"], source: "test")
    return c
}

func temporaryRunDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("eq-train-\(UUID().uuidString)")
}

@Suite(.serialized) struct TrainerTests {
    @Test func trainingLowersTheLossAndWritesTheRunFiles() throws {
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = Trainer(configuration: try tinyConfiguration(dir, steps: 30), corpus: syntheticCorpus(), say: { _ in })
        trainer.showsProgress = false
        let r = try trainer.run()
        #expect(r.step == 30)
        #expect(r.evaluations.count == 5)
        #expect(r.evaluations.last!.loss < r.evaluations.first!.loss)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(names.contains("last.safetensors") && names.contains("best.safetensors") && names.contains("log.jsonl"))
        #expect(names.contains { $0.hasPrefix("events.out.tfevents.") })
        let log = try MetricsLog.read(dir.appendingPathComponent("log.jsonl"))
        #expect(log.filter { $0["type"] as? String == "train" }.count == 30)
        let ckpt = try RunCheckpoint.read(dir.appendingPathComponent("best.safetensors"))
        #expect(ckpt.modelName == "lstm-lm")
        #expect(ckpt.vocabulary?.count == 32)
        _ = try ckpt.makeModel()
    }

    /// Stopping after step 12 and resuming gives the same losses for steps 13…24 as a run that
    /// never stopped: weights, Adam's slots, dropout's random stream, the variable-length data
    /// position and the carried LSTM state all come back from the checkpoint.
    @Test func resumeContinuesBitExactly() throws {
        let saved = Threading.threadCount
        Threading.threadCount = 1
        defer { Threading.threadCount = saved }
        let whole = temporaryRunDirectory(), split = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: split) }
        let corpus = syntheticCorpus()
        let a = Trainer(configuration: try tinyConfiguration(whole, steps: 24), corpus: corpus, say: { _ in })
        a.showsProgress = false
        let full = try a.run()

        let b1 = Trainer(configuration: try tinyConfiguration(split, steps: 12), corpus: corpus, say: { _ in })
        b1.showsProgress = false
        let first = try b1.run()
        for s in 1...12 { #expect(first.losses[s] == full.losses[s], "step \(s)") }
        // Something else uses the global generator in between, as another process would.
        RandomGenerator.manualSeed(999)
        _ = Tensor.rand([100])
        let b2 = Trainer(configuration: try tinyConfiguration(split, steps: 24), corpus: corpus, say: { _ in })
        b2.showsProgress = false
        let second = try b2.run(resume: true)
        #expect(second.losses.keys.sorted() == Array(13...24))
        for s in 13...24 { #expect(second.losses[s] == full.losses[s], "step \(s)") }
        // The resumed log holds each step once.
        let steps = try MetricsLog.read(split.appendingPathComponent("log.jsonl"))
            .filter { $0["type"] as? String == "train" }.compactMap { ($0["step"] as? NSNumber)?.intValue }
        #expect(steps == Array(1...24))
    }

    @Test func checkpointOfAnotherModelSaysWhich() throws {
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = Trainer(configuration: try tinyConfiguration(dir, steps: 2), corpus: syntheticCorpus(), say: { _ in })
        t.showsProgress = false
        _ = try t.run()
        let ckpt = try RunCheckpoint.read(dir.appendingPathComponent("last.safetensors"))
        do { _ = try ckpt.makeModel(expectedModel: "deq-transformer"); Issue.record("expected an error") } catch {
            #expect("\(error)".contains("holds a lstm-lm model, not deq-transformer"))
        }
        // A different architecture under the same name: the error names the mismatched tensors.
        var other = try tinyConfiguration(dir, steps: 4)
        try other.apply(["nhid": "24"], source: "test")
        let t2 = Trainer(configuration: other, corpus: syntheticCorpus(), say: { _ in })
        do { _ = try t2.run(resume: true); Issue.record("expected an error") } catch {
            #expect("\(error)".contains("shape mismatch"))
        }
    }

    @Test func missingCheckpointNamesTheFix() {
        do { _ = try RunCheckpoint.read(URL(fileURLWithPath: "/nonexistent/last.safetensors")); Issue.record("expected an error") } catch {
            #expect("\(error)".contains("/nonexistent/last.safetensors") && "\(error)".contains("deq train"))
        }
    }

    @Test func nanLossStopsWithTheStepAndKeepsTheLastGoodCheckpoint() throws {
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = try tinyConfiguration(dir, steps: 4, optim: "sgd")
        try c.apply(["eval-interval": "2", "varlen": "false"], source: "test")
        let good = Trainer(configuration: c, corpus: syntheticCorpus(), say: { _ in })
        good.showsProgress = false
        _ = try good.run()
        // Resume with an absurd rate: the first update overflows.
        try c.apply(["lr": "1e39", "clip": "0", "max-step": "40"], source: "test")
        let t = Trainer(configuration: c, corpus: syntheticCorpus(), say: { _ in })
        t.showsProgress = false
        do { _ = try t.run(resume: true); Issue.record("expected the loss to blow up") } catch let e as TrainingError {
            #expect(e.message.contains("at step"))
            #expect(e.message.contains("last good checkpoint is \(dir.appendingPathComponent("last.safetensors").path) (step 4)"))
            let kept = try RunCheckpoint.read(dir.appendingPathComponent("last.safetensors"))
            #expect(kept.step == 4)
            #expect(kept.tensors.values.allSatisfy { !$0.dtype.isFloatingPoint || $0.to(.float64).isFinite })
        }
    }

    @Test func missingSplitListsTheAvailableOnes() throws {
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = try tinyConfiguration(dir, steps: 2)
        try c.apply(["train-split": "train"], source: "test")
        let t = Trainer(configuration: c, corpus: syntheticCorpus(), say: { _ in })
        do { _ = try t.run(); Issue.record("expected an error") } catch {
            #expect("\(error)".contains("no train split") && "\(error)".contains("--train-split valid"))
        }
    }
}
