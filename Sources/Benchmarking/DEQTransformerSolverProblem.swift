import Models
import NN
import Solvers
import DEQ
import Tensors

extension SolverTestProblems {
    /// The fixed point z = f(z, x) of a DEQ-Transformer block (issue 6's last suite problem), in
    /// float64: a freshly initialised `DEQTransformerLM` (fixed seed, no dropout, no memory), x the
    /// injected embedding of random tokens, f its weight-tied block. Lives here, not beside the
    /// other problems in `SolverTestProblems`' own file, only to keep the model problem apart.
    ///
    /// The solver sees samples as rows: z [B, T·d] is viewed as [B, T, d] for f, so per-sample
    /// stopping is per sequence (attention mixes positions within a sequence, never across).
    /// `data` holds everything a peer needs to evaluate the same map — the effective weights
    /// (weight norm applied), the injection u, the relative encodings R, the layer-norm epsilon — plus check
    /// values f(x0) and f(z) at a random z.
    public static func deqTransformer(vocabulary: Int = 1000, modelSize d: Int = 64, heads: Int = 4, feedForward: Int = 256,
                               batch: Int = 4, length t: Int = 32, seed: UInt64 = 17) -> SolverTestProblem {
        // Parameters are drawn from the global generator: seed it for this model only.
        let saved = RandomGenerator.global.state
        RandomGenerator.manualSeed(seed)
        let config = DEQTransformerLM.Configuration(vocabulary: vocabulary, modelSize: d, heads: heads,
                                                    feedForward: feedForward, memoryLength: 0, dropout: 0)
        let model = DEQTransformerLM(config, dtype: .float64)
        RandomGenerator.global.state = saved
        model.eval()
        model.freeze()   // the solver differentiates with respect to z only

        let rng = RandomGenerator(seed: seed + 1)
        let tokens = Tensor.randint(0, vocabulary, [batch, t], generator: rng)
        let u = withoutGradients { model.injections(tokens) }
        let f = model.equilibriumMap(memory: nil)
        let map: (Tensor) -> Tensor = { z in
            f(z.reshaped([z.shape[0], t, d]), u).reshaped([z.shape[0], t * d])
        }
        let x0 = Tensor.zeros([batch, t * d], dtype: .float64)

        let cell = model.cell
        // The encodings of distances T−1, ..., 0, exactly as the block builds them without memory.
        let r = cell.encoding(positions: Tensor.arange(Double(t - 1), -1, step: -1, dtype: .float64))
        let zCheck = Tensor.randn([batch, t * d], std: 1, dtype: .float64, generator: rng)
        let (fx0, fz) = withoutGradients { (map(x0), map(zCheck)) }
        let qkv = DEQTransformerCell.effective(cell.qkv), out = DEQTransformerCell.effective(cell.out)
        let ff1 = DEQTransformerCell.effective(cell.feedForwardIn), ff2 = DEQTransformerCell.effective(cell.feedForwardOut)
        func vector(_ t: Tensor?, _ name: String) -> Tensor {
            guard let t else { fatalError("deq-transformer problem: the model has no \(name)") }
            return t
        }
        let data: [(String, Tensor)] = [
            ("u", u), ("R", r),
            ("qkv_weight", qkv.weight),
            ("out_weight", out.weight), ("out_bias", vector(out.bias, "output bias")),
            ("r_net_weight", DEQTransformerCell.effective(cell.positionProjection).weight),
            ("r_w_bias", cell.contentBias), ("r_r_bias", cell.positionBias),
            ("ff1_weight", ff1.weight), ("ff1_bias", vector(ff1.bias, "ff1 bias")),
            ("ff2_weight", ff2.weight), ("ff2_bias", vector(ff2.bias, "ff2 bias")),
            ("layer_norm_eps", Tensor([cell.norm.eps])),
            ("check_f_x0", fx0), ("check_z", zCheck), ("check_f_z", fz),
        ].map { ($0.0, $0.1.detached()) }
        return SolverTestProblem(name: "deq-transformer", x0: x0, map: map, isFixedPoint: true, jacobianGuess: -1, data: data)
    }

    /// The classic suite plus the DEQ-Transformer block.
    public static func suiteWithModels() -> [SolverTestProblem] { suite() + [deqTransformer()] }
}
