import NN
import Tensors

/// The DEQ-Transformer's weight-tied block exactly as Bai et al. define it
/// (`RelPartialLearnableDecoderLayer` in locuslab/deq's `DEQ-Sequence/models/deq_transformer.py`):
///
///     [q; k; v] = W_qkv [z_mem; z] + [u_mem; u]            (no bias: u is the input injection)
///     a = Drop(W_o · Attn(q, k, v; relative positions) + b_o)
///     h = LN(a + z),   f(z) = LN(h + Drop₂(W₂ Drop₁(relu(W₁ h + b₁)) + b₂))
///
/// with layer norms without scale or shift, Transformer-XL relative attention (u/v biases
/// `r_w_bias`/`r_r_bias`, a projection `r_net` of sinusoidal encodings, the pad-and-reshape shift,
/// a causal mask and a local window of `localSize` keys), every projection (qkv, r_net, o, FF)
/// optionally weight-normalised, and with `preNorm` Bai et al.'s pre-norm variant (LN on the
/// attention input and the FF input, no LN on the outputs).
///
/// Dropout: `r_net`'s input per feature, the attention probabilities element by element, the
/// attention output per (sequence, feature), and both FF activations per (sequence, feature); every
/// mask is held across solver iterations until ``resetMasks()``, as the reference's.
public final class DEQTransformerCell: Module {
    public let modelSize: Int
    public let heads: Int
    public let preNorm: Bool
    /// Keys further back than this many positions are masked (the reference's `local_size`; 0 there means 1000).
    public let localSize: Int
    /// qkv_net [3d, d] without bias, r_net [d, d] without bias, o_net [d, d]; FF [d_inner, d] and [d, d_inner].
    public let qkv: any Layer
    public let positionProjection: any Layer
    public let out: any Layer
    public let feedForwardIn: any Layer
    public let feedForwardOut: any Layer
    public var contentBias: Tensor
    public var positionBias: Tensor
    public let encoding: SinusoidalPositionalEncoding
    public let norm: LayerNorm
    public let positionDropout: VariationalDropout
    public let attentionDropout: VariationalDropout
    public let attentionOutputDropout: VariationalDropout
    public let feedForwardDropout1: VariationalDropout
    public let feedForwardDropout2: VariationalDropout

    public init(modelSize d: Int, heads: Int, feedForward: Int, dropout: Double, attentionDropout dropatt: Double = 0,
                weightNormed: Bool = true, preNorm: Bool = false, localSize: Int = 1000, dtype: DType = .float32) {
        modelSize = d
        self.heads = heads
        self.preNorm = preNorm
        self.localSize = localSize
        // The reference's training script re-initialises the biases to zero and r_w_bias/r_r_bias
        // from N(0, 0.01); its weight-normalised weights keep PyTorch's default initialisation
        // (the script's re-initialisation writes the derived weight, not g and v).
        func projection(_ i: Int, _ o: Int, bias: Bool) -> any Layer {
            let linear = Linear(i, o, bias: bias, dtype: dtype)
            if bias { linear.bias = Initializer.zeros.make([o], dtype: dtype) }
            return weightNormed ? WeightNorm(linear) : linear
        }
        qkv = projection(d, 3 * d, bias: false)
        positionProjection = projection(d, d, bias: false)
        out = projection(d, d, bias: true)
        feedForwardIn = projection(d, feedForward, bias: true)
        feedForwardOut = projection(feedForward, d, bias: true)
        contentBias = Initializer.normal(std: 0.01).make([heads, d / heads], dtype: dtype)
        positionBias = Initializer.normal(std: 0.01).make([heads, d / heads], dtype: dtype)
        encoding = SinusoidalPositionalEncoding(d, dtype: dtype)
        norm = LayerNorm(d, affine: false, dtype: dtype)
        // Encodings are [K, d]: one mask entry per feature, shared over positions.
        positionDropout = VariationalDropout(dropout, timeAxis: 0, holdsMask: true)
        attentionDropout = VariationalDropout(dropatt, holdsMask: true, elementwise: true)
        attentionOutputDropout = VariationalDropout(dropout, timeAxis: 1, holdsMask: true)
        feedForwardDropout1 = VariationalDropout(dropout, timeAxis: 1, holdsMask: true)
        feedForwardDropout2 = VariationalDropout(dropout, timeAxis: 1, holdsMask: true)
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("qkv_net", qkv)
        v.child("r_net", positionProjection)
        v.child("o_net", out)
        v.parameter("r_w_bias", &contentBias)
        v.parameter("r_r_bias", &positionBias)
        v.child("pos_emb", encoding)
        v.child("ff1_net", feedForwardIn)
        v.child("ff2_net", feedForwardOut)
        v.child("pos_drop", positionDropout)
        v.child("dropatt", attentionDropout)
        v.child("drop", attentionOutputDropout)
        v.child("drop1", feedForwardDropout1)
        v.child("drop2", feedForwardDropout2)
    }

