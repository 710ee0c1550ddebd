/// Where a tensor's data lives: host memory (``Tensor``) or one CUDA device (``CUDATensor``).
public enum Device: Equatable, CustomStringConvertible, Sendable {
    case cpu
    case cuda(Int)

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let n): return "cuda:\(n)"
        }
    }

    /// Parses "cpu", "cuda" (device 0) or "cuda:N", as a `--device` flag would.
    public init(parsing text: String) throws {
        if text == "cpu" { self = .cpu; return }
        if text == "cuda" { self = .cuda(0); return }
        if text.hasPrefix("cuda:"), let n = Int(text.dropFirst(5)), n >= 0 { self = .cuda(n); return }
        throw CUDAError.badDeviceName(text)
    }
}

/// Errors of the GPU path, each naming what is wrong and the fix.
public enum CUDAError: Error, Equatable, CustomStringConvertible, Sendable {
    /// CUDA cannot be used: each reason names a missing library (and every place searched) or
    /// what the driver said.
    case unavailable(reasons: [String])
    /// The driver loaded but reported an error (e.g. CUDA_ERROR_NO_DEVICE).
    case driver(call: String, code: Int32, name: String)
    case noDevice(ordinal: Int, count: Int)
    case cublas(call: String, status: Int32)
    case nvrtc(code: Int32, message: String, log: String)
    case deviceMismatch(op: String, lhs: Device, rhs: Device)
    case shapeMismatch(op: String, lhs: [Int], rhs: [Int])
    case dtypeUnsupported(op: String, dtype: String)
    case badDeviceName(String)

    public var description: String {
        switch self {
        case .unavailable(let reasons):
            return "CUDA is not available:\n" + reasons.map { "  - " + $0 }.joined(separator: "\n")
        case .driver(let call, let code, let name):
            return "CUDA: \(call) failed with \(name) (\(code))"
        case .noDevice(let n, let count):
            return "CUDA: there is no device cuda:\(n); this machine has \(count) CUDA device\(count == 1 ? "" : "s")"
        case .cublas(let call, let status):
            return "CUDA: \(call) failed with cuBLAS status \(status)"
        case .nvrtc(let code, let message, let log):
            return "CUDA: NVRTC could not compile the kernels: \(message) (\(code))\(log.isEmpty ? "" : "\n" + log)"
        case .deviceMismatch(let op, let lhs, let rhs):
            return "\(op): the operands are on different devices (\(lhs) and \(rhs)); move one with to(device:) first"
        case .shapeMismatch(let op, let lhs, let rhs):
            return "\(op) on CUDA needs matching shapes, got \(lhs) and \(rhs) (the CUDA ops do not broadcast)"
        case .dtypeUnsupported(let op, let dtype):
            return "\(op) on CUDA supports float32 and float64, not \(dtype)"
        case .badDeviceName(let text):
            return "unknown device \"\(text)\": use cpu, cuda or cuda:N"
        }
    }
}
