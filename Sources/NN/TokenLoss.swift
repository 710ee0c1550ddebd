import Tensors

/// Mean cross entropy of logits [N, classes] against int64 targets [N], for language models.
///
/// Same value and gradient as NN's `crossEntropy` without options, but the forward pass goes
/// through the row-wise log-softmax kernel (one vectorised pass over each row in float32) instead
/// of a logsumexp reduction that accumulates every exponential in float64 — the softmax over a
/// 20–30k-word vocabulary is a large share of a word-level training step. The backward pass
/// recomputes softmax(x) from the logits, so higher derivatives stay correct.
public func tokenCrossEntropy(_ logits: Tensor, _ targets: Tensor) -> Tensor {
    guard logits.rank == 2 else {
        fatalError("tokenCrossEntropy expects logits [N, classes], got \(logits.shape); flatten with reshaped([-1, classes])")
    }
    let n = logits.shape[0]
    guard targets.dtype == .int64, targets.count == n else {
        fatalError("tokenCrossEntropy expects \(n) int64 targets, got \(targets.count) of \(targets.dtype)")
    }
    let index = targets.reshaped([n, 1])
    return Tensor.custom("tokenCrossEntropy", inputs: [logits], forward: { xs in
        -xs[0].logSoftmax(axis: 1).gather(axis: 1, index).sum() / Double(n)
    }, backward: { g, _ in
        let d = logits.softmax(axis: 1).scatterAdd(axis: 1, index, Tensor.full([n, 1], -1, dtype: logits.dtype))
        return [d * (g / Double(n))]
    })
}
