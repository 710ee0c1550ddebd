import DEQ
import Foundation
import Models
import NN
import Tensors

/// A training step ready to time: everything is built once, `step` runs one step on a fixed
/// random batch (the workloads `deq bench` times and the peers in `Benchmarks/peers/` time in
/// PyTorch with the same sizes).
public struct TrainingStepWorkload {
    public var parameters: Int
    public var step: () throws -> Void
    /// Figures read after a step (a DEQ's solver work).
    public var figures: () -> [String: Any] = { [:] }
}

public enum TrainingStepWorkloads {
    /// The reference RMC language model (the `paper` preset: emsize 192, 4 heads of 192, keys of
    /// 64, 3 attention-MLP layers, unit gates, dropout 0.5, tied full softmax): forward over a BPTT
    /// window with the memory carried, cross entropy, backward, clipping at 0.1, an Adam step.
    public static func rmcLanguageModel(batch: Int, bptt: Int, vocabulary: Int, memorySlots: Int) throws -> TrainingStepWorkload {
        RandomGenerator.manualSeed(7)
        var c = RMCLanguageModel.Configuration(vocabularySize: vocabulary)
        c.memorySlots = memorySlots
        let model = RMCLanguageModel(c)
        let optimizer = try Adam(model, learningRate: 1e-3)
        let tokens = Tensor.randint(0, vocabulary, [bptt, batch])
        let targets = Tensor.randint(0, vocabulary, [bptt * batch])
        var memory = model.initialState(batch: batch)
        return TrainingStepWorkload(parameters: model.parameterCount()) {
            optimizer.zeroGrad()
            let (logits, next) = model(tokens, state: memory)
            try tokenCrossEntropy(logits, targets).backward()
            _ = clipGradientNorm(model, maxNorm: 0.1)
            optimizer.step()
            memory = next.map { $0.detached() }
        }
    }

    /// The small DEQ-Transformer preset with tolerance 0, so every solver iteration runs: forward
    /// solve, adaptive-softmax loss, implicit backward, an Adam step.
    public static func deqTransformer(batch: Int, length: Int, vocabulary: Int,
                                      forwardIterations: Int, backwardIterations: Int) throws -> TrainingStepWorkload {
        RandomGenerator.manualSeed(7)
        var options = DEQOptions.smallTransformer
        options.forwardTolerance = 0
        options.stopMode = .absolute
        options.backward = .implicit(solver: .anderson(window: 5), iterations: backwardIterations, tolerance: 0)
        options.forwardIterations = forwardIterations
        options.onFailure = .ignore
        let config = DEQTransformerLM.Configuration.small(vocabulary: vocabulary)
        let model = DEQTransformerLM(config, options: options)
        let optimizer = try Adam(model, learningRate: 1e-4)
        let tokens = Tensor.randint(0, vocabulary, [batch, length])
        let targets = Tensor.randint(0, vocabulary, [batch, length])
        let memory = DEQTransformerLM.Memory(states: Tensor.randn([batch, config.memoryLength, config.modelSize]),
                                             injections: Tensor.randn([batch, config.memoryLength, 3 * config.modelSize]))
        var workload = TrainingStepWorkload(parameters: model.parameterCount()) {
            optimizer.zeroGrad()
            let (loss, _) = try model.loss(tokens, targets: targets, memory: memory)
            try loss.backward()
            optimizer.step()
        }
        workload.figures = {
            // Function evaluations: the initial residual plus one per iteration (torchdeq's
            // Anderson makes max_iter evaluations in all, one fewer).
            ["model_size": config.modelSize,
             "forward_evaluations": model.deq.lastStats?.forwardEvaluations ?? 0,
             "backward_iterations": model.deq.lastStats?.backwardIterations ?? 0]
        }
        return workload
    }

