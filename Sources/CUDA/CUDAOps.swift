import CCUDA
import Tensors

/// The ops that run on the GPU. Each takes contiguous float32/float64 tensors on one device and
/// returns a new one there; none records gradients (the autograd tape is the CPU Tensor's).
///
/// - GEMM: ``matmul(_:)`` through cublasSgemm / cublasDgemm ([m,k] x [k,n]).
/// - Elementwise (same shape, no broadcasting): + - * /, maximum, scaled(by:), neg, exp, log,
///   tanh, sqrt, relu, sigmoid.
/// - Reductions: ``sum()`` (all elements, chunked), ``sumLastAxis()``.
/// - Row-wise over the last axis: ``softmax()``, ``layerNorm(eps:)`` (no affine weights).
extension CUDATensor {
    var suffix: String { dtype == .float64 ? "f64" : "f32" }
    var ordinal: Int { buffer.ordinal }

    enum Arg { case ptr(eq_cu_deviceptr), i64(Int64), scalar(Double) }

    /// Launches kernel `name`_f32/_f64 with `grid` blocks of ``KernelSource/blockSize`` threads.
    func launch(_ name: String, grid: Int, args: [Arg]) throws {
        guard grid > 0 else { return }
        let rt = try runtime
        let isDouble = dtype == .float64
        let cells = args.map { arg -> UnsafeMutableRawPointer? in
            let p = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
            switch arg {
            case .ptr(let v): p.storeBytes(of: v, as: UInt64.self)
            case .i64(let v): p.storeBytes(of: v, as: Int64.self)
            case .scalar(let v):
                if isDouble { p.storeBytes(of: v, as: Double.self) } else { p.storeBytes(of: Float(v), as: Float.self) }
            }
            return p
        }
        defer { cells.forEach { $0?.deallocate() } }
        var params = cells
        let fname = name + "_" + suffix
        try rt.withDevice(ordinal) {
            let f = try rt.kernel(fname, ordinal: ordinal)
            let r = params.withUnsafeMutableBufferPointer {
                eq_cu_launch(UnsafeMutableRawPointer(f), UInt32(grid), 1, 1, UInt32(KernelSource.blockSize), 1, 1, 0, $0.baseAddress)
            }
            try CUDARuntime.check("cuLaunchKernel(\(fname))", r)
        }
    }

    /// Blocks for a grid-stride loop over `n` elements (capped: each thread then does several).
    static func grid(for n: Int) -> Int { Swift.min((n + KernelSource.blockSize - 1) / KernelSource.blockSize, 1 << 20) }

    func sameDevice(_ op: String, _ other: CUDATensor) throws {
        if other.device != device { throw CUDAError.deviceMismatch(op: op, lhs: device, rhs: other.device) }
        if other.dtype != dtype { throw CUDAError.dtypeUnsupported(op: "\(op) of \(dtype) and \(other.dtype)", dtype: "mixed") }
    }

    func elementwise(_ name: String, _ other: CUDATensor) throws -> CUDATensor {
        try sameDevice(name, other)
        guard shape == other.shape else { throw CUDAError.shapeMismatch(op: name, lhs: shape, rhs: other.shape) }
        let out = try CUDATensor(empty: shape, dtype: dtype, ordinal: ordinal)
        try launch(name, grid: Self.grid(for: count),
                   args: [.ptr(buffer.pointer), .ptr(other.buffer.pointer), .ptr(out.buffer.pointer), .i64(Int64(count))])
        return out
    }

    func unary(_ name: String) throws -> CUDATensor {
        let out = try CUDATensor(empty: shape, dtype: dtype, ordinal: ordinal)
        try launch(name, grid: Self.grid(for: count), args: [.ptr(buffer.pointer), .ptr(out.buffer.pointer), .i64(Int64(count))])
        return out
    }

    public static func + (a: CUDATensor, b: CUDATensor) throws -> CUDATensor { try a.elementwise("add", b) }
    public static func - (a: CUDATensor, b: CUDATensor) throws -> CUDATensor { try a.elementwise("sub", b) }
    public static func * (a: CUDATensor, b: CUDATensor) throws -> CUDATensor { try a.elementwise("mul", b) }
    public static func / (a: CUDATensor, b: CUDATensor) throws -> CUDATensor { try a.elementwise("div", b) }
    public func maximum(_ other: CUDATensor) throws -> CUDATensor { try elementwise("maximum", other) }

