import Tensors

/// The multi-head attention of Sukhbaatar et al.'s sequential Transformer (the adaptive-span and
/// all-attention papers): each query attends to the `span` positions before it — the cached
/// hidden states of earlier blocks and the earlier positions of its own block, never itself —
/// with content scores plus learned relative position embeddings for keys, an optional adaptive
/// span per head that also trims the keys before the product, and optional persistent memory
/// vectors (all-attention) that share the softmax.
///
/// Names and layouts follow the reference `MultiHeadSeqAttention` (`proj_query`, `proj_key`,
/// `proj_val`, `proj_out`, no biases; `adaptive_span._mask.current_val`;
/// `persistent_memory.key` [heads, head, N] and `.val` [heads, N, head]).
///
/// ```swift
/// let attn = SequentialAttention(256, heads: 4, span: 1024, adaptiveSpan: .init(ramp: 32))
/// let y = attn(h, context: Tensor.concat([cache, h], axis: 1), keyPositions: pe)   // [B, M, 256]
/// ```
public final class SequentialAttention: Module {
    public struct AdaptiveSpanSettings: Sendable, Equatable {
        /// The length of the soft ramp (the reference's `adapt_span_ramp`).
        public var ramp: Int
        /// The initial span ratio z (`adapt_span_init`).
        public var initialRatio: Double
        /// Whether the cache shrinks with the span (`adapt_span_cache`).
        public var adaptsCache: Bool
        public init(ramp: Int = 32, initialRatio: Double = 0, adaptsCache: Bool = true) {
            self.ramp = ramp
            self.initialRatio = initialRatio
            self.adaptsCache = adaptsCache
        }
    }

    public let modelSize: Int
    public let heads: Int
    public let span: Int
    public let proj_query: Linear
    public let proj_key: Linear
    public let proj_val: Linear
    public let proj_out: Linear
    /// The learned span per head; nil for a fixed span.
    public let adaptiveSpan: AdaptiveSpanMask?
    public let adaptsCache: Bool
    /// All-attention persistent vectors: keys [heads, head, N] and values [heads, N, head].
    public var persistentKeys: Tensor?
    public var persistentValues: Tensor?
    public let dropout: Dropout

    public init(_ modelSize: Int, heads: Int, span: Int, dropout: Double = 0,
                adaptiveSpan: AdaptiveSpanSettings? = nil, persistentMemory: Int = 0, dtype: DType = .float32) {
        guard heads > 0, modelSize % heads == 0, span > 0 else {
            fail("SequentialAttention needs a model size divisible by heads and a positive span, got \(modelSize), \(heads) heads, span \(span)")
        }
        self.modelSize = modelSize
        self.heads = heads
        self.span = span
        proj_query = Linear(modelSize, modelSize, bias: false, dtype: dtype)
        proj_out = Linear(modelSize, modelSize, bias: false, dtype: dtype)
        proj_val = Linear(modelSize, modelSize, bias: false, dtype: dtype)
        proj_key = Linear(modelSize, modelSize, bias: false, dtype: dtype)
        self.adaptiveSpan = adaptiveSpan.map {
            AdaptiveSpanMask(heads: heads, maxSpan: span, ramp: $0.ramp, initial: $0.initialRatio, dtype: dtype)
        }
        adaptsCache = adaptiveSpan?.adaptsCache ?? false
        let d = modelSize / heads
        if persistentMemory > 0 {
            // The reference's scale: N(0, 1/d) keys and N(0, 1/N) values, rescaled by √d and √N in use.
            persistentKeys = Tensor.randn([heads, d, persistentMemory], std: 1 / Double(d).squareRoot(), dtype: dtype).requiringGrad()
            persistentValues = Tensor.randn([heads, persistentMemory, d], std: 1 / Double(persistentMemory).squareRoot(), dtype: dtype).requiringGrad()
        }
        self.dropout = Dropout(dropout)
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("proj_query", proj_query)
        v.child("proj_out", proj_out)
        v.child("proj_val", proj_val)
        v.child("proj_key", proj_key)
        if let adaptiveSpan { v.child("attn.adaptive_span._mask", adaptiveSpan) }
        v.parameter("attn.persistent_memory.key", &persistentKeys)
        v.parameter("attn.persistent_memory.val", &persistentValues)
        v.child("attn.dropout", dropout)
    }

    public var headSize: Int { modelSize / heads }

    /// Keys that the learned spans cannot reach, rounded down to a multiple of 64 as the reference
    /// does ("too fine granularity might be bad for the memory management"); 0 for a fixed span.
    public var trimLength: Int {
        guard let adaptiveSpan else { return 0 }
        let trim = min(span - 1, span - adaptiveSpan.currentMaxSize())
        return trim / 64 * 64
    }

    /// How many earlier hidden states the next block needs: the span, or with an adaptive cache
    /// the untrimmed part plus 64 positions of slack for spans that grow.
    public var cacheSize: Int {
        adaptsCache ? min(span, span - trimLength + 64) : span
    }

