import Foundation
import Tensors

/// The relational memory core (Santoro et al. 2018, "Relational recurrent neural networks"), as
/// the PyTorch port Deepest-Project/relational-rnn-pytorch computes it, quirks included:
///
/// - the memory [batch, slots, heads·headSize] starts from the identity, padded with zeros or cut
///   to the memory size (``initialState(batch:dtype:)``);
/// - each step appends the projected input as one more row, and `blocks` times runs multi-head
///   dot-product attention of every row over all rows, then an MLP of `attentionMLPLayers`
///   Linear+ReLU layers, each with a residual and a layer norm;
/// - all three layer norms (after the query/key/value projection, after attention, after the
///   MLP) normalise over [slots + 1, size] jointly, with [slots + 1, size] scales and shifts;
/// - the reference's MLP repeats one `Linear` (`[nn.Linear(...)] * layers`), so its layers share
///   one weight; ``Configuration/sharedMLPWeight`` (default true) keeps that, false gives each
///   layer its own (a named deviation);
/// - the input row is dropped, then input and forget gates from the projected input and
///   tanh(previous memory) mix the new memory in: m' = σ(i + b_i) ⊙ tanh(m̃) + σ(f + b_f) ⊙ m,
///   with per-element (`unit`) or per-slot (`memory`) gates and trainable scalar biases.
///
/// Parameter names and shapes are the reference's, so its `state_dict` loads as it is.
///
/// ```swift
/// let rmc = RelationalMemory(.init(inputSize: 40, memorySlots: 4, headSize: 32, heads: 2))
/// let (outputs, memory) = rmc(x, memory: rmc.initialState(batch: 8))   // x [T, 8, 40]; outputs [T, 8, 4·64]
/// ```
public final class RelationalMemory: Module {
    /// How the input and forget gates are shaped.
    public enum GateStyle: String, Sendable, CaseIterable {
        /// One gate per memory element.
        case unit
        /// One gate per memory slot.
        case memory
        /// No gating: the attended memory replaces the memory.
        case none
    }

    public struct Configuration: Equatable, Sendable {
        public var inputSize: Int
        public var memorySlots: Int
        public var headSize: Int
        public var heads: Int
        public var blocks: Int
        /// Size of queries and keys (the reference's default is the head size).
        public var keySize: Int
        public var attentionMLPLayers: Int
        public var gateStyle: GateStyle
        public var forgetBias: Double
        public var inputBias: Double
        /// The reference's MLP layers share one weight; false gives each layer its own.
        public var sharedMLPWeight: Bool

        public init(inputSize: Int, memorySlots: Int, headSize: Int, heads: Int = 1, blocks: Int = 1,
                    keySize: Int? = nil, attentionMLPLayers: Int = 2, gateStyle: GateStyle = .unit,
                    forgetBias: Double = 1, inputBias: Double = 0, sharedMLPWeight: Bool = true) {
            self.inputSize = inputSize
            self.memorySlots = memorySlots
            self.headSize = headSize
            self.heads = heads
            self.blocks = blocks
            self.keySize = keySize ?? headSize
            self.attentionMLPLayers = attentionMLPLayers
            self.gateStyle = gateStyle
            self.forgetBias = forgetBias
            self.inputBias = inputBias
            self.sharedMLPWeight = sharedMLPWeight
        }

        /// heads · headSize: the width of one memory slot.
        public var memorySize: Int { heads * headSize }
        /// Width of one head's query, key and value together.
        var qkvSize: Int { 2 * keySize + headSize }
        /// Width of one gate (both gates are computed together, so the projections give twice this).
        var gateSize: Int {
            switch gateStyle {
            case .unit: return memorySize
            case .memory: return 1
            case .none: return 0
            }
        }

        /// The first size that is not positive, described; nil when all are.
        public var problem: String? {
            let sizes = [("inputSize", inputSize), ("memorySlots", memorySlots), ("headSize", headSize), ("heads", heads),
                         ("blocks", blocks), ("keySize", keySize), ("attentionMLPLayers", attentionMLPLayers)]
            return sizes.first { $0.1 < 1 }.map { "\($0.0) must be at least 1, got \($0.1)" }
        }
    }

