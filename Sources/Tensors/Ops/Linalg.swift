import CKernels

// Dense linear algebra through LAPACKE (row-major), batched over leading dimensions.
extension Tensor {
    /// Runs `body` on each matrix of a batch [..., r, c] copied to a contiguous buffer.
    func eachMatrix(_ op: String, _ body: (UnsafeMutableRawPointer, Int) throws(TensorError) -> Void) throws(TensorError) -> Tensor {
        guard rank >= 2 else { throw TensorError("\(op) needs a matrix (or a batch of them), got shape \(describe(shape))") }
        guard dtype.isFloatingPoint else { throw TensorError("\(op) needs float32 or float64, got \(dtype)") }
        let c = detached().contiguousCopy()
        let per = shape[rank - 2] * shape[rank - 1]
        let batch = per == 0 ? 0 : count / per
        for i in 0..<batch {
            try body(c.baseAddress + i * per * dtype.byteSize, i)
        }
        return c
    }

    static func lapackCheck(_ info: Int32, _ op: String, _ batch: Int, _ what: String) throws(TensorError) {
        if info < 0 { throw TensorError("\(op): LAPACK rejected argument \(-info) (matrix \(batch))") }
        if info > 0 { throw TensorError("\(op): matrix \(batch) is \(what) (LAPACK info \(info))") }
    }

    /// Solves A X = B for X. A is [..., n, n]; B is [..., n, k] or [..., n].
    /// Differentiable in both arguments.
    public static func solve(_ a: Tensor, _ b: Tensor) throws(TensorError) -> Tensor {
        let vector = b.rank == a.rank - 1
        let bm = vector ? b.unsqueezed(-1) : b
        guard a.rank >= 2, a.shape[a.rank - 1] == a.shape[a.rank - 2] else {
            throw TensorError("solve: A must be square, got shape \(describe(a.shape))")
        }
        let n = a.shape[a.rank - 1]
        guard bm.rank == a.rank, bm.shape[bm.rank - 2] == n, Array(bm.shape.dropLast(2)) == Array(a.shape.dropLast(2)) else {
            throw TensorError("solve: B has shape \(describe(b.shape)) but A has shape \(describe(a.shape)); B needs \(n) rows and the same batch dimensions")
        }
        guard a.dtype == b.dtype else { throw TensorError("solve: A is \(a.dtype) but B is \(b.dtype); convert one") }
        let k = bm.shape[bm.rank - 1]
        let lu = a.detached().contiguousCopy()
        let piv = [Int32](repeating: 0, count: Swift.max(n, 1))
        let x = try bm.eachMatrix("solve") { (p: UnsafeMutableRawPointer, i: Int) throws(TensorError) in
            let ap = lu.baseAddress + i * n * n * a.dtype.byteSize
            var pv = piv
            let info: Int32 = a.dtype == .float32
                ? LAPACKE_sgesv(LAPACK_ROW_MAJOR, Int32(n), Int32(k), ap.assumingMemoryBound(to: Float.self), Int32(n), &pv, p.assumingMemoryBound(to: Float.self), Int32(k))
                : LAPACKE_dgesv(LAPACK_ROW_MAJOR, Int32(n), Int32(k), ap.assumingMemoryBound(to: Double.self), Int32(n), &pv, p.assumingMemoryBound(to: Double.self), Int32(k))
            try Tensor.lapackCheck(info, "solve", i, "singular")
        }
        // The VJP needs X itself: dB = A⁻ᵀ g and dA = -dB Xᵀ.
        let result = record("solve", x, [a, bm], saveOutput: true) { g, y in
            let gb = try! Tensor.solve(a.transposed(), g)
            return [-(gb.matmul(y.transposed())), gb]
        }
        return vector ? result.squeezed(-1) : result
    }