    /// Attends from the block `h` [B, M, d] over `context` = [cache; h] [B, C + M, d] with the key
    /// position embeddings `keyPositions` [1, head, span] (shared by the model's layers).
    public func callAsFunction(_ h: Tensor, context: Tensor, keyPositions: Tensor) -> Tensor {
        let (b, m) = (h.shape[0], h.shape[1])
        let cache = context.shape[1] - m
        let trim = trimLength
        let width = span - trim                        // keys each query sees after trimming
        var keys = splitHeads(proj_key(context))       // [B, H, C + M, d]
        var values = splitHeads(proj_val(context))
        let query = splitHeads(proj_query(h))          // [B, H, M, d]
        // Keep the last width + M − 1 keys... as the reference: drop the unreachable cache, or pad
        // a cache that is too short (evaluation resumed after the span grew) with zero keys.
        let surplus = trim - (span - cache)
        if surplus > 0 {
            keys = keys.sliced(2, surplus)
            values = values.sliced(2, surplus)
        } else if surplus < 0 {
            let zeros = Tensor.zeros([b, heads, -surplus, headSize], dtype: keys.dtype)
            keys = Tensor.concat([zeros, keys], axis: 2)
            values = Tensor.concat([zeros, values], axis: 2)
        }
        let positions = trim > 0 ? keyPositions.sliced(2, trim) : keyPositions   // [1, d, width]
        // Content scores [B, H, M, width + M] → per query the `width` keys before it.
        let content = SequentialAttention.unskew(query.matmul(keys.transposed(-1, -2)))
        var scores = content + query.matmul(positions.unsqueezed(0))          // [B, H, M, width]
        let scale = 1 / Double(headSize).squareRoot()
        var persistentOut: Tensor?
        var probs: Tensor
        if let pk = persistentKeys, let pv = persistentValues {
            let n = pk.shape[2]
            let persistentScores = query.matmul(pk.unsqueezed(0) * Double(headSize).squareRoot())   // [B, H, M, N]
            let joint = (Tensor.concat([scores, persistentScores], axis: -1) * scale).softmax(axis: -1)
            var contextProbs = joint.sliced(-1, 0, width)
            var memoryProbs = joint.sliced(-1, width)
            if let adaptiveSpan {
                // Mask the context part, then renormalise both parts jointly.
                let masked = contextProbs * adaptiveSpan.referenceMask(width: width)
                let all = Tensor.concat([masked, memoryProbs], axis: -1)
                let normalised = all / (all.sum(axis: -1, keepDim: true) + 1e-8)
                contextProbs = normalised.sliced(-1, 0, width)
                memoryProbs = normalised.sliced(-1, width)
            }
            persistentOut = dropout(memoryProbs).matmul(pv.unsqueezed(0) * Double(n).squareRoot())
            probs = contextProbs
        } else {
            scores = scores * scale
            probs = scores.softmax(axis: -1)
            if let adaptiveSpan {
                let masked = probs * adaptiveSpan.referenceMask(width: width)
                probs = masked / (masked.sum(axis: -1, keepDim: true) + 1e-8)
            }
        }
        probs = dropout(probs)
        var out = SequentialAttention.skew(probs).matmul(values)             // [B, H, M, d]
        if let persistentOut { out = out + persistentOut }
        return proj_out(out.permuted(0, 2, 1, 3).reshaped([b, m, modelSize]))
    }

    /// [B, L, d·H] → [B, H, L, d]
    func splitHeads(_ x: Tensor) -> Tensor {
        x.reshaped([x.shape[0], x.shape[1], heads, headSize]).permuted(0, 2, 1, 3)
    }

    /// [.., M, L + M] (query i against keys 0..<L+M) → [.., M, L] (query i against keys i..<i+L).
    public static func unskew(_ x: Tensor) -> Tensor {
        let lead = Array(x.shape.dropLast(2))
        let (m, total) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
        let flat = x.reshaped(lead + [m * total])
        let padded = Tensor.concat([flat, Tensor.zeros(lead + [m], dtype: x.dtype)], axis: -1)
        return padded.reshaped(lead + [m, total + 1]).sliced(-1, 0, total - m)
    }

    /// The inverse placement: [.., M, L] → [.., M, L + M], row i shifted right by i, zeros elsewhere.
    public static func skew(_ x: Tensor) -> Tensor {
        let lead = Array(x.shape.dropLast(2))
        let (m, l) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
        let padded = Tensor.concat([x, Tensor.zeros(lead + [m, m + 1], dtype: x.dtype)], axis: -1)   // [.., M, L+M+1]
        let flat = padded.reshaped(lead + [m * (l + m + 1)]).sliced(-1, 0, m * (l + m))
        return flat.reshaped(lead + [m, l + m])
    }
}