    public func neg() throws -> CUDATensor { try unary("neg") }
    public func exp() throws -> CUDATensor { try unary("exp") }
    public func log() throws -> CUDATensor { try unary("log") }
    public func tanh() throws -> CUDATensor { try unary("tanh") }
    public func sqrt() throws -> CUDATensor { try unary("sqrt") }
    public func relu() throws -> CUDATensor { try unary("relu") }
    public func sigmoid() throws -> CUDATensor { try unary("sigmoid") }

    public func scaled(by s: Double) throws -> CUDATensor {
        let out = try CUDATensor(empty: shape, dtype: dtype, ordinal: ordinal)
        try launch("scale", grid: Self.grid(for: count),
                   args: [.ptr(buffer.pointer), .ptr(out.buffer.pointer), .scalar(s), .i64(Int64(count))])
        return out
    }

    /// Rows and columns when the last axis is the row (a 0-d or 1-d tensor is one row).
    var rowsAndCols: (rows: Int, cols: Int) {
        let cols = shape.last ?? 1
        return (cols == 0 ? 0 : count / cols, cols)
    }

    /// The sum over the last axis (shape without it).
    public func sumLastAxis() throws -> CUDATensor {
        let (rows, cols) = rowsAndCols
        let out = try CUDATensor(empty: Array(shape.dropLast()), dtype: dtype, ordinal: ordinal)
        if cols == 0 { return try CUDATensor(Tensor.zeros(out.shape, dtype: dtype), ordinal: ordinal) }
        try launch("row_sum", grid: rows, args: [.ptr(buffer.pointer), .ptr(out.buffer.pointer), .i64(Int64(cols))])
        return out
    }

    /// The sum of all elements (a 0-d tensor): sums of 4096-element chunks (one block each),
    /// repeated until one value is left.
    public func sum() throws -> CUDATensor {
        if count == 0 { return try CUDATensor(Tensor(0, dtype: dtype), ordinal: ordinal) }
        let chunk = 4096
        var t = self
        while t.count > 1 {
            let blocks = (t.count + chunk - 1) / chunk
            let out = try CUDATensor(empty: [blocks], dtype: dtype, ordinal: ordinal)
            try t.launch("chunk_sum", grid: blocks,
                         args: [.ptr(t.buffer.pointer), .ptr(out.buffer.pointer), .i64(Int64(t.count)), .i64(Int64(chunk))])
            t = out
        }
        return try t.reshaped([])
    }

    /// Softmax over the last axis.
    public func softmax() throws -> CUDATensor {
        let (rows, cols) = rowsAndCols
        let out = try CUDATensor(empty: shape, dtype: dtype, ordinal: ordinal)
        try launch("softmax", grid: rows, args: [.ptr(buffer.pointer), .ptr(out.buffer.pointer), .i64(Int64(cols))])
        return out
    }

    /// (x - mean) / sqrt(var + eps) over the last axis (biased variance, as the CPU layerNorm).
    public func layerNorm(eps: Double = 1e-5) throws -> CUDATensor {
        let (rows, cols) = rowsAndCols
        let out = try CUDATensor(empty: shape, dtype: dtype, ordinal: ordinal)
        try launch("layer_norm", grid: rows,
                   args: [.ptr(buffer.pointer), .ptr(out.buffer.pointer), .i64(Int64(cols)), .scalar(eps)])
        return out
    }

    /// [m, k] x [k, n] through cuBLAS (sgemm for float32, dgemm for float64).
    public func matmul(_ other: CUDATensor) throws -> CUDATensor {
        try sameDevice("matmul", other)
        guard shape.count == 2, other.shape.count == 2, shape[1] == other.shape[0] else {
            throw CUDAError.shapeMismatch(op: "matmul", lhs: shape, rhs: other.shape)
        }
        let (m, k, n) = (shape[0], shape[1], other.shape[1])
        let out = try CUDATensor(empty: [m, n], dtype: dtype, ordinal: ordinal)
        try CUDATensor.gemm(m: m, n: n, k: k, a: self, b: other, into: out)
        return out
    }

