import CKernels
import Tensors

/// Mean cross entropy of logits [N, classes] against int64 targets [N], for language models.
///
/// Same value and gradient as NN's `crossEntropy` without options, computed by a row kernel: the
/// forward reads each row once for its log-sum-exp and writes two numbers a row (max and 1/Σ exp),
/// where a log-softmax wrote and re-read an [N, classes] buffer, and a first-order backward is one
/// pass, scale · (exp(x − max) / Σ − onehot), where softmax, one-hot scatter and product made three
/// such buffers. The softmax over a 10–30k-word vocabulary is a large share of a word-level training
/// step. When the backward itself is recorded (higher derivatives) it is composed of
/// differentiable ops instead.
public func tokenCrossEntropy(_ logits: Tensor, _ targets: Tensor) -> Tensor {
    guard logits.rank == 2, logits.dtype.isFloatingPoint else {
        fatalError("tokenCrossEntropy expects floating logits [N, classes], got \(logits.dtype) \(logits.shape); flatten with reshaped([-1, classes])")
    }
    let (n, classes) = (logits.shape[0], logits.shape[1])
    guard targets.dtype == .int64, targets.count == n else {
        fatalError("tokenCrossEntropy expects \(n) int64 targets, got \(targets.count) of \(targets.dtype)")
    }
    let ids = targets.contiguous().reshaped([n])
    let idPointer = ids.baseAddress.assumingMemoryBound(to: Int64.self)
    for i in 0..<n where idPointer[i] < 0 || idPointer[i] >= classes {
        fatalError("tokenCrossEntropy: target \(idPointer[i]) at position \(i) is outside the \(classes) classes [0, \(classes))")
    }
    // Each row's max and 1/Σ exp(x − max), written by the forward for the first-order backward.
    var rowStats: Tensor?
    return Tensor.custom("tokenCrossEntropy", inputs: [logits], forward: { xs in
        let x = xs[0].contiguous()
        let stats = Tensor(empty: [n, 2], dtype: x.dtype), losses = Tensor(empty: [n], dtype: x.dtype)
        eq_cross_entropy(floatKernelCode(x)!, Int64(n), Int64(classes), x.baseAddress, idPointer, stats.baseAddress, losses.baseAddress)
        rowStats = stats
        return losses.sum() / Double(n)
    }, backward: { g, _ in
        if !GradMode.isEnabled, g.count == 1, let stats = rowStats {
            let x = logits.detached().contiguous()
            let dx = Tensor(empty: x.shape, dtype: x.dtype)
            eq_cross_entropy_backward(floatKernelCode(x)!, Int64(n), Int64(classes), x.baseAddress, stats.baseAddress, idPointer,
                                      g.item / Double(n), dx.baseAddress)
            return [dx]
        }
        let index = ids.reshaped([n, 1])
        let d = logits.softmax(axis: 1).scatterAdd(axis: 1, index, Tensor.full([n, 1], -1, dtype: logits.dtype))
        return [d * (g / Double(n))]
    })
}
