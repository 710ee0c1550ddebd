import Foundation
import Testing
import Datasets
import Models
import NN
import Tensors
@testable import Training

/// ReZero's deep fully connected experiment: the fused residual's gradient, the four variants, and
/// a tiny race through the library's classifier loop.
@Suite(.serialized) struct DepthRaceTests {
    /// Two well separated classes in 6 features, 64 rows.
    static func blobs() throws -> TabularDataset {
        var random = SplitMix64(seed: 3)
        let rows: [[Double]] = (0..<64).map { i in
            let label = Double(i % 2)
            return (0..<6).map { _ in (label * 2 - 1) + 0.3 * random.normal() } + [label]
        }
        return try TabularDataset(csv: CSVTable(rows: rows), source: "blobs")
    }

    @Test func rezeroResidualGradchecksInFloat64() throws {
        RandomGenerator.manualSeed(5)
        let x = Tensor.randn([3, 4], dtype: .float64), f = Tensor.randn([3, 4], dtype: .float64)
        let report = try gradcheck({ rezeroResidual($0[0], $0[1], $0[2]) }, inputs: [x, Tensor(0.7, dtype: .float64), f])
        #expect(report.passed && report.maxRelativeError < 1e-6, "\(report)")

        // The whole ReZero block x + α relu(W x + b), α moved off 0 so every path carries gradient.
        let block = ReZero(Sequential(Linear(4, 4, dtype: .float64), Activation.relu))
        block.alpha = Tensor(0.4, dtype: .float64).requiringGrad()
        let input = Tensor.randn([5, 4], dtype: .float64)
        let whole = try gradcheck(block, tolerance: 1e-6) { block(input).square().sum() }
        #expect(whole.passed && whole.maxRelativeError < 1e-6, "\(whole)")
    }

    @Test func rezeroNetStartsAsTheIdentityStack() {
        RandomGenerator.manualSeed(6)
        let net = DeepFullyConnected(.init(inputs: 6, width: 8, depth: 5, classes: 2, variant: .rezero))
        let x = Tensor.randn([3, 6])
        let direct = withoutGradients { net.output(net.input(x)) }
        let through = withoutGradients { net(x) }
        #expect((through - direct).abs().max().item == 0)
        #expect(net.parameterCount() == (6 * 8 + 8) + 5 * (8 * 8 + 8 + 1) + (8 * 2 + 2))
        let prenorm = DeepFullyConnected(.init(inputs: 6, width: 8, depth: 5, classes: 2, variant: .prenorm))
        #expect(prenorm.norms.count == 5 && prenorm.alphas.isEmpty)
    }

    @Test func aSmallRaceRunsEveryVariantAndReachesTheTarget() throws {
        let data = try Self.blobs()
        let (train, test) = try data.split(trainFraction: 0.75, seed: 1)
        var s = DepthRaceSettings()
        (s.depths, s.width, s.caps) = ([4], 8, [4: 150])
        (s.training.batchSize, s.training.learningRate, s.training.targetLoss) = (16, 1e-2, 0.05)
        var steps = 0
        let rows = try DepthRace.run(s, train: train, test: test, progress: { _, _, _, _ in steps += 1 })
        #expect(rows.map(\.variant) == ResidualVariant.allCases)
        #expect(steps == rows.map(\.result.steps).reduce(0, +))
        for row in rows {
            #expect(row.result.steps <= 150 && row.result.losses.allSatisfy(\.isFinite))
        }
        let rezero = try #require(rows.first { $0.variant == .rezero })
        #expect(rezero.result.stepsToTarget != nil, "ReZero at depth 4 did not reach loss 0.05 in 150 steps: \(rezero.result.finalLoss)")
        #expect(rezero.result.testAccuracy == 1)
        #expect(DepthRace.curves(rows, smoothing: 10).contains("rezero 4"))
    }

    @Test func badCapsAndDepthsAreRejectedWithTheFix() throws {
        #expect(try DepthRaceSettings.parseCaps("1000=300,10000=20") == [1000: 300, 10000: 20])
        do { _ = try DepthRaceSettings.parseCaps("1000:300"); Issue.record("accepted 1000:300") } catch {
            #expect(error.message.contains("DEPTH=STEPS"))
        }
        var s = DepthRaceSettings()
        s.depths = [0]
        let data = try Self.blobs()
        #expect(throws: ConfigurationError.self) { try DepthRace.run(s, train: data, test: data) }
    }
}