    /// Draws fresh dropout masks at the next call (once per segment, before the solve).
    public func resetMasks() {
        for d in [positionDropout, attentionDropout, attentionOutputDropout, feedForwardDropout1, feedForwardDropout2] {
            d.resetMask()
        }
    }

    var headSize: Int { modelSize / heads }

    /// [B, L, d] → [B, H, L, d/H]
    func splitHeads(_ x: Tensor) -> Tensor {
        x.reshaped([x.shape[0], x.shape[1], heads, headSize]).permuted(0, 2, 1, 3)
    }

    /// f(z) for z [B, T, d], the injections [B, M + T, 3d] of [memory; segment] and the memory's
    /// equilibrium states [B, M, d] (nil for none).
    public func callAsFunction(_ z: Tensor, injection u: Tensor, memory: Tensor?) -> Tensor {
        let (b, t) = (z.shape[0], z.shape[1])
        let m = memory?.shape[1] ?? 0
        let k = t + m
        var context = memory.map { Tensor.concat([$0, z], axis: 1) } ?? z
        if preNorm { context = norm(context) }
        let parts = (qkv(context) + u).chunked(3, axis: 2)
        // Heads stay in the [B, T, H·dh] layout throughout: the biases are added before the
        // split, the head-split views reach BLAS in two strided batch levels, and the attended
        // values are written [B, T, H, dh]-ordered, so no head permute is ever copied (they were
        // 5% of a step; their gradients take the operands' layouts too).
        let q = parts[0].sliced(1, m)
        let keys = splitHeads(parts[1]), values = splitHeads(parts[2])
        let r = positionDropout(encoding(positions: Tensor.arange(Double(k - 1), -1, step: -1, dtype: z.dtype)))
        let rk = positionProjection(r).reshaped([k, heads, headSize]).permuted(1, 2, 0)        // [H, dh, K]
        let ac = splitHeads(q + contentBias.reshaped([1, 1, modelSize])).matmul(keys.transposed(-1, -2))
        let bd = MultiHeadAttention.relativeShift(splitHeads(q + positionBias.reshaped([1, 1, modelSize])).matmul(rk.unsqueezed(0)))
        let probabilities = (ac + bd).scaledMaskedSoftmax(scale: 1 / Double(headSize).squareRoot(),
                                                          mask: DEQTransformerCell.mask(queries: t, memory: m, localSize: localSize))
        let attended = attentionDropout(probabilities).matmul(values, memoryOrder: [0, 2, 1, 3])
        let a = attentionOutputDropout(out(attended.permuted(0, 2, 1, 3).reshaped([b, t, modelSize])))
        let h = preNorm ? a + z : norm(a + z)
        let ffInput = preNorm ? norm(h) : h
        let y = feedForwardDropout2(feedForwardOut(feedForwardDropout1(feedForwardIn(ffInput).relu()))) + ffInput
        return preNorm ? y : norm(y)
    }

    /// The weight and bias a projection of the block applies (weight norm applied).
    public static func effective(_ layer: any Layer) -> (weight: Tensor, bias: Tensor?) {
        if let normed = layer as? WeightNorm<Linear> {
            normed.reset()
            return (normed.inner.weight, normed.inner.bias)
        }
        guard let linear = layer as? Linear else { fatalError("DEQTransformerCell: projections are Linear layers") }
        return (linear.weight, linear.bias)
    }

    /// True where query i (key position m + i) must not see key j: j > m + i (the future), or
    /// m + i − j ≥ localSize (outside the local window).
    public static func mask(queries t: Int, memory m: Int, localSize: Int) -> Tensor {
        let causal = MultiHeadAttention.causalMask(queries: t, memory: m)
        guard t + m > localSize else { return causal }
        let i = Tensor.arange(t).reshaped([t, 1]) + Double(m - localSize)
        let j = Tensor.arange(t + m).reshaped([1, t + m])
        return causal.or(j .<= i)
    }
}
