import ArgumentParser
import Foundation
import Tensors
import Training

/// `deq nth-farthest`: trains the relational memory core on the N-th farthest task (made in code)
/// with the reference's hyperparameters (`--preset paper`) or a quick look (`--preset small`),
/// printing the test accuracy against wall time.
struct NthFarthestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nth-farthest",
        abstract: "Train the RMC on the N-th farthest task; print test accuracy against wall time.")

    @Option(help: "Preset: paper (the reference's hyperparameters) or small.") var preset = "paper"
    @Option(name: .customLong("max-time"), help: "Stop after the epoch that passes this many seconds.") var maxTime: Double?
    @Option(name: .customLong("max-epochs"), help: "Stop after this many epochs.") var maxEpochs: Int?
    @Option(name: .customLong("batch-size"), help: "Examples per batch (default: the preset's).") var batchSize: Int?
    @Option(help: "Learning rate (default: the preset's).") var lr: Double?
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(name: .customLong("test-set-out"), help: "Write the fixed test set to this safetensors file (for a peer run to score the same examples).") var testSetOut: String?
    @Flag(help: "Print one JSON object per epoch instead of a table.") var json = false

    func validate() throws {
        if maxTime == nil && maxEpochs == nil {
            throw ValidationError("say how long to train: --max-time SECONDS or --max-epochs N")
        }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive, got \(lr)") }
    }

    func run() throws {
        var s = try NthFarthestSettings.preset(preset)
        if let batchSize { s.batchSize = batchSize }
        if let lr { s.learningRate = lr }
        s.seed = seed
        s.testSetOutput = testSetOut
        if !json {
            print("N-th farthest (\(s.vectors) vectors of \(s.dimension)), preset \(preset): batch \(s.batchSize) x \(s.batchesPerEpoch) an epoch, test \(s.testExamples), Adam lr \(s.learningRate), clip \(s.clip), \(Threading.threadCount) threads")
            print("epoch  train loss  train acc  test loss  test acc      s")
        }
        _ = try NthFarthestTraining.run(s, maxTime: maxTime, maxEpochs: maxEpochs) { r in
            if json {
                print("{\"epoch\": \(r.epoch), \"seconds\": \(r.seconds), \"train_loss\": \(r.trainLoss), \"train_acc\": \(r.trainAccuracy), \"test_loss\": \(r.testLoss), \"test_acc\": \(r.testAccuracy)}")
            } else {
                print(String(format: "%5d  %10.4f  %9.3f  %9.4f  %8.3f  %5.0f", r.epoch, r.trainLoss, r.trainAccuracy, r.testLoss, r.testAccuracy, r.seconds))
            }
            fflush(nil)   // nil: every output stream (Swift 6 cannot name the C global stdout)
        }
    }
}
