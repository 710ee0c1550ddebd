import Tensors

/// PyTorch's `nn.MultiheadAttention(query, key, value, attn_mask:, key_padding_mask:)` with key and
/// value the same tensor (self-attention, or a decoder attending to an encoder's output), batch
/// first. The queries come from `x` [B, T, d]; keys and values from `context` [B, S, d] (`x` when
/// nil), each through its third of the shared [3d, d] input projection, as PyTorch splits
/// `in_proj_weight`.
///
/// Masks follow PyTorch: `mask` is [T, S] or [B·heads, T, S]; a bool mask is true where a query
/// must not see a key, a floating-point mask is added to the scores (−∞ hides). `keyPaddingMask`
/// is a bool [B, S], true at padded keys. The causal flag still applies to self-attention.
///
/// ```swift
/// let y = attn(x, context: encoderOutput, mask: nil, keyPaddingMask: padding)
/// ```
extension MultiHeadAttention {
    public func callAsFunction(_ x: Tensor, context: Tensor?, mask: Tensor?, keyPaddingMask: Tensor?) -> Tensor {
        if context == nil && mask == nil && keyPaddingMask == nil { return self(x) }
        guard !relative, persistentKeys == nil else {
            fail("MultiHeadAttention: masks and cross-attention are for plain attention, not relative or persistent-memory attention")
        }
        guard x.rank == 3, x.shape[2] == modelSize else {
            fail("MultiHeadAttention(\(modelSize)) expects queries [batch, time, \(modelSize)], got \(x.shape)")
        }
        let (b, t, d) = (x.shape[0], x.shape[1], modelSize)
        let queries: Tensor, keys: Tensor, values: Tensor
        if let context {
            guard context.rank == 3, context.shape[0] == b, context.shape[2] == d else {
                fail("MultiHeadAttention: context must be [\(b), S, \(d)], got \(context.shape)")
            }
            queries = project(x, rows: 0..<d)
            let kv = project(context, rows: d..<(3 * d)).chunked(2, axis: 2)
            (keys, values) = (kv[0], kv[1])
        } else {
            let parts = qkv(x).chunked(3, axis: 2)
            (queries, keys, values) = (parts[0], parts[1], parts[2])
        }
        let s = keys.shape[1]
        var scores = splitHeads(queries).matmul(splitHeads(keys).transposed(-1, -2)) * (1 / Double(headSize).squareRoot())
        if causal && context == nil {
            scores = scores.maskedFill(MultiHeadAttention.causalMask(queries: t, memory: 0), -1e30)
        }
        if let mask { scores = applyAttentionMask(scores, mask, batch: b, queries: t, keys: s) }
        if let keyPaddingMask {
            guard keyPaddingMask.dtype == .bool, keyPaddingMask.shape == [b, s] else {
                fail("MultiHeadAttention: keyPaddingMask must be a bool [\(b), \(s)] tensor, got \(keyPaddingMask.dtype) \(keyPaddingMask.shape)")
            }
            scores = scores.maskedFill(keyPaddingMask.reshaped([b, 1, 1, s]), -1e30)
        }
        let context = attentionDropout(scores.softmax(axis: -1)).matmul(splitHeads(values))   // [B, H, T, dh]
        return out(context.permuted(0, 2, 1, 3).reshaped([b, t, d]))
    }

    /// `x` [B, L, d] through rows `rows` of the input projection (PyTorch's q, k or v slice).
    private func project(_ x: Tensor, rows: Range<Int>) -> Tensor {
        let w = qkv.weight.sliced(0, rows.lowerBound, rows.upperBound)
        let bias = qkv.bias?.sliced(0, rows.lowerBound, rows.upperBound)
        let y = linear(x.reshaped([-1, modelSize]), w, bias)
        return y.reshaped([x.shape[0], x.shape[1], rows.count])
    }

    /// Scores [B, H, T, S] with a PyTorch attention mask applied (bool: hide where true; float: add).
    private func applyAttentionMask(_ scores: Tensor, _ mask: Tensor, batch b: Int, queries t: Int, keys s: Int) -> Tensor {
        let shaped: Tensor
        if mask.shape == [t, s] {
            shaped = mask
        } else if mask.shape == [b * heads, t, s] {
            shaped = mask.reshaped([b, heads, t, s])
        } else {
            fail("MultiHeadAttention: the attention mask must be [\(t), \(s)] or [\(b * heads), \(t), \(s)], got \(mask.shape)")
        }
        if shaped.dtype == .bool { return scores.maskedFill(shaped, -1e30) }
        guard shaped.dtype == scores.dtype else {
            fail("MultiHeadAttention: a float attention mask must have the scores' dtype \(scores.dtype), got \(shaped.dtype)")
        }
        return scores + shaped
    }
}
