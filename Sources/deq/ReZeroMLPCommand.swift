import ArgumentParser
import Datasets
import Foundation
import NN
import Models
import Training

/// `deq rezero-mlp`: ReZero's depth race of deep fully connected nets on the 8×8 digits
/// (`digits/digits.csv.gz` under the data directory): steps to a training loss, test accuracy and
/// peak memory per variant and depth, one table row per run, the curves in an SVG.
struct ReZeroMLPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rezero-mlp",
        abstract: "Race deep fully connected nets (plain, residual, prenorm, rezero) on the 8x8 digits.")

    @Option(help: "Data directory holding digits/digits.csv.gz (default: $EQ_DATA).") var data: String?
    @Option(help: "Depths, comma-separated.") var depths = "32,128,1000,10000"
    @Option(help: "Variants, comma-separated: plain, residual, prenorm, rezero.") var variants = "plain,residual,prenorm,rezero"
    @Option(help: "Hidden width.") var width = 128
    @Option(name: .customLong("batch-size"), help: "Examples per batch.") var batchSize = 128
    @Option(help: "Optimizer: \(OptimizerRegistry.names.joined(separator: ", ")) (the paper: adam or adagrad).") var optimizer = "adam"
    @Option(help: "Learning rate.") var lr = 1e-3
    @Option(name: .customLong("target-loss"), help: "Stop a run once its training loss (mean of --smoothing batches) reaches this.") var targetLoss = 0.05
    @Option(help: "Batches averaged into the training loss.") var smoothing = 10
    @Option(name: .customLong("max-steps"), help: "Step cap of every depth not in --caps.") var maxSteps = 2000
    @Option(help: "Step caps by depth, DEPTH=STEPS pairs (e.g. 1000=300,10000=20).") var caps = ""
    @Option(help: "Random seed (weights, split and batch order).") var seed: UInt64 = 0
    @Option(help: "Write the training-loss curves to this SVG.") var curves: String?
    @Option(help: "Write one CSV line per step (depth,variant,step,loss) to this file.") var log: String?

    func validate() throws {
        if width < 1 { throw ValidationError("--width must be at least 1, got \(width)") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if !OptimizerRegistry.names.contains(optimizer) { throw ValidationError("--optimizer must be one of \(OptimizerRegistry.names.joined(separator: ", ")), got \"\(optimizer)\"") }
        if !(lr > 0) { throw ValidationError("--lr must be positive, got \(lr)") }
        if smoothing < 1 { throw ValidationError("--smoothing must be at least 1, got \(smoothing)") }
        if maxSteps < 1 { throw ValidationError("--max-steps must be at least 1, got \(maxSteps)") }
    }

    func run() throws {
        var s = DepthRaceSettings()
        s.depths = try depths.split(separator: ",").map { item in
            guard let d = Int(item), d >= 1 else { throw ValidationError("--depths takes whole numbers ≥ 1 separated by commas, got \"\(item)\"") }
            return d
        }
        s.variants = try variants.split(separator: ",").map { item in
            guard let v = ResidualVariant.named(String(item)) else {
                throw ValidationError("unknown variant \"\(item)\" in --variants; choose from \(ResidualVariant.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return v
        }
        s.width = width
        s.caps = try DepthRaceSettings.parseCaps(caps)
        s.seed = seed
        s.training.batchSize = batchSize
        s.training.learningRate = lr
        s.training.optimizer = optimizer
        s.training.targetLoss = targetLoss
        s.training.smoothing = smoothing
        s.training.maxSteps = maxSteps
        let file = try DataDirectory.resolve(data).appendingPathComponent("digits/digits.csv.gz")
        let (train, test) = try DepthRace.digits(file, trainFraction: s.trainFraction, seed: seed)
        var logHandle: FileHandle?
        if let log {
            guard FileManager.default.createFile(atPath: log, contents: Data("depth,variant,step,loss\n".utf8)),
                  let h = FileHandle(forWritingAtPath: log) else { throw FileSystemError("cannot write --log \(log) (\(String(cString: strerror(errno)))); pass a path in an existing, writable folder") }
            h.seekToEndOfFile()
            logHandle = h
        }
        print("digits: \(train.count) training rows, \(test.count) test rows; width \(width), batch \(batchSize), \(optimizer) lr \(lr), ReLU, target loss \(targetLoss) (mean of \(smoothing) batches)")
        print(" depth  variant   cap  steps to target  final loss  test acc  seconds  peak RSS")
        let rows = try DepthRace.run(s, train: train, test: test, progress: { depth, variant, step, loss in
            logHandle?.write(Data("\(depth),\(variant.rawValue),\(step),\(loss)\n".utf8))
        }, done: { row in
            let r = row.result
            let reached = r.stepsToTarget.map(String.init) ?? (r.diverged ? "diverged @\(r.steps)" : "not in \(r.steps)")
            let peak = row.peakBytes.map { String(format: "%.2f GiB", Double($0) / 1_073_741_824) } ?? "n/a"
            func pad(_ text: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - text.count)) + text }
            print(String(format: "%6d  ", row.depth) + row.variant.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                  + String(format: " %5d  ", row.cap) + pad(reached, 15)
                  + String(format: "  %10.4f  %8.3f  %7.1f  ", r.finalLoss, r.testAccuracy, r.seconds) + peak)
            fflush(nil)   // nil: every output stream (Swift 6 cannot name the C global stdout)
        })
        try? logHandle?.close()
        if let curves {
            try FileSystemError.write(DepthRace.curves(rows, smoothing: smoothing), to: curves, flag: "--curves")
            print("curves: \(curves)")
        }
    }
}
