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
        var y = flat.matmul(weight.T)
        if let bias { y = y + bias }
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
