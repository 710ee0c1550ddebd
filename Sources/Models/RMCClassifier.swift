import NN
import Tensors

/// The N-th farthest model of relational-rnn-pytorch's `train_nth_farthest.py` (its `RRNN`): a
/// ``RelationalMemory`` reads the sequence from the identity memory, and its last output (the
/// flattened memory) goes through `mlpLayers` Linear+ReLU layers of `mlpSize` and a Linear to the
/// classes.
///
/// The reference applies `nn.Softmax` to the scores and then `nn.CrossEntropyLoss`, which applies
/// log-softmax again: ``Configuration/softmaxBeforeLoss`` (default true) keeps that double
/// softmax; false gives the plain cross entropy of the scores (a named deviation).
///
/// ```swift
/// let model = RMCClassifier(.nthFarthest)
/// let loss = model.loss(batch.input, targets: batch.target)   // input [8, B, 40], targets [B]
/// ```
public final class RMCClassifier: Module {
    public struct Configuration: Equatable, Sendable {
        public var core: RelationalMemory.Configuration
        public var mlpSize: Int
        public var mlpLayers: Int
        public var classes: Int
        public var softmaxBeforeLoss: Bool

        public init(core: RelationalMemory.Configuration, mlpSize: Int = 256, mlpLayers: Int = 4, classes: Int,
                    softmaxBeforeLoss: Bool = true) {
            self.core = core
            self.mlpSize = mlpSize
            self.mlpLayers = mlpLayers
            self.classes = classes
            self.softmaxBeforeLoss = softmaxBeforeLoss
        }

        /// The reference's N-th farthest model: 8 slots, 8 heads of 2048 / 64 = 32, keys of the head
        /// size, 1 block, 2 attention-MLP layers, unit gates (forget bias 1, input bias 0), then an MLP
        /// of 4 layers of 256 to 8 classes, for 8 vectors of 16 numbers (inputs of 16 + 3·8 = 40).
        public static let nthFarthest = Configuration(
            core: .init(inputSize: 40, memorySlots: 8, headSize: 32, heads: 8, blocks: 1, attentionMLPLayers: 2),
            classes: 8)
    }

    public let configuration: Configuration
    public let core: RelationalMemory
    public let mlp: [Linear]
    public let out: Linear

    public init(_ c: Configuration, dtype: DType = .float32) {
        configuration = c
        let core = RelationalMemory(c.core, dtype: dtype)
        self.core = core
        mlp = (0..<c.mlpLayers).map { Linear($0 == 0 ? core.outputSize : c.mlpSize, c.mlpSize, dtype: dtype) }
        out = Linear(c.mlpLayers == 0 ? core.outputSize : c.mlpSize, c.classes, dtype: dtype)
    }

    /// The reference's names: `relational_memory`, `mlp.0`, `mlp.2`, … (its ReLUs take the odd places), `out`.
    public func visit(_ v: inout ModuleVisitor) {
        v.child("relational_memory", core)
        for (i, layer) in mlp.enumerated() { v.child("mlp.\(2 * i)", layer) }
        v.child("out", out)
    }

    /// Class scores [batch, classes] for a time-first sequence [T, batch, inputSize]: probabilities
    /// when ``Configuration/softmaxBeforeLoss`` (the reference's), else logits.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let batch = input.shape[1]
        let (outputs, _) = core(input, memory: core.initialState(batch: batch, dtype: input.dtype))
        var h = outputs.select(0, outputs.shape[0] - 1)
        for layer in mlp { h = layer(h).relu() }
        let scores = out(h)
        return configuration.softmaxBeforeLoss ? scores.softmax(axis: 1) : scores
    }

    /// Mean cross entropy of the scores against int64 `targets` [batch], and the scores.
    public func loss(_ input: Tensor, targets: Tensor) -> (loss: Tensor, scores: Tensor) {
        let scores = self(input)
        return (crossEntropy(scores, targets), scores)
    }
}
