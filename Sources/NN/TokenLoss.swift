import CKernels
import Tensors

/// Mean cross entropy of logits [N, classes] against int64 targets [N], for language models.
///
/// Same value and gradient as NN's `crossEntropy` without options, and the same row kernel.
public func tokenCrossEntropy(_ logits: Tensor, _ targets: Tensor) -> Tensor {
    guard logits.rank == 2, logits.dtype.isFloatingPoint else {
        fatalError("tokenCrossEntropy expects floating logits [N, classes], got \(logits.dtype) \(logits.shape); flatten with reshaped([-1, classes])")
    }
    let n = logits.shape[0]
    guard targets.dtype == .int64, targets.count == n else {
        fatalError("tokenCrossEntropy expects \(n) int64 targets, got \(targets.count) of \(targets.dtype)")
    }
    let rows = RowCrossEntropy(logits: logits, targets: targets, loss: "tokenCrossEntropy")
    return Tensor.custom("tokenCrossEntropy", inputs: [logits], forward: { xs in
        rows.losses(xs[0], smoothing: 0).sum() / Double(n)
    }, backward: { g, _ in
        if !GradMode.isEnabled, g.count == 1, let d = rows.gradient(scale: g.item / Double(n)) { return [d] }
        let index = rows.ids.reshaped([n, 1])
        let d = logits.softmax(axis: 1).scatterAdd(axis: 1, index, Tensor.full([n, 1], -1, dtype: logits.dtype))
        return [d * (g / Double(n))]
    })
}

/// The cross-entropy row kernel behind ``tokenCrossEntropy(_:_:)`` and ``crossEntropy(_:_:ignoreIndex:labelSmoothing:reduction:)``:
/// the forward reads each row of logits once for its log-sum-exp and writes two numbers a row
/// (max and 1/Σ exp(x − max)), where a log-softmax wrote and re-read an [N, classes] buffer; a
/// first-order backward is one pass, s·(exp(x − max)/Σ − ε/C − (1 − ε)·onehot), where softmax,
/// one-hot scatter and product made three such buffers. The softmax over a 10–30k-word vocabulary
/// is a large share of a word-level training step. When the backward itself is recorded (higher
/// derivatives) the losses compose differentiable ops instead.
final class RowCrossEntropy {
    let logits: Tensor
    /// The targets as a contiguous int64 vector, each checked to lie in [0, classes).
    let ids: Tensor
    private var stats: Tensor?
    private var smoothing = 0.0

    init(logits: Tensor, targets: Tensor, loss: String) {
        let (n, classes) = (logits.shape[0], logits.shape[1])
        self.logits = logits
        ids = targets.contiguous().reshaped([n])
        let p = ids.baseAddress.assumingMemoryBound(to: Int64.self)
        for i in 0..<n where p[i] < 0 || p[i] >= classes {
            fatalError("\(loss): target \(p[i]) at row \(i) is outside the \(classes) classes [0, \(classes))")
        }
    }

    private var idPointer: UnsafePointer<Int64> { UnsafePointer(ids.baseAddress.assumingMemoryBound(to: Int64.self)) }

    /// Per-row losses (1 − ε)(lse − x_t) + ε(lse − mean x), [N], of `x` (the logits' values).
    func losses(_ x0: Tensor, smoothing eps: Double) -> Tensor {
        let x = x0.contiguous()
        let (n, classes) = (x.shape[0], x.shape[1])
        let stats = Tensor(empty: [n, 2], dtype: x.dtype), losses = Tensor(empty: [n], dtype: x.dtype)
        eq_cross_entropy(floatKernelCode(x)!, Int64(n), Int64(classes), x.baseAddress, idPointer, eps, stats.baseAddress, losses.baseAddress)
        self.stats = stats
        smoothing = eps
        return losses
    }

    /// The first-order gradient scale · rowScale[i] · (softmax − ε/C − (1 − ε)·onehot) from the
    /// forward's statistics, or nil before a forward.
    func gradient(scale: Double, rowScale: [Double]? = nil) -> Tensor? {
        guard let stats else { return nil }
        let x = logits.detached().contiguous()
        let (n, classes) = (x.shape[0], x.shape[1])
        let dx = Tensor(empty: x.shape, dtype: x.dtype)
        let run = { (rows: UnsafePointer<Double>?) in
            eq_cross_entropy_backward(floatKernelCode(x)!, Int64(n), Int64(classes), x.baseAddress, stats.baseAddress, self.idPointer,
                                      rows, scale, 1 - self.smoothing, self.smoothing / Double(classes), dx.baseAddress)
        }
        if let rowScale { rowScale.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
        return dx
    }
}
