import Datasets
import Foundation
import NN
import Tensors

/// Settings of a supervised classification run on a ``TabularDataset``.
public struct ClassifierTrainingSettings: Equatable, Sendable {
    public var batchSize = 128
    public var learningRate = 1e-3
    /// `adam` (β 0.9, 0.999) or `adagrad`.
    public var optimizer = "adam"
    /// The step cap: the run stops here whether or not it reached the target.
    public var maxSteps = 1000
    /// Stop once the smoothed training loss is at or below this (nil: run to the cap).
    public var targetLoss: Double? = 0.05
    /// The training loss is the mean of the last `smoothing` batch losses (one batch is noisy).
    public var smoothing = 10
    /// Seeds the batch order.
    public var seed: UInt64 = 0
    public init() {}
}

/// What a run reports.
public struct ClassifierTrainingResult: Sendable {
    /// Each step's batch loss.
    public var losses: [Double]
    /// The first step (1-based) whose smoothed loss reached the target; nil when it never did.
    public var stepsToTarget: Int?
    /// The loss became non-finite (the run stopped there).
    public var diverged: Bool
    /// The smoothed training loss at the last step.
    public var finalLoss: Double
    public var testLoss: Double
    public var testAccuracy: Double
    public var seconds: Double
    public var steps: Int { losses.count }
}

/// The library's supervised training loop for classifiers on tabular data: shuffled mini-batches
/// (``BatchSampler``, reshuffled each epoch, short batches dropped), cross entropy, Adam or Adagrad, a step
/// cap and an early stop at a target training loss, then the test loss and accuracy.
public enum ClassifierTraining {
    public static func run(_ model: some Layer, train: TabularDataset, test: TabularDataset,
                           settings s: ClassifierTrainingSettings,
                           report: (_ step: Int, _ loss: Double) -> Void = { _, _ in }) throws -> ClassifierTrainingResult {
        guard s.maxSteps >= 1 else { throw TrainingError("the step cap must be at least 1, got \(s.maxSteps); pass --max-steps N with N ≥ 1") }
        guard s.smoothing >= 1 else { throw TrainingError("the loss smoothing window must be at least 1, got \(s.smoothing)") }
        guard train.featureCount == test.featureCount else {
            throw TrainingError("the training rows have \(train.featureCount) features and the test rows \(test.featureCount); split one table")
        }
        let sampler = try BatchSampler(count: train.count, batchSize: min(s.batchSize, train.count), dropLast: true, seed: s.seed)
        let optimizer = try OptimizerRegistry.make(s.optimizer, model: model, settings: .init(learningRate: s.learningRate))
        let start = Date()
        var losses: [Double] = []
        var reached: Int?
        var epoch = 0, batches = sampler.batches(epoch: 0).makeIterator()
        let trainer = TaskTrainer(model: model, optimizer: optimizer)
        (trainer.progressInterval, trainer.throwsOnDivergence) = (0, false)
        trainer.shouldStop = { step in
            guard let target = s.targetLoss, smoothed(losses, s.smoothing) <= target else { return false }
            reached = step
            return true
        }
        let run = try trainer.run(steps: s.maxSteps) { _ in
            guard let indices = batches.next() ?? {
                epoch += 1
                batches = sampler.batches(epoch: epoch).makeIterator()
                return batches.next()
            }() else { throw TrainingError("the training split holds no full batch of \(s.batchSize)") }
            let (x, y) = train.batch(indices, dtype: model.dtype)
            let loss = crossEntropy(model(x), y)
            losses.append(loss.item)
            report(losses.count, losses[losses.count - 1])
            return loss
        }
        let diverged = run.diverged
        let seconds = Date().timeIntervalSince(start)
        model.eval()
        let (testLoss, accuracy) = evaluate(model, test, batchSize: max(s.batchSize, 256))
        return ClassifierTrainingResult(losses: losses, stepsToTarget: reached, diverged: diverged,
                                        finalLoss: smoothed(losses, s.smoothing), testLoss: testLoss,
                                        testAccuracy: accuracy, seconds: seconds)
    }

    /// The mean loss and the accuracy of `model` on every row of `data`, without recording.
    public static func evaluate(_ model: some Layer, _ data: TabularDataset, batchSize: Int = 256) -> (loss: Double, accuracy: Double) {
        withoutGradients {
            var total = 0.0, correct = 0
            var start = 0
            while start < data.count {
                let indices = Array(start..<min(data.count, start + batchSize))
                let (x, y) = data.batch(indices, dtype: model.dtype)
                let logits = model(x)
                total += crossEntropy(logits, y).item * Double(indices.count)
                let predicted = logits.argmax(axis: 1).toArray(Int64.self)
                let labels = y.toArray(Int64.self)
                correct += zip(predicted, labels).filter { $0 == $1 }.count
                start += batchSize
            }
            return (total / Double(data.count), Double(correct) / Double(data.count))
        }
    }

    /// The mean of the last `window` values.
    static func smoothed(_ values: [Double], _ window: Int) -> Double {
        let tail = values.suffix(window)
        return tail.isEmpty ? .nan : tail.reduce(0, +) / Double(tail.count)
    }
}
