import Datasets
import Foundation
import Models
import NN
import Tensors

/// ReZero's deep fully connected experiment on the 8×8 digits: every variant at every depth
/// trained with the same data order and settings, recording the steps to a target training loss,
/// the test accuracy and the peak resident memory of each run.
public struct DepthRaceSettings: Equatable, Sendable {
    public var depths = [32, 128, 1000, 10000]
    public var variants = ResidualVariant.allCases
    public var width = 128
    public var training = ClassifierTrainingSettings()
    /// Step caps by depth; depths not listed use `training.maxSteps`.
    public var caps: [Int: Int] = [:]
    /// The share of the rows trained on (the rest is the test set), split with `seed`.
    public var trainFraction = 0.8
    public var seed: UInt64 = 0
    public init() {}

    public func cap(depth: Int) -> Int { caps[depth] ?? training.maxSteps }

    /// Parses step caps written `DEPTH=STEPS,DEPTH=STEPS` (e.g. `1000=300,10000=20`).
    public static func parseCaps(_ text: String) throws(ConfigurationError) -> [Int: Int] {
        var caps: [Int: Int] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=")
            guard parts.count == 2, let depth = Int(parts[0]), let steps = Int(parts[1]), depth >= 1, steps >= 1 else {
                throw ConfigurationError("--caps takes DEPTH=STEPS pairs separated by commas (e.g. 1000=300,10000=20), got \"\(item)\"")
            }
            caps[depth] = steps
        }
        return caps
    }
}

/// One variant at one depth.
public struct DepthRaceRow: Sendable {
    public var depth: Int
    public var variant: ResidualVariant
    public var cap: Int
    public var result: ClassifierTrainingResult
    /// Peak resident memory of the process during this run (model, optimizer and tape), bytes.
    public var peakBytes: Int?
}

public enum DepthRace {
    /// The digits table split into training and test rows, features scaled from 0…16 to 0…1.
    public static func digits(_ url: URL, trainFraction: Double, seed: UInt64) throws -> (train: TabularDataset, test: TabularDataset) {
        let table = try CSVTable.read(url)
        let scaled = CSVTable(header: table.header, rows: table.rows.map { row in row.enumerated().map { $0.offset == row.count - 1 ? $0.element : $0.element / 16 } })
        let data = try TabularDataset(csv: scaled, source: url.path)
        return try data.split(trainFraction: trainFraction, seed: seed)
    }

    /// Runs every depth (in order) and variant, calling `progress` after each step and `done`
    /// after each run. The model of each run is released before the next starts, and the peak
    /// memory is reset between runs.
    public static func run(_ s: DepthRaceSettings, train: TabularDataset, test: TabularDataset,
                           progress: (_ depth: Int, _ variant: ResidualVariant, _ step: Int, _ loss: Double) -> Void = { _, _, _, _ in },
                           done: (DepthRaceRow) -> Void = { _ in }) throws -> [DepthRaceRow] {
        guard !s.depths.isEmpty, s.depths.allSatisfy({ $0 >= 1 }) else {
            throw ConfigurationError("--depths needs one or more depths ≥ 1, got \(s.depths)")
        }
        guard s.width >= 1 else { throw ConfigurationError("--width must be at least 1, got \(s.width)") }
        var rows: [DepthRaceRow] = []
        for depth in s.depths {
            for variant in s.variants {
                func one() throws -> DepthRaceRow {   // the model is released when this returns
                    PeakMemory.reset()
                    RandomGenerator.manualSeed(s.seed &+ UInt64(depth))
                    let model = DeepFullyConnected(.init(inputs: train.featureCount, width: s.width, depth: depth,
                                                         classes: max(train.classCount, test.classCount), variant: variant))
                    var settings = s.training
                    settings.maxSteps = s.cap(depth: depth)
                    settings.seed = s.seed
                    let result = try ClassifierTraining.run(model, train: train, test: test, settings: settings) { step, loss in
                        progress(depth, variant, step, loss)
                    }
                    return DepthRaceRow(depth: depth, variant: variant, cap: settings.maxSteps, result: result, peakBytes: PeakMemory.peakBytes())
                }
                let row = try one()
                rows.append(row)
                done(row)
            }
        }
        return rows
    }

    /// The training-loss curves of every run (smoothed over the run's window), one SVG.
    public static func curves(_ rows: [DepthRaceRow], smoothing: Int) -> String {
        let series = rows.map { row in
            CurvePlot.Series(label: "\(row.variant.rawValue) \(row.depth)", points: row.result.losses.indices.map { i in
                (Double(i + 1), ClassifierTraining.smoothed(Array(row.result.losses[max(0, i - smoothing + 1)...i]), smoothing))
            })
        }
        return CurvePlot(title: "Deep fully connected nets on the 8x8 digits", xLabel: "step",
                         yLabel: "training loss (mean of \(smoothing) batches)", series: series, logY: true).render()
    }
}
