import DEQ
import NN
import Tensors

/// The DEQ-TrellisNet language model (Bai, Kolter & Koltun, 2019; TrellisNet of Bai et al., 2019):
/// a weight-shared causal temporal convolution with input injection and an LSTM-style gated
/// activation, whose fixed point over depth is the hidden state. It follows the DEQ v1 reference
/// (locuslab/deq, first commit, `DEQTrellisNetLM`):
///
/// - The state z = [h; c] ([B, 2w, T]) with w = nhid + nout (w = nhid when `nout` is not set);
///   the output is the last `nout` channels of h (all of h without `nout`).
/// - One application computes the gate pre-activations a = inject(x) + conv(h) with two
///   weight-normalised causal convolutions of kernel size 2, then c' = σ(f) ⊙ c₋₁ + σ(i) ⊙ tanh(g),
///   h' = σ(o) ⊙ tanh(c'), where c₋₁ is c one step earlier in time.
/// - The (h, c) of the last position of a window is the history of the next one (the reference's
///   `mems`): it pads the convolution of h and stands for c₋₁ at the first step, so consecutive
///   windows see the sequence as one. It is the recurrent state, detached between windows.
/// - Gate blocks are ordered [i, f, o, g] here and [i, o, g, f] in the reference; the reference
///   checkpoint conversion permutes them (`DEQTrellisNetReference.swift`).
public final class DEQTrellisNetLM: Module {
    public struct Configuration: Codable, Sendable, Equatable {
        public var vocabulary: Int
        public var embeddingSize: Int
        /// The reference's `nhid`: with `outputSize` the state width is hiddenSize + outputSize.
        public var hiddenSize: Int
        /// The reference's `nout`: the channels of h read out (nil: all of h, width hiddenSize).
        public var outputSize: Int?
        /// Variational dropout on the output (`dropout`).
        public var dropout: Double
        /// Variational dropout on the embedded input (`dropouti`).
        public var inputDropout: Double
        /// Variational dropout on h inside the cell, one mask for every solver iteration (`dropouth`).
        public var hiddenDropout: Double
        /// Whole-word dropout on the embedding matrix (`emb_dropout`).
        public var embeddingDropout: Double
        /// DropConnect on the older tap of both convolutions' directions v (`wdrop`).
        public var weightDropout: Double
        public var tied: Bool

        /// `hiddenDropout` defaults to `dropout` (the single rate this model had before the set).
        public init(vocabulary: Int, embeddingSize: Int = 200, hiddenSize: Int = 200, outputSize: Int? = nil,
                    dropout: Double = 0.1, inputDropout: Double = 0, hiddenDropout: Double? = nil,
                    embeddingDropout: Double = 0, weightDropout: Double = 0, tied: Bool = false) {
            self.vocabulary = vocabulary
            self.embeddingSize = embeddingSize
            self.hiddenSize = hiddenSize
            self.outputSize = outputSize
            self.dropout = dropout
            self.inputDropout = inputDropout
            self.hiddenDropout = hiddenDropout ?? dropout
            self.embeddingDropout = embeddingDropout
            self.weightDropout = weightDropout
            self.tied = tied
        }

        /// The width of h and of c (the reference's `h_size`).
        public var stateWidth: Int { hiddenSize + (outputSize ?? 0) }
        /// The channels of h the decoder reads.
        public var outputWidth: Int { outputSize ?? hiddenSize }
    }

    public let configuration: Configuration
    public let embedding: Embedding
    /// Input injection: [B, e, T] → [B, 4w, T], computed once per forward (outside the solve).
    public let injection: WeightNorm<Conv1d>
    /// The weight-shared temporal convolution on the history-padded h: [B, w, T + 1] → [B, 4w, T].
    public let convolution: WeightNorm<Conv1d>
    public let inputDropout: VariationalDropout
    public let cellDropout: VariationalDropout
    public let outputDropout: VariationalDropout
    public let decoder: Linear
    public let deq: DEQLayer
    var training = true
    /// Extra options kept for checkpoints (solver settings).
    var architectureOptions: [String: String] = [:]

    public init(_ c: Configuration, options: DEQOptions = DEQOptions(), dtype: DType = .float32) {
        configuration = c
        let w = c.stateWidth
        embedding = Embedding(c.vocabulary, c.embeddingSize, weightInit: .uniform(bound: 0.1), dtype: dtype)
        // Both weights are recomputed from (g, v) once per forward, not at every solver iteration.
        injection = WeightNorm(Conv1d(c.embeddingSize, 4 * w, kernelSize: 2, dtype: dtype), recomputesEachCall: false)
        convolution = WeightNorm(Conv1d(w, 4 * w, kernelSize: 2, padding: 0, bias: false, dtype: dtype),
                                 recomputesEachCall: false)
        inputDropout = VariationalDropout(c.inputDropout, timeAxis: 1)
        // Masks shared over time (axis 2 of [B, C, T]) and held across solver iterations.
        cellDropout = VariationalDropout(c.hiddenDropout, timeAxis: 2, holdsMask: true)
        outputDropout = VariationalDropout(c.dropout, timeAxis: 1)
        decoder = Linear(c.outputWidth, c.vocabulary, dtype: dtype)
        if c.tied {
            guard c.embeddingSize == c.outputWidth else {
                fail("DEQTrellisNetLM: tied weights need embeddingSize == the output width (nout, else nhid), got \(c.embeddingSize) and \(c.outputWidth)")
            }
            // Tied: the embedding stands in for the decoder's weight, whose own is never used: it is
            // frozen so that nothing (optimizer, parameter check) takes it for a parameter.
            decoder.weight = decoder.weight.detached()
        }
        deq = DEQLayer(name: "deq-trellisnet", options: options)
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.mode(&training)
        v.child("embedding", embedding)
        v.child("injection", injection)
        v.child("convolution", convolution)
        v.child("input_dropout", inputDropout)
        v.child("cell_dropout", cellDropout)
        v.child("output_dropout", outputDropout)
        if !configuration.tied { v.child("decoder", decoder) } else { v.parameter("decoder.bias", &decoder.bias) }
    }

