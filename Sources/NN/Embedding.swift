import Tensors

/// A lookup table: int64 token ids of any shape → their rows, shape + [dimension].
///
/// ```swift
/// let emb = Embedding(33278, 200); let x = emb(tokens)   // [T, B] → [T, B, 200]
/// ```
public final class Embedding: Layer {
    public var weight: Tensor

    public init(_ count: Int, _ dimension: Int, weightInit: Initializer = .normal(std: 1), dtype: DType = .float32) {
        weight = weightInit.make([count, dimension], dtype: dtype)
    }

    public func visit(_ v: inout ModuleVisitor) { v.parameter("weight", &weight) }

    public var count: Int { weight.shape[0] }
    public var dimension: Int { weight.shape[1] }

    public func callAsFunction(_ tokens: Tensor) -> Tensor {
        guard tokens.dtype == .int64 else {
            fail("Embedding expects int64 token ids, got \(tokens.dtype); convert with .to(.int64)")
        }
        return weight.indexSelect(axis: 0, tokens.flattened()).reshaped(tokens.shape + [dimension])
    }
}