    /// Least-squares solution of min ‖A X − B‖ for full-rank A [..., m, n], B [..., m, k].
    /// Not differentiable: the result never requires gradients.
    public static func leastSquares(_ a: Tensor, _ b: Tensor) throws(TensorError) -> Tensor {
        let vector = b.rank == a.rank - 1
        let bm = vector ? b.unsqueezed(-1) : b
        guard a.rank >= 2 else { throw TensorError("leastSquares: A must be a matrix, got shape \(describe(a.shape))") }
        let m = a.shape[a.rank - 2], n = a.shape[a.rank - 1]
        guard bm.rank == a.rank, bm.shape[bm.rank - 2] == m else {
            throw TensorError("leastSquares: B has shape \(describe(b.shape)) but A has shape \(describe(a.shape)); B needs \(m) rows")
        }
        guard a.dtype == b.dtype else { throw TensorError("leastSquares: A is \(a.dtype) but B is \(b.dtype); convert one") }
        let k = bm.shape[bm.rank - 1]
        let rows = Swift.max(m, n)
        // gels overwrites B with the solution in its first n rows, so B is padded to max(m, n) rows.
        var padded = Tensor.zeros(Array(bm.shape.dropLast(2)) + [rows, k], dtype: a.dtype)
        Kernels.copy(bm.detached(), into: padded.restrided(shape: bm.shape, strides: padded.strides, offset: 0))
        let qa = a.detached().contiguousCopy()
        padded = try padded.eachMatrix("leastSquares") { (p: UnsafeMutableRawPointer, i: Int) throws(TensorError) in
            let ap = qa.baseAddress + i * m * n * a.dtype.byteSize
            let trans = Int8(UInt8(ascii: "N"))
            let info: Int32 = a.dtype == .float32
                ? LAPACKE_sgels(LAPACK_ROW_MAJOR, trans, Int32(m), Int32(n), Int32(k), ap.assumingMemoryBound(to: Float.self), Int32(n), p.assumingMemoryBound(to: Float.self), Int32(k))
                : LAPACKE_dgels(LAPACK_ROW_MAJOR, trans, Int32(m), Int32(n), Int32(k), ap.assumingMemoryBound(to: Double.self), Int32(n), p.assumingMemoryBound(to: Double.self), Int32(k))
            try Tensor.lapackCheck(info, "leastSquares", i, "rank-deficient")
        }
        let x = padded.sliced(-2, 0, n).contiguous()
        return vector ? x.squeezed(-1) : x
    }

    /// The lower-triangular L with A = L Lᵀ for symmetric positive-definite A.
    /// Not differentiable: the result never requires gradients.
    public func cholesky() throws(TensorError) -> Tensor {
        guard shape.count >= 2, shape[rank - 1] == shape[rank - 2] else {
            throw TensorError("cholesky: A must be square, got shape \(describe(shape))")
        }
        let n = shape[rank - 1]
        let l = try eachMatrix("cholesky") { (p: UnsafeMutableRawPointer, i: Int) throws(TensorError) in
            let lower = Int8(UInt8(ascii: "L"))
            let info: Int32 = dtype == .float32
                ? LAPACKE_spotrf(LAPACK_ROW_MAJOR, lower, Int32(n), p.assumingMemoryBound(to: Float.self), Int32(n))
                : LAPACKE_dpotrf(LAPACK_ROW_MAJOR, lower, Int32(n), p.assumingMemoryBound(to: Double.self), Int32(n))
            try Tensor.lapackCheck(info, "cholesky", i, "not positive-definite")
        }
        return l.lowerTriangle()
    }

    /// Reduced QR factorisation A = Q R of A [..., m, n] with m >= n: Q [..., m, n], R [..., n, n].
    /// Not differentiable: the results never require gradients.
    public func qr() throws(TensorError) -> (q: Tensor, r: Tensor) {
        guard rank >= 2 else { throw TensorError("qr needs a matrix, got shape \(describe(shape))") }
        let m = shape[rank - 2], n = shape[rank - 1]
        guard m >= n else { throw TensorError("qr: needs at least as many rows as columns, got \(describe(shape))") }
        var rParts: [Tensor] = []
        let q = try eachMatrix("qr") { (p: UnsafeMutableRawPointer, i: Int) throws(TensorError) in
            var tau = [Double](repeating: 0, count: Swift.max(n, 1))
            var tauF = [Float](repeating: 0, count: Swift.max(n, 1))
            let info: Int32 = dtype == .float32
                ? LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), p.assumingMemoryBound(to: Float.self), Int32(n), &tauF)
                : LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), p.assumingMemoryBound(to: Double.self), Int32(n), &tau)
            try Tensor.lapackCheck(info, "qr", i, "invalid")
            let r = Tensor(storage: TensorStorage(count: n * n, dtype: dtype), shape: [n, n], strides: [n, 1], offset: 0)
            r.baseAddress.copyMemory(from: p, byteCount: n * n * dtype.byteSize)
            rParts.append(r.lowerTriangle(upper: true))
            let info2: Int32 = dtype == .float32
                ? LAPACKE_sorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(n), p.assumingMemoryBound(to: Float.self), Int32(n), &tauF)
                : LAPACKE_dorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(n), p.assumingMemoryBound(to: Double.self), Int32(n), &tau)
            try Tensor.lapackCheck(info2, "qr", i, "invalid")
        }
        let r = rParts.isEmpty ? Tensor.zeros(Array(shape.dropLast(2)) + [n, n], dtype: dtype)
            : Tensor.stack(rParts).reshaped(Array(shape.dropLast(2)) + [n, n])
        return (q, r)
    }

    /// The lower (or upper) triangle of the last two dimensions, zeros elsewhere.
    public func lowerTriangle(upper: Bool = false, diagonal: Int = 0) -> Tensor {
        let r = shape[rank - 2], c = shape[rank - 1]
        let i = Tensor.arange(r).reshaped([r, 1])
        let j = Tensor.arange(c).reshaped([1, c])
        let keep = upper ? (j - i) .>= Double(diagonal) : (j - i) .<= Double(diagonal)
        return Tensor.where(keep, self, zerosLike())
    }
}
