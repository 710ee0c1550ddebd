import Models
import NN
import Solvers
import Tensors

extension SolverTestProblems {
    /// The fixed point z = f(z, x) of a DEQ-Transformer block (issue 6's last suite problem), in
    /// float64: a freshly initialised `DEQTransformerLM` (fixed seed, no dropout, no memory), x the
    /// injected embedding of random tokens, f its weight-tied block. Lives in the CLI because
    /// `Solvers` must not depend on `Models`.
    ///
    /// The solver sees samples as rows: z [B, T·d] is viewed as [B, T, d] for f, so per-sample
    /// stopping is per sequence (attention mixes positions within a sequence, never across).
    /// `data` holds everything a peer needs to evaluate the same map — the effective weights
    /// (weight norm applied), x, the relative encodings R, the layer-norm epsilon — plus check
    /// values f(x0) and f(z) at a random z.
    static func deqTransformer(vocabulary: Int = 1000, modelSize d: Int = 64, heads: Int = 4, feedForward: Int = 256,
                               batch: Int = 4, length t: Int = 32, seed: UInt64 = 17) -> SolverTestProblem {
        // Parameters are drawn from the global generator: seed it for this model only.
        let saved = RandomGenerator.global
        RandomGenerator.manualSeed(seed)
        let config = DEQTransformerLM.Configuration(vocabulary: vocabulary, modelSize: d, heads: heads,
                                                    feedForward: feedForward, memoryLength: 0, dropout: 0)
        let model = DEQTransformerLM(config, dtype: .float64)
        RandomGenerator.global = saved
        model.eval()
        model.freeze()   // the solver differentiates with respect to z only

        let rng = RandomGenerator(seed: seed + 1)
        let tokens = Tensor.randint(0, vocabulary, [batch, t], generator: rng)
        let x = withoutGradients { model.injection(model.embedding(tokens)) }
        let f = model.equilibriumMap(memory: nil)
        let map: (Tensor) -> Tensor = { z in
            f(z.reshaped([z.shape[0], t, d]), x).reshaped([z.shape[0], t * d])
        }
        let x0 = Tensor.zeros([batch, t * d], dtype: .float64)

        let attention = model.attention
        guard let encoding = attention.encoding, let rNet = attention.positionProjection,
              let rw = attention.contentBias, let rr = attention.positionBias else {
            fatalError("deq-transformer problem: the model's attention must use relative positions")
        }
        // The encodings of distances T−1, ..., 0, exactly as the attention builds them without memory.
        let r = encoding(positions: Tensor.arange(Double(t - 1), -1, step: -1, dtype: .float64))
        let zCheck = Tensor.randn([batch, t * d], std: 1, dtype: .float64, generator: rng)
        let (fx0, fz) = withoutGradients { (map(x0), map(zCheck)) }
        model.feedForwardIn.reset()
        model.feedForwardOut.reset()
        func vector(_ t: Tensor?, _ name: String) -> Tensor {
            guard let t else { fatalError("deq-transformer problem: the model has no \(name)") }
            return t
        }
        let data: [(String, Tensor)] = [
            ("x", x), ("R", r),
            ("qkv_weight", attention.qkv.weight), ("qkv_bias", vector(attention.qkv.bias, "qkv bias")),
            ("out_weight", attention.out.weight), ("out_bias", vector(attention.out.bias, "output bias")),
            ("r_net_weight", rNet.weight), ("r_w_bias", rw), ("r_r_bias", rr),
            ("norm1_weight", vector(model.norm1.weight, "norm1 weight")), ("norm1_bias", vector(model.norm1.bias, "norm1 bias")),
            ("norm2_weight", vector(model.norm2.weight, "norm2 weight")), ("norm2_bias", vector(model.norm2.bias, "norm2 bias")),
            ("ff1_weight", model.feedForwardIn.inner.weight), ("ff1_bias", vector(model.feedForwardIn.inner.bias, "ff1 bias")),
            ("ff2_weight", model.feedForwardOut.inner.weight), ("ff2_bias", vector(model.feedForwardOut.inner.bias, "ff2 bias")),
            ("layer_norm_eps", Tensor([model.norm1.eps])),
            ("check_f_x0", fx0), ("check_z", zCheck), ("check_f_z", fz),
        ].map { ($0.0, $0.1.detached()) }
        return SolverTestProblem(name: "deq-transformer", x0: x0, map: map, isFixedPoint: true, jacobianGuess: -1, data: data)
    }

    /// The classic suite plus the DEQ-Transformer block.
    static func suiteWithModels() -> [SolverTestProblem] { suite() + [deqTransformer()] }
}
