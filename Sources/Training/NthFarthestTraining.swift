import Datasets
import Foundation
import Models
import NN
import Tensors

/// The N-th farthest task trained as relational-rnn-pytorch's `train_nth_farthest.py` trains it:
/// fresh examples every epoch (`batchesPerEpoch` batches of `batchSize`), a fixed test set, Adam,
/// gradient-norm clipping, and the test accuracy after every epoch.
public struct NthFarthestSettings: Equatable, Sendable {
    public var model: RMCClassifier.Configuration
    public var vectors = 8
    public var dimension = 16
    public var batchSize = 1600
    public var batchesPerEpoch = 6
    public var testExamples = 3200
    public var learningRate = 1e-4
    public var clip = 0.1
    public var seed: UInt64 = 0
    /// Where to write the fixed test set (safetensors: `input` [examples, vectors, 40] float32,
    /// batch-first as the reference's `get_examples` returns it, and `target` int64), so that a
    /// peer run (`Benchmarks/peers/torch_nth_farthest.py --test-set`) scores the same examples.
    public var testSetOutput: String?

    public init(model: RMCClassifier.Configuration) { self.model = model }

    /// The reference's hyperparameters (its ReduceLROnPlateau is created but never stepped, so the
    /// learning rate stays 1e-4).
    public static let paper = NthFarthestSettings(model: .nthFarthest)

    /// A quick look: 4 slots of 2 heads of 16, an MLP of 2 layers of 64, batches of 128 and a test
    /// set of 512, at a learning rate of 1e-3 (learns the easy ranks within minutes on 2 cores).
    public static let small: NthFarthestSettings = {
        var s = NthFarthestSettings(model: .init(
            core: .init(inputSize: 40, memorySlots: 4, headSize: 16, heads: 2, blocks: 1, attentionMLPLayers: 2),
            mlpSize: 64, mlpLayers: 2, classes: 8))
        (s.batchSize, s.batchesPerEpoch, s.testExamples, s.learningRate) = (128, 6, 512, 1e-3)
        return s
    }()

    /// The presets by name.
    public static let presets: [String: NthFarthestSettings] = ["paper": paper, "small": small]

    public static func preset(_ name: String) throws(ConfigurationError) -> NthFarthestSettings {
        guard let p = presets[name] else {
            throw ConfigurationError("no N-th farthest preset \"\(name)\"; choose one of \(presets.keys.sorted().joined(separator: ", "))")
        }
        return p
    }
}

/// One epoch's figures.
public struct NthFarthestRecord: Sendable {
    public var epoch: Int
    /// Wall time since training started (data generation, steps and test evaluations included).
    public var seconds: Double
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double
    public var testAccuracy: Double
}