    /// out = a b, row-major, on the default stream (asynchronous: a copy back or
    /// ``synchronize()`` waits for it). Used by the sgemm timing too.
    public static func gemm(m: Int, n: Int, k: Int, a: CUDATensor, b: CUDATensor, into out: CUDATensor) throws {
        let rt = try a.runtime
        try rt.withDevice(a.ordinal) {
            let h = UnsafeMutableRawPointer(try rt.cublas(a.ordinal))
            if a.dtype == .float64 {
                try CUDARuntime.checkBLAS("cublasDgemm", eq_cublas_dgemm_rowmajor(
                    h, CChar(UInt8(ascii: "n")), CChar(UInt8(ascii: "n")), Int32(m), Int32(n), Int32(k), 1,
                    a.buffer.pointer, b.buffer.pointer, 0, out.buffer.pointer))
            } else {
                try CUDARuntime.checkBLAS("cublasSgemm", eq_cublas_sgemm_rowmajor(
                    h, CChar(UInt8(ascii: "n")), CChar(UInt8(ascii: "n")), Int32(m), Int32(n), Int32(k), 1,
                    a.buffer.pointer, b.buffer.pointer, 0, out.buffer.pointer))
            }
        }
    }

    /// Waits for the device's queued work.
    public func synchronize() throws {
        let rt = try runtime
        try rt.withDevice(ordinal) { try CUDARuntime.check("cuCtxSynchronize", eq_cu_synchronize()) }
    }
}

/// The device-checked front: both operands on the CPU run the CPU op, both on one GPU run the
/// CUDA op, anything else is ``CUDAError/deviceMismatch(op:lhs:rhs:)``.
extension DeviceTensor {
    func pair(_ op: String, _ other: DeviceTensor, cpu: (Tensor, Tensor) -> Tensor,
              cuda: (CUDATensor, CUDATensor) throws -> CUDATensor) throws -> DeviceTensor {
        switch (self, other) {
        case (.cpu(let a), .cpu(let b)): return .cpu(cpu(a, b))
        case (.cuda(let a), .cuda(let b)) where a.device == b.device: return .cuda(try cuda(a, b))
        default: throw CUDAError.deviceMismatch(op: op, lhs: device, rhs: other.device)
        }
    }

    func single(cpu: (Tensor) -> Tensor, cuda: (CUDATensor) throws -> CUDATensor) throws -> DeviceTensor {
        switch self {
        case .cpu(let a): return .cpu(cpu(a))
        case .cuda(let a): return .cuda(try cuda(a))
        }
    }

    public func matmul(_ o: DeviceTensor) throws -> DeviceTensor { try pair("matmul", o, cpu: { $0.matmul($1) }, cuda: { try $0.matmul($1) }) }
    public func adding(_ o: DeviceTensor) throws -> DeviceTensor { try pair("add", o, cpu: { $0 + $1 }, cuda: { try $0 + $1 }) }
    public func subtracting(_ o: DeviceTensor) throws -> DeviceTensor { try pair("sub", o, cpu: { $0 - $1 }, cuda: { try $0 - $1 }) }
    public func multiplying(_ o: DeviceTensor) throws -> DeviceTensor { try pair("mul", o, cpu: { $0 * $1 }, cuda: { try $0 * $1 }) }
    public func dividing(_ o: DeviceTensor) throws -> DeviceTensor { try pair("div", o, cpu: { $0 / $1 }, cuda: { try $0 / $1 }) }
    public func exp() throws -> DeviceTensor { try single(cpu: { $0.exp() }, cuda: { try $0.exp() }) }
    public func tanh() throws -> DeviceTensor { try single(cpu: { $0.tanh() }, cuda: { try $0.tanh() }) }
    public func softmax() throws -> DeviceTensor { try single(cpu: { $0.softmax(axis: -1) }, cuda: { try $0.softmax() }) }
    public func sum() throws -> DeviceTensor { try single(cpu: { $0.sum() }, cuda: { try $0.sum() }) }
}
