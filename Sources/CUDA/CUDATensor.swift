import CCUDA
import Tensors

/// A contiguous float32 or float64 array in one CUDA device's memory, with a row-major shape.
///
/// The CPU ``Tensor`` is left as it is (strided host storage, autograd tape); a CUDA tensor is a
/// separate value made by `tensor.to(device: .cuda(n))` and read back with `to(device: .cpu)`.
/// Its ops (``CUDAOps``) run on the device and record no gradients.
// @unchecked Sendable: immutable fields; the device memory is reached only through CUDARuntime,
// whose calls are serialised by its lock.
public struct CUDATensor: @unchecked Sendable {
    public let shape: [Int]
    public let dtype: DType
    let buffer: DeviceBuffer

    public var device: Device { .cuda(buffer.ordinal) }
    public var count: Int { shape.reduce(1, *) }
    var elementSize: Int { dtype == .float64 ? 8 : 4 }
    var runtime: CUDARuntime { get throws { try CUDARuntime.shared() } }

    /// An uninitialised tensor on `cuda:ordinal`.
    init(empty shape: [Int], dtype: DType, ordinal: Int) throws {
        guard dtype == .float32 || dtype == .float64 else {
            throw CUDAError.dtypeUnsupported(op: "CUDATensor", dtype: "\(dtype)")
        }
        let rt = try CUDARuntime.shared()
        self.shape = shape
        self.dtype = dtype
        self.buffer = try DeviceBuffer(bytes: shape.reduce(1, *) * (dtype == .float64 ? 8 : 4), ordinal: ordinal, runtime: rt)
    }

    /// Copies a host tensor (any layout) to `cuda:ordinal`.
    public init(_ tensor: Tensor, ordinal: Int = 0) throws {
        try self.init(empty: tensor.shape, dtype: tensor.dtype, ordinal: ordinal)
        let rt = try runtime
        let dst = buffer.pointer, n = buffer.bytes
        if dtype == .float64 {
            let host = tensor.toArray(Double.self)
            try host.withUnsafeBytes { src in
                try rt.withDevice(buffer.ordinal) { try CUDARuntime.check("cuMemcpyHtoD", eq_cu_htod(dst, src.baseAddress, n)) }
            }
        } else {
            let host = tensor.toArray(Float.self)
            try host.withUnsafeBytes { src in
                try rt.withDevice(buffer.ordinal) { try CUDARuntime.check("cuMemcpyHtoD", eq_cu_htod(dst, src.baseAddress, n)) }
            }
        }
    }

    /// Copies the data back into a new contiguous host tensor.
    public func toHost() throws -> Tensor {
        let rt = try runtime
        let src = buffer.pointer, n = buffer.bytes
        if dtype == .float64 {
            var host = [Double](repeating: 0, count: count)
            try host.withUnsafeMutableBytes { dst in
                try rt.withDevice(buffer.ordinal) { try CUDARuntime.check("cuMemcpyDtoH", eq_cu_dtoh(dst.baseAddress, src, n)) }
            }
            return Tensor(host, shape: shape)
        }
        var host = [Float](repeating: 0, count: count)
        try host.withUnsafeMutableBytes { dst in
            try rt.withDevice(buffer.ordinal) { try CUDARuntime.check("cuMemcpyDtoH", eq_cu_dtoh(dst.baseAddress, src, n)) }
        }
        return Tensor(host, shape: shape)
    }

    /// The same data with another shape of equal count (shares the device buffer).
    public func reshaped(_ newShape: [Int]) throws -> CUDATensor {
        guard newShape.reduce(1, *) == count else {
            throw CUDAError.shapeMismatch(op: "reshaped", lhs: shape, rhs: newShape)
        }
        return CUDATensor(shape: newShape, dtype: dtype, buffer: buffer)
    }

    init(shape: [Int], dtype: DType, buffer: DeviceBuffer) {
        self.shape = shape
        self.dtype = dtype
        self.buffer = buffer
    }
}

/// A tensor on either device: what `to(device:)` returns, and what the device-checked ops take.
public enum DeviceTensor {
    case cpu(Tensor)
    case cuda(CUDATensor)

    public var device: Device {
        switch self {
        case .cpu: return .cpu
        case .cuda(let t): return t.device
        }
    }

    public var shape: [Int] {
        switch self {
        case .cpu(let t): return t.shape
        case .cuda(let t): return t.shape
        }
    }

    /// A copy on `device` (itself when already there). cuda:i to cuda:j goes through the host.
    public func to(device: Device) throws -> DeviceTensor {
        if device == self.device { return self }
        let host: Tensor
        switch self {
        case .cpu(let t): host = t
        case .cuda(let t): host = try t.toHost()
        }
        switch device {
        case .cpu: return .cpu(host)
        case .cuda(let n): return .cuda(try CUDATensor(host, ordinal: n))
        }
    }

    /// The host tensor (copied back when on a GPU).
    public func cpu() throws -> Tensor {
        guard case .cpu(let t) = try to(device: .cpu) else { fatalError("unreachable") }
        return t
    }
}

extension Tensor {
    /// This tensor on `device`: `.cpu` wraps it, `.cuda(n)` copies it to that GPU.
    public func to(device: Device) throws -> DeviceTensor { try DeviceTensor.cpu(self).to(device: device) }
}

extension CUDATensor {
    public func to(device: Device) throws -> DeviceTensor { try DeviceTensor.cuda(self).to(device: device) }
}