    public let configuration: Configuration
    public let inputProjector: Linear
    public let qkvProjector: Linear
    public let qkvNorm: JointLayerNorm
    /// One Linear when ``Configuration/sharedMLPWeight`` (applied `attentionMLPLayers` times), else one per layer.
    public let attentionMLP: [Linear]
    public let attendedNorm: JointLayerNorm
    public let attendedNorm2: JointLayerNorm
    /// Gate projections of the projected input and of tanh(memory); nil without gating.
    public let inputGateProjector: Linear?
    public let memoryGateProjector: Linear?
    /// Trainable scalar biases added to the forget and input gates before the sigmoid.
    public var forgetBias: Tensor?
    public var inputBias: Tensor?

    public init(_ c: Configuration, dtype: DType = .float32) {
        if let problem = c.problem { fail("RelationalMemory: \(problem)") }
        configuration = c
        let m = c.memorySize, rows = c.memorySlots + 1
        inputProjector = Linear(c.inputSize, m, dtype: dtype)
        qkvProjector = Linear(m, c.heads * c.qkvSize, dtype: dtype)
        qkvNorm = JointLayerNorm(rows: rows, size: c.heads * c.qkvSize, dtype: dtype)
        attentionMLP = (0..<(c.sharedMLPWeight ? 1 : c.attentionMLPLayers)).map { _ in Linear(m, m, dtype: dtype) }
        attendedNorm = JointLayerNorm(rows: rows, size: m, dtype: dtype)
        attendedNorm2 = JointLayerNorm(rows: rows, size: m, dtype: dtype)
        if c.gateStyle == .none {
            inputGateProjector = nil
            memoryGateProjector = nil
        } else {
            inputGateProjector = Linear(m, 2 * c.gateSize, dtype: dtype)
            memoryGateProjector = Linear(m, 2 * c.gateSize, dtype: dtype)
            forgetBias = Tensor.full([], c.forgetBias, dtype: dtype).requiringGrad()
            inputBias = Tensor.full([], c.inputBias, dtype: dtype).requiringGrad()
        }
    }

    /// The reference's registration order and names.
    public func visit(_ v: inout ModuleVisitor) {
        v.child("qkv_projector", qkvProjector)
        v.child("qkv_layernorm", qkvNorm)
        v.children("attention_mlp", attentionMLP)
        v.child("attended_memory_layernorm", attendedNorm)
        v.child("attended_memory_layernorm2", attendedNorm2)
        v.child("input_projector", inputProjector)
        if let inputGateProjector { v.child("input_gate_projector", inputGateProjector) }
        if let memoryGateProjector { v.child("memory_gate_projector", memoryGateProjector) }
        v.parameter("forget_bias", &forgetBias)
        v.parameter("input_bias", &inputBias)
    }

    /// slots · memorySize: the width of one step's output (the flattened memory).
    public var outputSize: Int { configuration.memorySlots * configuration.memorySize }

    /// The identity [slots, slots], padded with zero columns or cut to [slots, memorySize], for each batch row.
    public func initialState(batch: Int, dtype: DType? = nil) -> Tensor {
        let n = configuration.memorySlots, m = configuration.memorySize
        var values = [Double](repeating: 0, count: n * m)
        for i in 0..<min(n, m) { values[i * m + i] = 1 }
        let eye = Tensor(values, shape: [1, n, m]).to(dtype ?? qkvProjector.weight.dtype)
        return eye.expanded(to: [batch, n, m]).contiguous()
    }

    /// Runs a time-first sequence `input` [T, batch, inputSize] from `memory` [batch, slots,
    /// memorySize]: the outputs [T, batch, slots·memorySize] (each step's memory, flattened) and the
    /// final memory. Detach the memory between BPTT windows, as for an LSTM state.
    public func callAsFunction(_ input: Tensor, memory: Tensor) -> (output: Tensor, memory: Tensor) {
        let c = configuration
        guard input.rank == 3, input.shape[2] == c.inputSize else {
            fail("RelationalMemory expects a time-first input [T, batch, \(c.inputSize)], got \(input.shape)")
        }
        let steps = input.shape[0], batch = input.shape[1]
        guard memory.shape == [batch, c.memorySlots, c.memorySize] else {
            fail("RelationalMemory: the memory must be [\(batch), \(c.memorySlots), \(c.memorySize)], got \(memory.shape); start from initialState(batch:)")
        }
        // The input projections of every step are independent of the memory: one GEMM each for the whole sequence.
        let projected = inputProjector(input)                       // [T, B, M]
        let gateInputs = inputGateProjector.map { $0(projected) }   // [T, B, 2G]
        var state = memory
        var outputs: [Tensor] = []
        outputs.reserveCapacity(steps)
        for t in 0..<steps {
            state = step(projected.select(0, t), gateInput: gateInputs?.select(0, t), memory: state)
            outputs.append(state.reshaped([batch, outputSize]))
        }
        return (Tensor.stack(outputs, axis: 0), state)
    }

