import Tensors

/// Broyden's inverse-Jacobian estimate H = c⁻¹ I + U Vᵀ of a root problem g(x) = 0, per sample,
/// as a solve leaves it. For a fixed-point problem g(z) = f(z) − z (c = −1) it approximates
/// (J_f − I)⁻¹, which lets a DEQ's backward pass reuse it instead of solving again.
public struct LowRankInverse {
    /// c⁻¹, the inverse of the initial Jacobian guess.
    public var inverseGuess: Double
    /// Rank-one factors, [batch, count, width] each (rows are updates).
    public var u: Tensor
    public var v: Tensor

    /// Hᵀ y for a batch y shaped [batch, ...] (flattened per sample internally).
    public func applyTransposed(_ y: Tensor) -> Tensor {
        let shape = y.shape
        let flat = y.reshaped([shape[0], -1])
        guard u.shape[1] > 0 else { return y * inverseGuess }
        // Hᵀ y = c⁻¹ y + V (Uᵀ y): coefficients Uᵀy per update, then combine V's rows.
        let coefficients = u.matmul(flat.unsqueezed(-1))                 // [B, m, 1]
        let correction = (v * coefficients).sum(axis: 1)                // [B, n]
        return (flat * inverseGuess + correction).reshaped(shape)
    }

    /// −Hᵀ y: for a fixed-point problem this is (I − J_f)⁻ᵀ y, the DEQ adjoint of y.
    public func applyNegatedTranspose(_ y: Tensor) -> Tensor { -applyTransposed(y) }
}
