import Foundation
import Testing
import Datasets
import Models
import NN
import Tensors
@testable import Training

/// The RMC language model: its whole-model gradient, its options, and a short run through the
/// trainer with the memory carried across windows and a checkpoint that rebuilds it.
@Suite(.serialized) struct RMCTrainingTests {
    @Test func rmcLanguageModelGradchecksInFloat64() throws {
        RandomGenerator.manualSeed(21)
        var c = RMCLanguageModel.Configuration(vocabularySize: 9)
        (c.embeddingSize, c.memorySlots, c.headSize, c.heads, c.keySize) = (4, 4, 2, 2, 3)
        (c.attentionMLPLayers, c.gateStyle, c.dropout, c.cutoffs) = (2, .memory, 0, [4])
        let model = RMCLanguageModel(c, dtype: .float64)
        initialize(model.encoder.weight, with: .normal(std: 0.3))
        let tokens = Tensor.randint(0, 9, [2, 2]), targets = Tensor.randint(0, 9, [2, 2])
        let memory = model.initialState(batch: 2)[0]
        let report = try gradcheck(model, tolerance: 1e-6) {
            crossEntropy(model(tokens, state: [memory]).logits, targets.flattened())
        }
        #expect(report.passed, "\(report)")
    }

    @Test func rmcOptionsAreCheckedWithMessagesThatNameTheFix() throws {
        let lm = try ModelRegistry.make("rmc-lm", vocabularySize: 50, options: ["emsize": "8", "headsize": "4", "numheads": "2",
                                                                               "keysize": "3", "memslots": "2", "gatestyle": "memory"])
        #expect(lm.modelName == "rmc-lm")
        #expect(lm.initialState(batch: 3)[0].shape == [3, 2, 8])
        #expect(lm.architecture["gatestyle"] == "memory")
        #expect(throws: ModelError.self) { try ModelRegistry.make("rmc-lm", vocabularySize: 50, options: ["gatestyle": "slot"]) }
        #expect(throws: ModelError.self) { try ModelRegistry.make("rmc-lm", vocabularySize: 50, options: ["memslots": "0"]) }
        #expect(throws: ModelError.self) { try ModelRegistry.make("rmc-lm", vocabularySize: 50, options: ["cutoffs": "60"]) }
        do {
            _ = try ModelRegistry.make("rmc-lm", vocabularySize: 50, options: ["forgetbias": "high"])
            Issue.record("a non-numeric forget bias was accepted")
        } catch { #expect("\(error)".contains("forgetbias must be a number")) }
    }

    @Test func rmcTrainsThroughTheTrainerAndReloads() throws {
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = TrainingConfiguration()
        try c.apply(["model": "rmc-lm", "emsize": "8", "headsize": "4", "numheads": "2", "keysize": "4", "memslots": "2",
                     "attmlplayers": "2", "dropout": "0.1", "batch-size": "4", "bptt": "6", "optim": "adam", "lr": "0.01",
                     "clip": "0.1", "max-step": "4", "eval-interval": "2", "eval-max-tokens": "100", "train-split": "valid",
                     "work-dir": dir.path, "seed": "3"], source: "test")
        let trainer = Trainer(configuration: c, corpus: syntheticCorpus(), say: { _ in })
        trainer.showsProgress = false
        let r = try trainer.run()
        #expect(r.step == 4)
        #expect(r.losses.values.allSatisfy { $0.isFinite })
        let ckpt = try RunCheckpoint.read(dir.appendingPathComponent("last.safetensors"))
        #expect(ckpt.modelName == "rmc-lm")
        let rebuilt = try ckpt.makeModel()
        #expect(rebuilt.architecture == ["emsize": "8", "memslots": "2", "headsize": "4", "numheads": "2", "numblocks": "1",
                                         "attmlplayers": "2", "keysize": "4", "gatestyle": "unit", "forgetbias": "1.0",
                                         "inputbias": "0.0", "dropout": "0.1", "cutoffs": "none", "shared-mlp": "true"])
    }

    @Test func nthFarthestModelHasTheReferenceSizeAndGradchecks() throws {
        // The reference's RRNN counted by PyTorch (Benchmarks/peers/torch_nth_farthest.py's presets).
        #expect(RMCClassifier(.nthFarthest).parameterCount() == 1_283_850)
        #expect(RMCClassifier(NthFarthestSettings.small.model).parameterCount() == 24_298)
        RandomGenerator.manualSeed(4)
        let model = RMCClassifier(.init(core: .init(inputSize: 11, memorySlots: 2, headSize: 2, heads: 2, attentionMLPLayers: 2),
                                        mlpSize: 5, mlpLayers: 2, classes: 3), dtype: .float64)
        let batch = try SyntheticTask.nthFarthest(batch: 3, count: 3, dimension: 2, dtype: .float64, generator: RandomGenerator(seed: 1))
        let report = try gradcheck(model, tolerance: 1e-6) { model.loss(batch.input, targets: batch.target).loss }
        #expect(report.passed, "\(report)")
    }

    @Test func nthFarthestTrainingReportsEveryEpoch() throws {
        var s = NthFarthestSettings.small
        (s.batchSize, s.batchesPerEpoch, s.testExamples) = (8, 2, 12)
        var seen: [Int] = []
        let records = try NthFarthestTraining.run(s, maxTime: nil, maxEpochs: 2) { seen.append($0.epoch) }
        #expect(seen == [1, 2])
        #expect(records.allSatisfy { $0.trainLoss.isFinite && $0.testLoss.isFinite && (0...1).contains($0.testAccuracy) })
        #expect(throws: ConfigurationError.self) { try NthFarthestSettings.preset("large") }
    }

    /// The test set a run scores is written batch-first for a peer to score the same examples.
    @Test func nthFarthestWritesTheTestSetItScores() throws {
        var s = NthFarthestSettings.small
        (s.batchSize, s.batchesPerEpoch, s.testExamples, s.seed) = (8, 1, 12, 5)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nth-test-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        s.testSetOutput = url.path
        _ = try NthFarthestTraining.run(s, maxTime: nil, maxEpochs: 1)
        let written = try Safetensors.read(url).tensors
        let drawn = try SyntheticTask.nthFarthest(batch: 12, count: s.vectors, dimension: s.dimension, generator: RandomGenerator(seed: 5 &+ 2))
        #expect(written["input"]?.shape == [12, s.vectors, 40])
        #expect(written["input"]?.scalars == drawn.input.transposed(0, 1).contiguous().scalars)
        #expect(written["target"]?.dtype == .int64 && written["target"]?.scalars == drawn.target.scalars)
    }

    /// The pieces `deq rmc-probe --nth-farthest` (the PyTorch parity check) assembles are the run's:
    /// the same initial model, batches and trainer give the run's first-epoch training loss.
    @Test func nthFarthestPiecesReproduceTheRunsSteps() throws {
        var s = NthFarthestSettings.small
        (s.batchSize, s.batchesPerEpoch, s.testExamples, s.seed) = (8, 2, 12, 5)
        let records = try NthFarthestTraining.run(s, maxTime: nil, maxEpochs: 1)
        let model = NthFarthestTraining.initialModel(s), data = NthFarthestTraining.dataGenerator(s)
        let trainer = try NthFarthestTraining.trainer(for: model, s)
        let losses = try trainer.run(steps: 2) { _ in
            let batch = try NthFarthestTraining.trainingBatch(s, generator: data)
            return model.loss(batch.input, targets: batch.target).loss
        }.losses
        #expect(records[0].trainLoss == (losses[1]! + losses[2]!) / 2)
    }
}
