import Tensors

/// How a loss combines its per-example values.
public enum Reduction: Sendable {
    case mean, sum, none
}

/// Cross entropy of logits [N, C] against int64 class ids [N], fused with the log-softmax:
/// loss = logsumexp(x) − (1−ε)·x_target − ε·mean(x), whose gradient is softmax(x) − (1−ε)·onehot − ε/C.
/// Targets equal to `ignoreIndex` contribute nothing, and the mean is over the others.
///
/// ```swift
/// let loss = crossEntropy(logits, targets, ignoreIndex: -100, labelSmoothing: 0.1)
/// ```
public func crossEntropy(_ logits: Tensor, _ targets: Tensor, ignoreIndex: Int? = nil,
                         labelSmoothing: Double = 0, reduction: Reduction = .mean) -> Tensor {
    guard logits.rank == 2, logits.dtype.isFloatingPoint else {
        fail("crossEntropy expects floating logits [N, classes], got \(logits.dtype) \(logits.shape); flatten leading axes with reshaped([-1, classes])")
    }
    let (n, classes) = (logits.shape[0], logits.shape[1])
    let (safe, keep, kept) = checkedTargets(targets, rows: n, classes: classes, ignoreIndex: ignoreIndex, loss: "crossEntropy")
    let eps = labelSmoothing
    guard eps >= 0 && eps <= 1 else { fail("crossEntropy: labelSmoothing must be in [0, 1], got \(eps)") }
    let index = safe.reshaped([n, 1])
    let weight = keep.to(logits.dtype)
    let rows = RowCrossEntropy(logits: logits, targets: safe, loss: "crossEntropy")
    let perExample = Tensor.custom("crossEntropy", inputs: [logits], forward: { xs in
        rows.losses(xs[0], smoothing: eps) * weight
    }, backward: { g, _ in
        let scale = g * weight
        if !GradMode.isEnabled, let d = rows.gradient(scale: 1, rowScale: scale.to(.float64).scalars) { return [d] }
        // Building a higher-order graph: stay with differentiable ops.
        var d = logits.softmax(axis: 1)
        d = d.scatterAdd(axis: 1, index, Tensor.full([n, 1], -(1 - eps), dtype: d.dtype))
        if eps > 0 { d = d - eps / Double(classes) }
        return [d * scale.reshaped([n, 1])]
    })
    return reduce(perExample, reduction, count: kept)
}

/// Negative log-likelihood of log-probabilities [N, C] at int64 targets [N].
public func nllLoss(_ logProbs: Tensor, _ targets: Tensor, ignoreIndex: Int? = nil,
                    reduction: Reduction = .mean) -> Tensor {
    guard logProbs.rank == 2 else { fail("nllLoss expects log-probabilities [N, classes], got \(logProbs.shape)") }
    let n = logProbs.shape[0]
    let (safe, keep, kept) = checkedTargets(targets, rows: n, classes: logProbs.shape[1], ignoreIndex: ignoreIndex, loss: "nllLoss")
    let picked = -logProbs.gather(axis: 1, safe.reshaped([n, 1])).reshaped([n]) * keep.to(logProbs.dtype)
    return reduce(picked, reduction, count: kept)
}

/// Mean squared error.
public func mseLoss(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    guard prediction.shape == target.shape else {
        fail("mseLoss: prediction \(prediction.shape) and target \(target.shape) must have the same shape")
    }
    return reduce((prediction - target).square(), reduction, count: prediction.count)
}

/// Binary cross entropy on logits, computed stably as max(x, 0) − x·y + log(1 + e^(−|x|)).
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    guard logits.shape == target.shape else {
        fail("binaryCrossEntropyWithLogits: logits \(logits.shape) and targets \(target.shape) must have the same shape")
    }
    let l = logits.relu() - logits * target.to(logits.dtype) + (-logits.abs()).exp().log1p()
    return reduce(l, reduction, count: logits.count)
}

func reduce(_ l: Tensor, _ reduction: Reduction, count: Int) -> Tensor {
    switch reduction {
    case .none: return l
    case .sum: return l.sum()
    case .mean: return l.sum() / Double(Swift.max(count, 1))
    }
}

/// Validates int64 targets; returns them with ignored entries replaced by 0, the keep mask and the kept count.
func checkedTargets(_ targets: Tensor, rows: Int, classes: Int, ignoreIndex: Int?, loss: String) -> (Tensor, Tensor, Int) {
    guard targets.dtype == .int64 else { fail("\(loss): targets must be int64 class ids, got \(targets.dtype); convert with .to(.int64)") }
    guard targets.count == rows else { fail("\(loss): \(rows) rows of scores but \(targets.count) targets") }
    let flat = targets.reshaped([rows])
    guard let ignoreIndex else { return (flat, Tensor.ones([rows], dtype: .bool), rows) }
    let keep = flat .!= Double(ignoreIndex)
    let safe = Tensor.where(keep, flat, Tensor.zeros([rows], dtype: .int64))
    let kept = Int(keep.to(.int64).sum().item)
    return (safe, keep, kept)
}
