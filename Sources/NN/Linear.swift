import Tensors

/// y = x Wᵀ + b over the last axis. `weight` is [out, in] as in PyTorch, so checkpoints match.
///
/// ```swift
/// let fc = Linear(512, 2048); let y = fc(x)   // x: [..., 512] → [..., 2048]
/// ```
public final class Linear: Layer {
    public var weight: Tensor
    public var bias: Tensor?

    public init(_ inputSize: Int, _ outputSize: Int, bias: Bool = true,
                weightInit: Initializer = .pytorchDefault, dtype: DType = .float32) {
        weight = weightInit.make([outputSize, inputSize], dtype: dtype)
        let bound = 1 / Double(inputSize).squareRoot()
        self.bias = bias ? Initializer.uniform(bound: bound).make([outputSize], dtype: dtype) : nil
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.parameter("weight", &weight)
        v.parameter("bias", &bias)
    }

    public var inputSize: Int { weight.shape[1] }
    public var outputSize: Int { weight.shape[0] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard x.shape.last == inputSize else {
            fail("Linear(\(inputSize), \(outputSize)) got an input of shape \(x.shape) whose last axis is not \(inputSize)")
        }
        // Flattening leading axes makes one GEMM with the transposed weight read in place.
        let lead = Array(x.shape.dropLast())
        let flat = x.rank == 2 ? x : x.reshaped([-1, inputSize])
        let y = linear(flat, weight, bias)
        return x.rank == 2 ? y : y.reshaped(lead + [outputSize])
    }
}

/// Traps with a clear message (layers, like ops, trap on misuse).
func fail(_ message: String) -> Never { fatalError(message) }

/// A new contiguous tensor holding `t`'s values, sharing nothing with it.
func freshCopy(_ t: Tensor) -> Tensor {
    let out = Tensor.zeros(t.shape, dtype: t.dtype)
    out.assign(t)
    return out
}

/// x Wᵀ + b for x [N, in], W [out, in] (PyTorch's `F.linear`): the bias goes into the GEMM's
/// fresh output in place, and the hand-written VJP gives W's gradient as gᵀx, contiguous in W's
/// layout. Differentiable to any order.
public func linear(_ x: Tensor, _ w: Tensor, _ b: Tensor?) -> Tensor {
    let inputs = b.map { [x, w, $0] } ?? [x, w]
    return Tensor.custom("linear", inputs: inputs, forward: { t in
        let y = t[0].matmul(t[1].T)
        guard t.count == 3 else { return y }
        // The GEMM's output is fresh and unshared here (nothing records), so the bias goes in
        // place instead of into another output-sized buffer.
        if y.isContiguous && y.dtype == t[2].dtype { addRowInPlace(y, t[2]); return y }
        return y + t[2]
    }, backward: { g, _ in
        var grads: [Tensor?] = [x.requiresGrad ? g.matmul(w) : nil,
                                w.requiresGrad ? g.T.matmul(x) : nil]
        if let b { grads.append(b.requiresGrad ? g.sum(axis: 0) : nil) }
        return grads
    })
}

/// y[i, :] += b for a fresh contiguous [N, M] tensor y and a vector b of length M.
func addRowInPlace(_ y: Tensor, _ b: Tensor) {
    let (n, m) = (y.shape[0], y.shape[1])
    let bias = b.contiguous()
    func run<T: BinaryFloatingPoint>(_ p: UnsafeMutablePointer<T>, _ q: UnsafeMutablePointer<T>) {
        for i in 0..<n {
            let row = p + i * m
            for j in 0..<m { row[j] += q[j] }
        }
    }
    switch y.dtype {
    case .float32: run(y.baseAddress.assumingMemoryBound(to: Float.self), bias.baseAddress.assumingMemoryBound(to: Float.self))
    default: run(y.baseAddress.assumingMemoryBound(to: Double.self), bias.baseAddress.assumingMemoryBound(to: Double.self))
    }
}
