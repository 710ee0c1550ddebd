import Tensors

/// The feed-forward block's nonlinearity, as PyTorch's `activation="relu" | "gelu"` (exact GELU).
public enum FeedForwardActivation: String, CaseIterable, Sendable {
    case relu, gelu

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: return x.relu()
        case .gelu: return x.gelu()
        }
    }
}

/// A Transformer encoder layer with ReZero residuals and no LayerNorm (Bachlechner et al., the
/// `RZTXEncoderLayer` of `rezero.transformer`):
/// x ← x + α·Dropout(SelfAttn(x)); x ← x + α·Dropout(FF(x)), where FF is
/// linear2(Dropout(act(linear1(x)))) and α is one learned weight per layer, shared by both
/// branches and starting at 0, so a fresh stack is the identity. Batch first: [B, T, d].
/// Parameter names follow the reference (`self_attn`, `linear1`, `linear2`, `resweight` [1]),
/// except that the attention's input projection is `self_attn.qkv` (PyTorch: `in_proj_weight`/`_bias`).
///
/// ```swift
/// let layer = RZTXEncoderLayer(512, heads: 8); let y = layer(x, mask: causal, keyPaddingMask: nil)
/// ```
public final class RZTXEncoderLayer: EncoderLayer {
    public let attention: MultiHeadAttention
    public let linear1: Linear, linear2: Linear
    public let dropout: Dropout, dropout1: Dropout, dropout2: Dropout
    public let activation: FeedForwardActivation
    /// The residual weight α, shape [1] as in the reference.
    public var resweight: Tensor

    public init(_ modelSize: Int, heads: Int, feedForward: Int = 2048, dropout: Double = 0.1,
                activation: FeedForwardActivation = .relu, causal: Bool = false, dtype: DType = .float32) {
        attention = MultiHeadAttention(modelSize, heads: heads, causal: causal, dropout: dropout, dtype: dtype)
        linear1 = Linear(modelSize, feedForward, dtype: dtype)
        linear2 = Linear(feedForward, modelSize, dtype: dtype)
        self.dropout = Dropout(dropout)
        dropout1 = Dropout(dropout)
        dropout2 = Dropout(dropout)
        self.activation = activation
        resweight = Tensor.zeros([1], dtype: dtype).requiringGrad()
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("self_attn", attention)
        v.child("linear1", linear1)
        v.child("dropout", dropout)
        v.child("linear2", linear2)
        v.child("dropout1", dropout1)
        v.child("dropout2", dropout2)
        v.parameter("resweight", &resweight)
    }

    public func callAsFunction(_ x: Tensor, mask: Tensor?, keyPaddingMask: Tensor?) -> Tensor {
        let h = x + dropout1(attention(x, context: nil, mask: mask, keyPaddingMask: keyPaddingMask) * resweight)
        return h + dropout2(linear2(dropout(activation(linear1(h)))) * resweight)
    }
}

/// A Transformer decoder layer with ReZero residuals and no LayerNorm (the `RZTXDecoderLayer` of
/// `rezero.transformer`): self-attention over the target, attention to the encoder's `memory`, and
/// the feed-forward block, each added as x + α·Dropout(branch) with one α per layer (starts at 0).
/// Names: `self_attn`, `multihead_attn`, `linear1`, `linear2`, `resweight`.
///
/// ```swift
/// let layer = RZTXDecoderLayer(512, heads: 8); let y = layer(tgt, memory: encoded, targetMask: causal)
/// ```
public final class RZTXDecoderLayer: Module {
    public let selfAttention: MultiHeadAttention
    public let crossAttention: MultiHeadAttention
    public let linear1: Linear, linear2: Linear
    public let dropout: Dropout, dropout1: Dropout, dropout2: Dropout, dropout3: Dropout
    public let activation: FeedForwardActivation
    public var resweight: Tensor

    public init(_ modelSize: Int, heads: Int, feedForward: Int = 2048, dropout: Double = 0.1,
                activation: FeedForwardActivation = .relu, dtype: DType = .float32) {
        selfAttention = MultiHeadAttention(modelSize, heads: heads, dropout: dropout, dtype: dtype)
        crossAttention = MultiHeadAttention(modelSize, heads: heads, dropout: dropout, dtype: dtype)
        linear1 = Linear(modelSize, feedForward, dtype: dtype)
        linear2 = Linear(feedForward, modelSize, dtype: dtype)
        self.dropout = Dropout(dropout)
        dropout1 = Dropout(dropout)
        dropout2 = Dropout(dropout)
        dropout3 = Dropout(dropout)
        self.activation = activation
        resweight = Tensor.zeros([1], dtype: dtype).requiringGrad()
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("self_attn", selfAttention)
        v.child("multihead_attn", crossAttention)
        v.child("linear1", linear1)
        v.child("dropout", dropout)
        v.child("linear2", linear2)
        v.child("dropout1", dropout1)
        v.child("dropout2", dropout2)
        v.child("dropout3", dropout3)
        v.parameter("resweight", &resweight)
    }

    /// `target` [B, T, d] attending to itself and to `memory` [B, S, d]; masks as
    /// ``MultiHeadAttention/callAsFunction(_:context:mask:keyPaddingMask:)``.
    public func callAsFunction(_ target: Tensor, memory: Tensor, targetMask: Tensor? = nil, memoryMask: Tensor? = nil,
                               targetKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil) -> Tensor {
        var x = target
        x = x + dropout1(selfAttention(x, context: nil, mask: targetMask, keyPaddingMask: targetKeyPaddingMask)) * resweight
        x = x + dropout2(crossAttention(x, context: memory, mask: memoryMask, keyPaddingMask: memoryKeyPaddingMask)) * resweight
        return x + dropout3(linear2(dropout(activation(linear1(x))))) * resweight
    }
}
