import Tensors

/// A model whose training objective adds a regulariser to the loss (reported apart from it), and
/// whose parameters are projected back into their domain after each optimizer step — the
/// adaptive span's span loss and ratio clamping.
public protocol RegularizedModel: AnyObject {
    /// The regulariser of the last training forward, or nil.
    var auxiliaryLoss: Tensor? { get }
    /// Called after every optimizer step.
    func afterOptimizerStep()
}

extension AdaptiveSpanTransformer: RegularizedModel {
    public func afterOptimizerStep() { clampSpans() }
}
