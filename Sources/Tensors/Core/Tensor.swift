import CKernels

/// An n-dimensional array with a run-time element type, strided over shared storage.
///
/// A tensor is (storage, shape, strides, offset). Views — transpose, permute, slices, expand,
/// reshape where possible — share storage and never copy. Tensors are values: mutating one
/// (``subscript(_:)``, in-place updates) copies its storage first when another tensor shares it.
///
/// ```swift
/// let x = Tensor.randn([2, 3])
/// let y = (x * 2).sum(axes: [1])
/// ```
public struct Tensor {
    var storage: TensorStorage
    /// Size of each dimension.
    public private(set) var shape: [Int]
    /// Step in elements between neighbours along each dimension (0 for broadcast dimensions).
    public private(set) var strides: [Int]
    /// Index of the first element in the storage.
    public private(set) var offset: Int
    /// The autograd identity of this tensor; `nil` for tensors outside any graph.
    var meta: AutogradMeta?

    /// The element type.
    public var dtype: DType { storage.dtype }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { ShapeMath.count(shape) }
    /// The most dimensions a tensor can have (the C walker's fixed-size arrays); readers of
    /// shapes from files check against it before making a tensor.
    public static let maxRank = Int(EQ_MAX_DIMS)

    init(storage: TensorStorage, shape: [Int], strides: [Int], offset: Int) {
        // The C walker has fixed-size per-dimension arrays (EQ_MAX_DIMS); more would overflow them.
        if shape.count > Int(EQ_MAX_DIMS) {
            fail("tensors can have at most \(EQ_MAX_DIMS) dimensions, but shape \(describe(shape)) has \(shape.count); merge some with reshaped(_:)")
        }
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.meta = nil
    }

    /// A new contiguous tensor whose elements are not initialised (PyTorch's `torch.empty`):
    /// for buffers that are written in full before they are read.
    public init(empty shape: [Int], dtype: DType) {
        for d in shape where d < 0 {
            fail("a shape cannot have negative sizes: \(describe(shape))")
        }
        self.init(storage: TensorStorage(count: ShapeMath.count(shape), dtype: dtype),
                  shape: shape, strides: ShapeMath.contiguousStrides(shape), offset: 0)
    }

    /// A row-major tensor over memory someone else owns (an MPI shared-memory window, say):
    /// `owner` is kept alive as long as the tensor or any view of it, and must keep `pointer`
    /// valid (64-byte aligned for the vector kernels) for that long.
    public init(borrowing pointer: UnsafeMutableRawPointer, shape: [Int], dtype: DType, owner: AnyObject) {
        self.init(storage: TensorStorage(borrowing: pointer, count: ShapeMath.count(shape), dtype: dtype, owner: owner),
                  shape: shape, strides: ShapeMath.contiguousStrides(shape), offset: 0)
    }

    /// A fresh tensor shaped like `like`, sharing its shape and (row-major) stride arrays when
    /// they are the canonical ones: building a new strides array was 7% of a recorded 8x8 add.
    init(emptyLike like: Tensor, dtype: DType) {
        guard like.hasRowMajorStrides else { self.init(empty: like.shape, dtype: dtype); return }
        self.init(storage: TensorStorage(count: ShapeMath.count(like.shape), dtype: dtype),
                  shape: like.shape, strides: like.strides, offset: 0)
    }

    /// True when `strides` equals `ShapeMath.contiguousStrides(shape)` exactly.
    var hasRowMajorStrides: Bool {
        var expected = 1
        for i in stride(from: rank - 1, through: 0, by: -1) {
            if strides[i] != expected { return false }
            expected *= Swift.max(shape[i], 1)
        }
        return true
    }

    /// A tensor holding `values` in row-major order with the given shape (1-d when omitted).
    public init<T: TensorScalar>(_ values: [T], shape: [Int]? = nil) {
        let shape = shape ?? [values.count]
        guard ShapeMath.count(shape) == values.count else {
            fail("Tensor(_:shape:) got \(values.count) values for shape \(describe(shape)), which holds \(ShapeMath.count(shape))")
        }
        self.init(empty: shape, dtype: T.dtype)
        let p = storage.pointer
        switch T.dtype {
        case .float32:
            values.withUnsafeBufferPointer { src in
                p.copyMemory(from: src.baseAddress!, byteCount: values.count * 4)
            }
        case .float64:
            values.withUnsafeBufferPointer { src in
                p.copyMemory(from: src.baseAddress!, byteCount: values.count * 8)
            }
        case .int64:
            let dst = p.assumingMemoryBound(to: Int64.self)
            // Int and Int64 share a layout; going through Double would lose large values.
            values.withUnsafeBytes { src in
                UnsafeMutableRawPointer(dst).copyMemory(from: src.baseAddress!, byteCount: values.count * 8)
            }
        case .bool:
            let dst = p.assumingMemoryBound(to: UInt8.self)
            for (i, v) in values.enumerated() { dst[i] = v.asDouble != 0 ? 1 : 0 }
        }
    }