    /// One step from the projected input [B, M] and its gate projection [B, 2G].
    func step(_ x: Tensor, gateInput: Tensor?, memory: Tensor) -> Tensor {
        let n = configuration.memorySlots
        var rows = Tensor.concat([memory, x.unsqueezed(1)], axis: 1)   // [B, N+1, M]
        for _ in 0..<configuration.blocks { rows = attentionBlock(rows) }
        let attended = rows.sliced(1, 0, n)
        guard let gateInput, let memoryGateProjector, let inputBias, let forgetBias else { return attended }
        let gates = (memoryGateProjector(memory.tanh()) + gateInput.unsqueezed(1)).chunked(2, axis: 2)
        let inputGate = (gates[0] + inputBias).sigmoid(), forgetGate = (gates[1] + forgetBias).sigmoid()
        return inputGate * attended.tanh() + forgetGate * memory
    }

    /// Attention with a residual and layer norm, then the MLP with a residual and layer norm.
    func attentionBlock(_ rows: Tensor) -> Tensor {
        let attended = attendedNorm(rows + multiheadAttention(rows))
        var h = attended
        for i in 0..<configuration.attentionMLPLayers {
            h = attentionMLP[configuration.sharedMLPWeight ? 0 : i](h).relu()
        }
        return attendedNorm2(attended + h)
    }

    /// Scaled dot-product attention of every row over all rows, per head: [B, R, M] → [B, R, M].
    func multiheadAttention(_ rows: Tensor) -> Tensor {
        let c = configuration
        let (b, r) = (rows.shape[0], rows.shape[1])
        let qkv = qkvNorm(qkvProjector(rows))                                    // [B, R, H·(2K+V)]
        let perHead = qkv.reshaped([b, r, c.heads, c.qkvSize]).permuted(0, 2, 1, 3)   // [B, H, R, 2K+V]
        let q = perHead.narrow(3, start: 0, length: c.keySize) * (1 / Double(c.keySize).squareRoot())
        let k = perHead.narrow(3, start: c.keySize, length: c.keySize)
        let v = perHead.narrow(3, start: 2 * c.keySize, length: c.headSize)
        let weights = q.matmul(k.transposed(-1, -2)).softmax(axis: -1)          // [B, H, R, R]
        return weights.matmul(v).permuted(0, 2, 1, 3).reshaped([b, r, c.memorySize])
    }
}

/// Layer normalisation of [batch, rows, size] over rows and size jointly, with a [rows, size] scale
/// (ones) and shift (zeros): PyTorch's `nn.LayerNorm([rows, size])`.
public final class JointLayerNorm: Layer {
    public var weight: Tensor
    public var bias: Tensor
    public let eps: Double

    public init(rows: Int, size: Int, eps: Double = 1e-5, dtype: DType = .float32) {
        self.eps = eps
        weight = Initializer.ones.make([rows, size], dtype: dtype)
        bias = Initializer.zeros.make([rows, size], dtype: dtype)
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.parameter("weight", &weight)
        v.parameter("bias", &bias)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard x.rank == 3, Array(x.shape.dropFirst()) == weight.shape else {
            fail("JointLayerNorm(\(weight.shape)) expects [batch, \(weight.shape[0]), \(weight.shape[1])], got \(x.shape)")
        }
        let flat = weight.count
        return x.reshaped([x.shape[0], flat])
            .layerNorm(weight: weight.reshaped([flat]), bias: bias.reshaped([flat]), eps: eps)
            .reshaped(x.shape)
    }
}