    /// The history before the first window: zeros [B, 2w, 1].
    public func zeroHistory(batch: Int) -> Tensor {
        Tensor.zeros([batch, 2 * configuration.stateWidth, 1], dtype: dtype)
    }

    /// The gated cell on z = [h; c] ([B, 2w, T]) given the injected pre-activations u ([B, 4w, T])
    /// and the history [h; c] of the position before the window ([B, 2w, 1]).
    func cell(_ z: Tensor, _ u: Tensor, history: Tensor) -> Tensor {
        let w = configuration.stateWidth
        let (h, c) = (z.narrow(1, start: 0, length: w), z.narrow(1, start: w, length: w))
        let (pastH, pastC) = (history.narrow(1, start: 0, length: w), history.narrow(1, start: w, length: w))
        let a = u + convolution(cellDropout(Tensor.concat([pastH, h], axis: 2)))
        let gates = a.chunked(4, axis: 1)
        let t = c.shape[2]
        // c₋₁: the cell state one step earlier in time, the history's at the first step.
        let previous = t == 1 ? pastC : Tensor.concat([pastC, c.narrow(2, start: 0, length: t - 1)], axis: 2)
        let cNew = gates[1].sigmoid() * previous + gates[0].sigmoid() * gates[3].tanh()
        let hNew = gates[2].sigmoid() * cNew.tanh()
        return Tensor.concat([hNew, cNew], axis: 1)
    }

    /// Embeds tokens [B, T] → [B, T, e], dropping whole words from the matrix in training.
    func embed(_ tokens: Tensor) -> Tensor {
        let p = configuration.embeddingDropout
        guard training && p > 0 else { return embedding(tokens) }
        let mask = dropoutMask([embedding.count, 1], p: p, dtype: embedding.weight.dtype, generator: nil)
        return (embedding.weight * mask).indexSelect(axis: 0, tokens.flattened())
            .reshaped(tokens.shape + [embedding.dimension])
    }

    /// Recomputes both convolutions' weights from (g, v), with DropConnect on the older tap of v in
    /// training (the reference's `WeightDrop(temporal=True)` on `weight_v`).
    func refreshWeights() {
        for layer in [injection, convolution] {
            let p = configuration.weightDropout
            guard training && p > 0 else { layer.reset(); continue }
            let v = layer.v, k = v.shape[2]
            let older = v.narrow(2, start: 0, length: k - 1)
            let dropped = older * dropoutMask(older.shape, p: p, dtype: v.dtype, generator: nil)
            layer.reset(direction: Tensor.concat([dropped, v.narrow(2, start: k - 1, length: 1)], axis: 2))
        }
    }

    /// The equilibrium of tokens [B, T] after `history` ([B, 2w, 1]; zeros when nil): the output
    /// channels of h ([B, T, nout]) and the history for the next window (detached).
    public func hidden(_ tokens: Tensor, history: Tensor? = nil) throws(DEQError) -> (output: Tensor, history: Tensor) {
        guard tokens.rank == 2 else { fail("DEQTrellisNetLM expects tokens [batch, time], got \(tokens.shape)") }
        let (b, t) = (tokens.shape[0], tokens.shape[1])
        let w = configuration.stateWidth
        let past = history ?? zeroHistory(batch: b)
        guard past.shape == [b, 2 * w, 1] else {
            fail("DEQTrellisNetLM: the history must be [\(b), \(2 * w), 1], got \(past.shape); start from initialState(batch:)")
        }
        refreshWeights()
        let e = inputDropout(embed(tokens)).permuted(0, 2, 1)          // [B, e, T]
        let u = injection(e)
        cellDropout.resetMask()
        let z0 = Tensor.zeros([b, 2 * w, t], dtype: u.dtype)
        let z = try deq({ [unowned self] z, u in self.cell(z, u, history: past) }, input: u, initial: z0)
        let out = configuration.outputWidth
        return (z.narrow(1, start: w - out, length: out).permuted(0, 2, 1), z.narrow(2, start: t - 1, length: 1).detached())
    }

    /// Logits [rows, vocabulary] of output rows [rows, nout].
    func decode(_ rows: Tensor) -> Tensor {
        configuration.tied ? rows.matmul(embedding.weight.T) + decoder.bias! : decoder(rows)
    }

    /// Mean cross-entropy of `targets` [B, T] given `tokens` [B, T] after `history`.
    public func loss(_ tokens: Tensor, targets: Tensor, history: Tensor? = nil) throws(DEQError) -> Tensor {
        let h = outputDropout(try hidden(tokens, history: history).output)
        let logits = decode(h.reshaped([-1, configuration.outputWidth]))
        return crossEntropy(logits, targets.reshaped([-1]))
    }
}