    /// The word-level LSTM LM of PyTorch's examples on WikiText-2: vocabulary 33,278, embedding =
    /// hidden = 200, 2 layers, BPTT 35, batch 20; cross entropy, clip 0.25, SGD (lr 20).
    public static func lstmLanguageModel() throws -> TrainingStepWorkload {
        let (vocab, size, bptt, batch) = (33_278, 200, 35, 20)
        // The zoo's LSTM LM without dropout is the example's model (embedding → LSTM → decoder).
        let model = LSTMLanguageModel(.init(vocabularySize: vocab, embeddingSize: size, hiddenSize: size, layers: 2, dropout: 0))
        let optimizer = try SGD(model, learningRate: 20)
        let input = Tensor.randint(0, vocab, [bptt, batch])
        let target = Tensor.randint(0, vocab, [bptt * batch])
        return TrainingStepWorkload(parameters: model.parameterCount()) {
            model.zeroGrad()
            let (logits, _) = model(input, state: model.initialState(batch: batch))
            try crossEntropy(logits, target).backward()
            clipGradientNorm(model, maxNorm: 0.25)
            optimizer.step()
        }
    }

    /// A post-norm encoder layer (d 512, 8 heads, feed-forward 2048) on 16 × 128 tokens:
    /// forward, then backward of the output's sum.
    public static func transformerLayer() -> TrainingStepWorkload {
        let layer = TransformerEncoderLayer(512, heads: 8, feedForward: 2048)
        let x = Tensor.randn([16, 128, 512]).requiringGrad()
        return TrainingStepWorkload(parameters: layer.parameterCount()) {
            layer.zeroGrad()
            x.zeroGrad()
            try layer(x).sum().backward()
        }
    }

    /// A small encoder layer after one SGD-momentum step, with each tensor's float64 sum in the
    /// metadata (`sum:<name>`) so a reader can check the values it loaded.
    public static func writeTrainedLayerSample(to url: URL) throws {
        let layer = TransformerEncoderLayer(16, heads: 4, feedForward: 32)
        let opt = try SGD(layer, learningRate: 0.1, momentum: 0.9)
        try layer(Tensor.randn([2, 5, 16])).square().mean().backward()
        opt.step()
        var sums: [String: String] = [:]
        for (k, t) in layer.stateDict() { sums["sum:model.\(k)"] = "\(t.to(.float64).sum().item)" }
        for (k, t) in opt.exportState().tensors { sums["sum:optimizer.\(k)"] = "\(t.to(.float64).sum().item)" }
        try Checkpoint.save(model: layer, optimizer: opt, step: 1, extra: sums, to: url)
    }
}

/// The width-`width` benchmark DEQ z = tanh(z W + x U + b): float32 parameters, a fixed random
/// input and target (`deq bench deq-memory` and `deq bench deq-step`).
public struct DEQBenchModel {
    let w, u, b, x, target: Tensor
    let width: Int

    public init(width: Int, batch: Int) {
        let g = RandomGenerator(seed: 42)
        self.width = width
        w = (Tensor.randn([width, width], std: 0.5 / (2 * Double(width).squareRoot()), generator: g)).requiringGrad()
        u = Tensor.randn([width, width], std: 1 / Double(width).squareRoot(), generator: g).requiringGrad()
        b = Tensor.zeros([width]).requiringGrad()
        x = Tensor.randn([batch, width], generator: g)
        target = Tensor.randn([batch, width], generator: g)
    }

    /// One forward + backward with every iteration run (tolerance 0): implicit, or unrolled
    /// through the solver (`unrolled`); returns (peak bytes above the live baseline, milliseconds).
    public func trainStep(unrolled: Bool, iterations: Int, backwardIterations: Int = 30) throws -> (peakBytes: Int, milliseconds: Double) {
        var options = DEQOptions(forwardSolver: .anderson(window: 5), forwardIterations: iterations,
                                 forwardTolerance: 0, stopMode: .absolute,
                                 backward: .implicit(solver: .anderson(window: 5), iterations: backwardIterations, tolerance: 0),
                                 onFailure: .ignore)
        if unrolled { options.unrolledSteps = iterations }
        let layer = DEQLayer(name: "bench", options: options)
        let (w, u, b, x, target) = (self.w, self.u, self.b, self.x, self.target)
        for p in [w, u, b] { p.zeroGrad() }
        let baseline = MemoryStats.resetPeak()
        let start = DispatchTime.now().uptimeNanoseconds
        let xu = x.matmul(u) + b
        let z = try layer({ z, xu in (z.matmul(w) + xu).tanh() }, input: xu, initial: Tensor.zeros([x.shape[0], width]))
        try (z - target).square().mean().backward()
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        return (MemoryStats.peakBytes - baseline, ms)
    }
}
