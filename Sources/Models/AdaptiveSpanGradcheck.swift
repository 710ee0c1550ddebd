import NN
import Tensors

extension AdaptiveSpanTransformer {
    /// A tiny float64 instance checked against central differences, span ratios included: span
    /// 72 with learned spans of about 4 positions, so 64 keys are trimmed and the masks' ramps are
    /// live; two blocks of 3 tokens, the first over a random cache, the second over the caches the first leaves. With `persistentMemory` > 0 the layers
    /// are all-attention (4 persistent vectors, no feed-forward).
    public static func gradcheckTiny(persistentMemory: Int = 0, tolerance: Double = 1e-6) throws -> ModelGradcheckReport {
        RandomGenerator.manualSeed(11)
        var c = Configuration(vocabularySize: 7)
        c.hiddenSize = 4
        c.innerHiddenSize = 6
        c.layers = 2
        c.heads = 2
        c.span = 72
        c.ramp = 4
        c.spanLossWeight = 1e-2
        c.persistentMemory = persistentMemory
        let model = AdaptiveSpanTransformer(c, dtype: .float64)
        // Ratios whose spans (z·72 = 3.2–3.6) sit inside the ramp, away from the clamp's kinks
        // and from the integer steps of the trimming.
        for (l, layer) in model.layers.enumerated() {
            layer.attn.adaptiveSpan!.ratio.assign(Tensor([0.045 + 0.005 * Double(l), 0.05], shape: [2, 1, 1]))
        }
        let caches = model.layers.map { Tensor.randn([2, $0.attn.cacheSize, 4], std: 0.5, dtype: .float64) }
        let blocks = (0..<4).map { _ in Tensor.randint(0, 7, [2, 3]) }
        // The caches a block leaves are detached (truncated backpropagation, as in the reference),
        // so the second block starts from the first block's caches taken once, not re-derived
        // from the perturbed weights.
        let second = withoutGradients { model.forward(blocks[0], caches: caches).caches }
        return try gradcheck(model, tolerance: tolerance) {
            var total = Tensor(0, dtype: .float64)
            for (b, state) in [caches, second].enumerated() {
                let (logits, _) = model.forward(blocks[2 * b], caches: state)
                let loss = nllLoss(logits.reshaped([-1, 7]).logSoftmax(axis: -1), blocks[2 * b + 1].flattened())
                total = total + loss + model.spanLoss()!
            }
            return total
        }
    }
}
