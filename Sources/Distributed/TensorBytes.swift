import Tensors

extension Tensor {
    /// The elements in row-major order, as raw bytes (what MPI sends).
    func contiguousBytes() -> [UInt8] {
        let c = contiguous()
        let n = c.count * c.dtype.byteSize
        return [UInt8](UnsafeRawBufferPointer(start: c.baseAddress, count: n))
    }

    /// A tensor of `shape` and `dtype` holding `bytes` (row-major).
    init(bytes: [UInt8], shape: [Int], dtype: DType) {
        self = Tensor.zeros(shape, dtype: dtype)
        let target = baseAddress
        bytes.withUnsafeBytes { if let base = $0.baseAddress, $0.count > 0 { target.copyMemory(from: base, byteCount: $0.count) } }
    }
}