public enum NthFarthestTraining {
    /// Trains until `maxTime` seconds or `maxEpochs` epochs (whichever comes first; at least one
    /// epoch), calling `report` after each epoch, and returns every epoch's record. With a work
    /// directory, epochs are checkpointed and `resume` continues the run.
    public static func run(_ s: NthFarthestSettings, maxTime: Double?, maxEpochs: Int?,
                           workDirectory: String? = nil, resume: Bool = false,
                           report: @escaping (NthFarthestRecord) -> Void = { _ in }) throws -> [NthFarthestRecord] {
        let model = initialModel(s)
        let data = dataGenerator(s)
        let test = try SyntheticTask.nthFarthest(batch: s.testExamples, count: s.vectors, dimension: s.dimension,
                                             generator: RandomGenerator(seed: s.seed &+ 2))
        if let path = s.testSetOutput {
            try Safetensors.write(["input": test.input.transposed(0, 1).contiguous(), "target": test.target],
                                  metadata: ["task": "nth-farthest", "seed": "\(s.seed)"], to: URL(fileURLWithPath: path))
        }
        let trainer = try Self.trainer(for: model, s, workDirectory: workDirectory)
        trainer.generators["data"] = data
        (trainer.evaluationInterval, trainer.checkpointInterval) = (s.batchesPerEpoch, s.batchesPerEpoch)
        let start = Date()
        var records: [NthFarthestRecord] = []
        var loss = 0.0, correct = 0.0
        trainer.afterStep = { _, l in loss += l }
        trainer.evaluate = { step in
            let (testLoss, testAccuracy) = evaluate(model, test, batchSize: s.batchSize)
            let record = NthFarthestRecord(epoch: step / s.batchesPerEpoch, seconds: Date().timeIntervalSince(start),
                                           trainLoss: loss / Double(s.batchesPerEpoch),
                                           trainAccuracy: correct / Double(s.batchesPerEpoch),
                                           testLoss: testLoss, testAccuracy: testAccuracy)
            (loss, correct) = (0, 0)
            records.append(record)
            report(record)
            return ["train_loss": record.trainLoss, "train_accuracy": record.trainAccuracy, "test_loss": testLoss, "test_accuracy": testAccuracy]
        }
        // The time limit is checked at the end of an epoch, as the reference script does.
        trainer.shouldStop = { step in step % s.batchesPerEpoch == 0 && maxTime.map { Date().timeIntervalSince(start) >= $0 } ?? false }
        try trainer.run(steps: (maxEpochs ?? 1_000_000) * s.batchesPerEpoch, resume: resume) { _ in
            let batch = try trainingBatch(s, generator: data)
            let (l, scores) = model.loss(batch.input, targets: batch.target)
            correct += accuracy(scores, batch.target)
            return l
        }
        return records
    }

    /// The model of a run, initialised from the global generator seeded with `s.seed`.
    public static func initialModel(_ s: NthFarthestSettings, dtype: DType = .float32) -> RMCClassifier {
        RandomGenerator.manualSeed(s.seed)
        return RMCClassifier(s.model, dtype: dtype)
    }

    /// The generator of a run's training batches (the test set has its own).
    public static func dataGenerator(_ s: NthFarthestSettings) -> RandomGenerator { RandomGenerator(seed: s.seed &+ 1) }

    /// The next training batch: input [vectors, batchSize, dimension + 3·vectors], targets int64 [batchSize].
    public static func trainingBatch(_ s: NthFarthestSettings, generator: RandomGenerator,
                                     dtype: DType = .float32) throws -> SyntheticTask.Batch {
        try SyntheticTask.nthFarthest(batch: s.batchSize, count: s.vectors, dimension: s.dimension, dtype: dtype, generator: generator)
    }

    /// The trainer of a run: Adam at the settings' learning rate, gradient-norm clipping at
    /// `s.clip`, no progress lines. Its step is the run's (and `deq rmc-probe --nth-farthest`'s).
    public static func trainer(for model: RMCClassifier, _ s: NthFarthestSettings,
                               workDirectory: String? = nil) throws -> TaskTrainer {
        let trainer = TaskTrainer(model: model, optimizer: try Adam(model, learningRate: s.learningRate), workDirectory: workDirectory)
        (trainer.clip, trainer.progressInterval) = (s.clip, 0)
        return trainer
    }

    static func accuracy(_ scores: Tensor, _ targets: Tensor) -> Double {
        (scores.argmax(axis: 1) .== targets).to(.float64).mean().item
    }

    /// Mean loss and accuracy over the test set in batches of `batchSize` (the reference's test batches).
    static func evaluate(_ model: RMCClassifier, _ test: SyntheticTask.Batch, batchSize: Int) -> (loss: Double, accuracy: Double) {
        let n = test.target.count
        var loss = 0.0, correct = 0.0, batches = 0.0
        withoutGradients {
            var start = 0
            while start < n {
                let end = min(n, start + batchSize)
                let (l, scores) = model.loss(test.input.sliced(1, start, end), targets: test.target.sliced(0, start, end))
                loss += l.item
                correct += accuracy(scores, test.target.sliced(0, start, end))
                batches += 1
                start = end
            }
        }
        return (loss / batches, correct / batches)
    }
}
