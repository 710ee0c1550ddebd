import Foundation
import NN
import DEQ
import Models
import Solvers
import Tensors

/// One training step of an adaptive-span model on a fixed random batch — forward over [cache;
/// block], loss plus span loss, backward, the reference's Adagrad with per-parameter clipping,
/// span clamping — timed over repeats (what `deq bench adaptive-span` and its PyTorch peer
/// `Benchmarks/peers/torch_adaptive_span_step.py` compare).
public struct AdaptiveSpanStepBenchmark {
    public var configuration: AdaptiveSpanTransformer.Configuration
    public var batch: Int
    public var block: Int
    /// Every head's span ratio z before timing (spans z·S): nil keeps the initial ratios.
    public var spanRatio: Double?

    public init(configuration: AdaptiveSpanTransformer.Configuration, batch: Int, block: Int, spanRatio: Double?) {
        self.configuration = configuration
        self.batch = batch
        self.block = block
        self.spanRatio = spanRatio
    }

    public struct Result: Sendable {
        /// Wall-clock milliseconds of each timed step, sorted.
        public var milliseconds: [Double]
        /// Keys each query attends to after trimming, per layer.
        public var attendedKeys: [Int]
        public var parameters: Int
    }

    public func run(warmup: Int, repeats: Int) throws -> Result {
        RandomGenerator.manualSeed(7)
        let model = AdaptiveSpanTransformer(configuration)
        if let spanRatio {
            for layer in model.layers { layer.attn.adaptiveSpan?.ratio.assign(Tensor.full([configuration.heads, 1, 1], spanRatio)) }
        }
        let optimizer = try Adagrad(model, learningRate: 0.07, parameterClip: 0.03)
        let v = configuration.vocabularySize
        let x = Tensor.randint(0, v, [batch, block]), y = Tensor.randint(0, v, [batch, block])
        var caches = model.initialState(batch: batch)
        model.train()
        func step() throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            optimizer.zeroGrad()
            let (logits, next) = model.forward(x, caches: caches)
            let loss = crossEntropy(logits.reshaped([-1, v]), y.flattened())
            let objective = model.auxiliaryLoss.map { loss + $0 } ?? loss
            try objective.backward()
            optimizer.step()
            model.clampSpans()
            caches = next
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        for _ in 0..<warmup { _ = try step() }
        let times = try (0..<repeats).map { _ in try step() }.sorted()
        return Result(milliseconds: times, attendedKeys: model.layers.map { configuration.span - $0.attn.trimLength },
                      parameters: model.parameterCount())
    }
}
