import Tensors

/// The adaptive attention span of Sukhbaatar et al. (2019): each head learns a span ratio z ∈ [0, 1],
/// and attention to a key at distance δ is weighted by the soft ramp
/// m(δ) = clamp((R + z·S − δ) / R, 0, 1), S the largest span and R the ramp length; the weighted
/// probabilities are renormalised.
///
/// ```swift
/// let span = AdaptiveSpanMask(heads: 8, maxSpan: 1024, ramp: 32)
/// let p = span(probs, distances: AdaptiveSpanMask.distances(queries: 64, memory: 960))
/// ```
public final class AdaptiveSpanMask: Module {
    /// Span ratios z, one per head, [heads, 1, 1].
    public var ratio: Tensor
    public let maxSpan: Double
    public let ramp: Double

    public init(heads: Int, maxSpan: Int, ramp: Int, initial: Double = 0, dtype: DType = .float32) {
        guard maxSpan > 0, ramp > 0 else { fail("AdaptiveSpanMask needs positive maxSpan and ramp, got \(maxSpan) and \(ramp)") }
        ratio = Tensor.full([heads, 1, 1], initial, dtype: dtype).requiringGrad()
        self.maxSpan = Double(maxSpan)
        self.ramp = Double(ramp)
    }

    public func visit(_ v: inout ModuleVisitor) { v.parameter("current_val", &ratio) }

    /// Distances m + i − j between query i (after `memory` earlier keys) and key j, [T, m + T].
    public static func distances(queries t: Int, memory m: Int, dtype: DType = .float32) -> Tensor {
        let i = Tensor.arange(0, Double(t), dtype: dtype).reshaped([t, 1]) + Double(m)
        let j = Tensor.arange(0, Double(t + m), dtype: dtype).reshaped([1, t + m])
        return i - j
    }

    /// The soft mask for the given distances, [heads, T, K].
    public func mask(distances: Tensor) -> Tensor {
        ((ratio * maxSpan - distances.to(ratio.dtype) + ramp) / ramp).clamped(min: 0, max: 1)
    }

    /// Masks attention probabilities [B, heads, T, K] and renormalises each row.
    public func callAsFunction(_ probs: Tensor, distances: Tensor) -> Tensor {
        let masked = probs * mask(distances: distances)
        return masked / (masked.sum(axis: -1, keepDim: true) + 1e-8)
    }

    /// The mask over the last `width` keys before each query, nearest last, [heads, 1, width]: the
    /// reference's `AdaptiveMask` (its template column j' has distance width − 1 − j').
    public func referenceMask(width: Int) -> Tensor {
        let distances = Tensor.arange(Double(width - 1), -1, step: -1, dtype: ratio.dtype).reshaped([1, width])
        return mask(distances: distances)
    }

    /// The largest span any head can use, ramp included: ⌈max z · S⌉ + R, within [0, S].
    public func currentMaxSize() -> Int {
        let largest = withoutGradients { ratio.detached().max().item }
        return max(0, min(Int(maxSpan), Int((largest * maxSpan).rounded(.up)) + Int(ramp)))
    }

    /// The mean span over heads, ramp included (what the reference logs).
    public func currentMeanSize() -> Int {
        let mean = withoutGradients { ratio.detached().mean().item }
        return max(0, min(Int(maxSpan), Int((mean * maxSpan).rounded(.up)) + Int(ramp)))
    }

    /// The regulariser that pushes spans down: S · mean(z) (add it, scaled, to the loss).
    public func spanLoss() -> Tensor { ratio.mean() * maxSpan }

    /// Keeps z in [0, 1] (call after each optimizer step, as the reference does).
    public func clampRatios() { ratio.assign(withoutGradients { ratio.detached().clamped(min: 0, max: 1) }) }
}
