import DEQ
import NN
import Tensors

/// The DEQ-TrellisNet language model (Bai, Kolter & Koltun, 2019; TrellisNet of Bai et al., 2019):
/// a weight-shared causal temporal convolution with input injection and an LSTM-style gated
/// activation, whose fixed point over depth is the hidden state.
///
/// The state z = [h; c] ([B, 2n, T]). One application computes the gate pre-activations
/// a = inject(x) + conv([h]) with a weight-normalised causal convolution of kernel size 2, then
/// c' = σ(f) ⊙ c₋₁ + σ(i) ⊙ tanh(g), h' = σ(o) ⊙ tanh(c'), where c₋₁ is c shifted one step in time
/// (the cell state of the previous position), as TrellisNet's gated activation does.
public final class DEQTrellisNetLM: Module {
    public struct Configuration: Codable, Sendable, Equatable {
        public var vocabulary: Int
        public var embeddingSize: Int
        public var hiddenSize: Int
        public var dropout: Double
        public var tied: Bool

        public init(vocabulary: Int, embeddingSize: Int = 200, hiddenSize: Int = 200, dropout: Double = 0.1, tied: Bool = false) {
            self.vocabulary = vocabulary
            self.embeddingSize = embeddingSize
            self.hiddenSize = hiddenSize
            self.dropout = dropout
            self.tied = tied
        }
    }

    public let configuration: Configuration
    public let embedding: Embedding
    /// Input injection: [B, e, T] → [B, 4n, T], computed once per forward (outside the solve).
    public let injection: Conv1d
    /// The weight-shared temporal convolution on h: [B, n, T] → [B, 4n, T].
    public let convolution: WeightNorm<Conv1d>
    public let cellDropout: VariationalDropout
    public let outputDropout: VariationalDropout
    public let decoder: Linear
    public let deq: DEQLayer
    /// Extra options kept for checkpoints (solver settings).
    var architectureOptions: [String: String] = [:]

    public init(_ c: Configuration, options: DEQOptions = DEQOptions(), dtype: DType = .float32) {
        configuration = c
        let n = c.hiddenSize
        embedding = Embedding(c.vocabulary, c.embeddingSize, weightInit: .uniform(bound: 0.1), dtype: dtype)
        injection = Conv1d(c.embeddingSize, 4 * n, kernelSize: 2, dtype: dtype)
        convolution = WeightNorm(Conv1d(n, 4 * n, kernelSize: 2, bias: false, dtype: dtype))
        // Masks shared over time (axis 2 of [B, C, T]) and held across solver iterations.
        cellDropout = VariationalDropout(c.dropout, timeAxis: 2, holdsMask: true)
        outputDropout = VariationalDropout(c.dropout, timeAxis: 1)
        decoder = Linear(n, c.vocabulary, dtype: dtype)
        if c.tied {
            guard c.embeddingSize == n else {
                fail("DEQTrellisNetLM: tied weights need embeddingSize == hiddenSize, got \(c.embeddingSize) and \(n)")
            }
            decoder.weight = embedding.weight
        }
        deq = DEQLayer(name: "deq-trellisnet", options: options)
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("embedding", embedding)
        v.child("injection", injection)
        v.child("convolution", convolution)
        v.child("cell_dropout", cellDropout)
        v.child("output_dropout", outputDropout)
        if !configuration.tied { v.child("decoder", decoder) } else { v.parameter("decoder.bias", &decoder.bias) }
    }

    /// The gated cell on z = [h; c] ([B, 2n, T]) given the injected pre-activations u ([B, 4n, T]).
    func cell(_ z: Tensor, _ u: Tensor) -> Tensor {
        let n = configuration.hiddenSize
        let parts = z.split(sizes: [n, n], axis: 1)
        let (h, c) = (cellDropout(parts[0]), parts[1])
        let a = u + convolution(h)
        let gates = a.chunked(4, axis: 1)
        let t = c.shape[2]
        // c₋₁: the cell state one step earlier in time, zero at the first step.
        let previous = Tensor.concat([Tensor.zeros([c.shape[0], n, 1], dtype: c.dtype), c.sliced(2, 0, t - 1)], axis: 2)
        let cNew = gates[1].sigmoid() * previous + gates[0].sigmoid() * gates[3].tanh()
        let hNew = gates[2].sigmoid() * cNew.tanh()
        return Tensor.concat([hNew, cNew], axis: 1)
    }

