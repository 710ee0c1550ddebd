import Tensors

/// A 1-d convolution over [batch, channels, time] with dilation, causal by default: output step t
/// sees only inputs at t, t − d, ..., t − (k−1)d (zeros before the start), as in TrellisNet/TCN.
///
/// It is computed as one GEMM over an unfolded input — k shifted views of the left-padded input
/// stacked along the channel axis — so it is differentiable through existing ops.
///
/// ```swift
/// let conv = Conv1d(64, 128, kernelSize: 2, dilation: 4); let y = conv(x)   // [B, 64, T] → [B, 128, T]
/// ```
public final class Conv1d: Layer {
    /// [out, in, kernel], PyTorch's layout.
    public var weight: Tensor
    public var bias: Tensor?
    public let dilation: Int
    /// Left padding; (k − 1)·dilation makes it causal with an output as long as the input.
    public let padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, dilation: Int = 1,
                padding: Int? = nil, bias: Bool = true, weightInit: Initializer = .pytorchDefault,
                dtype: DType = .float32) {
        guard kernelSize >= 1, dilation >= 1 else {
            fail("Conv1d needs kernelSize >= 1 and dilation >= 1, got \(kernelSize) and \(dilation)")
        }
        self.dilation = dilation
        self.padding = padding ?? (kernelSize - 1) * dilation
        weight = weightInit.make([outChannels, inChannels, kernelSize], dtype: dtype)
        let bound = 1 / Double(inChannels * kernelSize).squareRoot()
        self.bias = bias ? Initializer.uniform(bound: bound).make([outChannels], dtype: dtype) : nil
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.parameter("weight", &weight)
        v.parameter("bias", &bias)
    }

    public var kernelSize: Int { weight.shape[2] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let cin = weight.shape[1], cout = weight.shape[0], k = kernelSize
        guard x.rank == 3, x.shape[1] == cin else {
            fail("Conv1d(\(cin) → \(cout)) expects [batch, \(cin), time], got \(x.shape)")
        }
        let (b, t) = (x.shape[0], x.shape[2])
        let outLength = t + padding - (k - 1) * dilation
        guard outLength > 0 else {
            fail("Conv1d: an input of length \(t) is too short for kernel \(k) with dilation \(dilation) and padding \(padding)")
        }
        let padded = padding > 0
            ? Tensor.concat([Tensor.zeros([b, cin, padding], dtype: x.dtype), x], axis: 2) : x
        // cols[b, c·k + j, t] = padded[b, c, t + j·d]
        let taps = (0..<k).map { j in padded.sliced(2, j * dilation, j * dilation + outLength) }
        let cols = k == 1 ? taps[0] : Tensor.stack(taps, axis: 2).reshaped([b, cin * k, outLength])
        var y = weight.reshaped([cout, cin * k]).matmul(cols)
        if let bias { y = y + bias.reshaped([cout, 1]) }
        return y
    }
}