    /// A 2-d tensor from rows of equal length.
    public init<T: TensorScalar>(_ rows: [[T]]) {
        let cols = rows.first?.count ?? 0
        for (i, r) in rows.enumerated() where r.count != cols {
            fail("Tensor(_ rows:) needs rows of equal length: row 0 has \(cols) values, row \(i) has \(r.count)")
        }
        self.init(rows.flatMap { $0 }, shape: [rows.count, cols])
    }

    /// A 0-d tensor (a scalar) of the given type.
    public init(_ value: Double, dtype: DType = .float32) {
        self.init(empty: [], dtype: dtype)
        eq_fill(dtype.code, 1, storage.pointer, value)
    }

    // MARK: - Layout

    /// True when the elements are laid out row-major without gaps from `offset`.
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: rank - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Pointer to the first element.
    public var baseAddress: UnsafeMutableRawPointer {
        storage.pointer + offset * dtype.byteSize
    }

    /// True when both tensors view the same storage.
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }

    /// A view of the same storage with another layout (no autograd recording).
    
    func restrided(shape: [Int], strides: [Int], offset: Int) -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
    }

    /// Makes the storage unique before a write, copying it when another tensor shares it.
    
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) || !isContiguous || offset != 0 || storage.count != count {
            let copy = contiguousCopy()
            storage = copy.storage
            strides = copy.strides
            offset = 0
        }
    }

    /// A fresh contiguous copy of the data (no autograd recording).
    
    func contiguousCopy(dtype newType: DType? = nil) -> Tensor {
        let out = Tensor(empty: shape, dtype: newType ?? dtype)
        Kernels.copy(self, into: out)
        return out
    }

    // MARK: - Reading values

    /// The elements in row-major order, converted to `T`.
    public func toArray<T: TensorScalar>(_ type: T.Type = T.self) -> [T] {
        let c = T.dtype == dtype && isContiguous ? self : contiguousCopy(dtype: T.dtype)
        let n = count
        switch T.dtype {
        case .float32, .float64, .int64:
            if T.self == Int.self {
                let p = c.baseAddress.assumingMemoryBound(to: Int64.self)
                return (0..<n).map { Int(p[$0]) as! T }
            }
            let p = c.baseAddress.assumingMemoryBound(to: T.self)
            return Array(UnsafeBufferPointer(start: p, count: n))
        case .bool:
            let p = c.baseAddress.assumingMemoryBound(to: UInt8.self)
            return (0..<n).map { T(fromDouble: Double(p[$0])) }
        }
    }

    /// The elements as `Double`s, in row-major order.
    public var scalars: [Double] { toArray(Double.self) }

    /// The value of a one-element tensor.
    public var item: Double {
        guard count == 1 else {
            fail("item needs a tensor with exactly one element, but this one has shape \(describe(shape)) (\(count) elements); reduce it first, e.g. with sum()")
        }
        return element(at: offset)
    }

    /// The element at a storage index, as Double.
    
    func element(at index: Int) -> Double {
        let p = storage.pointer
        switch dtype {
        case .float32: return Double(p.assumingMemoryBound(to: Float.self)[index])
        case .float64: return p.assumingMemoryBound(to: Double.self)[index]
        case .int64: return Double(p.assumingMemoryBound(to: Int64.self)[index])
        case .bool: return Double(p.assumingMemoryBound(to: UInt8.self)[index])
        }
    }

    /// Storage index of a full multi-index, checked.
    func storageIndex(_ index: [Int]) -> Int {
        guard index.count == rank else {
            fail("an index with \(index.count) components was used on a tensor of rank \(rank) (shape \(describe(shape)))")
        }
        var s = offset
        for (d, i) in index.enumerated() {
            let j = i < 0 ? i + shape[d] : i
            guard j >= 0 && j < shape[d] else {
                fail("index \(i) is out of range for dimension \(d) of size \(shape[d]) (shape \(describe(shape)))")
            }
            s += j * strides[d]
        }
        return s
    }

    /// Reads one element by full multi-index.
    public func value(at index: [Int]) -> Double { element(at: storageIndex(index)) }

    /// Writes one element by full multi-index (copying shared storage first).
    public mutating func setValue(_ value: Double, at index: [Int]) {
        _ = storageIndex(index)
        makeUnique()
        let s = storageIndex(index)
        let p = storage.pointer
        switch dtype {
        case .float32: p.assumingMemoryBound(to: Float.self)[s] = Float(value)
        case .float64: p.assumingMemoryBound(to: Double.self)[s] = value
        case .int64: p.assumingMemoryBound(to: Int64.self)[s] = Int64(value)
        case .bool: p.assumingMemoryBound(to: UInt8.self)[s] = value != 0 ? 1 : 0
        }
    }
}

// @unchecked Sendable, with the rule torch.Tensor and MLXArray have: any number of threads may read
// one tensor (its fields are immutable; the storage is read-only to them), but a thread must not
// write a tensor's elements in place (assign, addScaled, the grad setter, optimizer steps) while
// another thread reads them. The library itself writes in place only on the training thread.
extension Tensor: @unchecked Sendable {}