    /// Hidden states [B, T, n] of tokens [B, T].
    public func hidden(_ tokens: Tensor) throws(DEQError) -> Tensor {
        guard tokens.rank == 2 else { fail("DEQTrellisNetLM expects tokens [batch, time], got \(tokens.shape)") }
        let e = embedding(tokens).permuted(0, 2, 1)           // [B, e, T]
        let u = injection(e)
        cellDropout.resetMask()
        let n = configuration.hiddenSize
        let z0 = Tensor.zeros([tokens.shape[0], 2 * n, tokens.shape[1]], dtype: u.dtype)
        let z = try deq({ [unowned self] z, u in self.cell(z, u) }, input: u, initial: z0)
        return z.sliced(1, 0, n).permuted(0, 2, 1)              // h, [B, T, n]
    }

    /// Mean cross-entropy of `targets` [B, T] given `tokens` [B, T].
    public func loss(_ tokens: Tensor, targets: Tensor) throws(DEQError) -> Tensor {
        let h = outputDropout(try hidden(tokens))
        let logits = decoder(h).reshaped([-1, configuration.vocabulary])
        return crossEntropy(logits, targets.reshaped([-1]))
    }
}

extension DEQTrellisNetLM: EquilibriumLanguageModel {
    public static let optionKeys = ["emsize", "nhid", "dropout", "tied", "solver", "tolerance", "jac-loss-weight"]

    /// Builds the model from `emsize`, `nhid`, `dropout`, `tied` and the solver's options
    /// (`solver`, `tolerance`, `jac-loss-weight`).
    public convenience init(vocabularySize: Int, options: [String: String]) throws(ModelError) {
        let r = OptionReader(model: "deq-trellisnet", options: options)
        let tied = try r.bool("tied", false)
        let c = Configuration(vocabulary: vocabularySize, embeddingSize: try r.int("emsize", 200),
                              hiddenSize: try r.int("nhid", 200), dropout: try r.fraction("dropout", 0.1), tied: tied)
        if tied && c.embeddingSize != c.hiddenSize {
            throw ModelError("deq-trellisnet: tied weights need emsize = nhid, got emsize \(c.embeddingSize) and nhid \(c.hiddenSize)")
        }
        self.init(c, options: try r.equilibriumOptions())
        architectureOptions = options.filter { DEQTrellisNetLM.optionKeys.contains($0.key) }
    }

    public var modelName: String { "deq-trellisnet" }
    public var architecture: [String: String] {
        var a = architectureOptions
        a["emsize"] = "\(configuration.embeddingSize)"; a["nhid"] = "\(configuration.hiddenSize)"
        a["dropout"] = "\(configuration.dropout)"; a["tied"] = "\(configuration.tied)"
        return a
    }
    public var vocabularySize: Int { configuration.vocabulary }
    public var stateBatchAxis: Int { 0 }

    /// TrellisNet carries no state between windows here.
    public func initialState(batch: Int) -> [Tensor] { [] }

    /// Tokens [T, batch] to logits [T·batch, vocabulary].
    public func callAsFunction(_ tokens: Tensor, state: [Tensor]) -> (logits: Tensor, state: [Tensor]) {
        let h: Tensor
        do { h = try hidden(tokens.T.contiguous()) } catch { fail("deq-trellisnet: \(error)") }
        let rows = outputDropout(h).transposed(0, 1).reshaped([-1, configuration.hiddenSize])
        return (decoder(rows), [])
    }
}
