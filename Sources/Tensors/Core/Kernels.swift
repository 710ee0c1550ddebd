import CKernels

/// Swift-side calls into the C kernels. Every function takes strided operands and allocates a
/// contiguous result; none of them records autograd.

enum Kernels {
    
    static func withDims<R>(_ a: [Int], _ body: (UnsafePointer<Int64>) -> R) -> R {
        a.withUnsafeBufferPointer { buf in
            body(UnsafeRawPointer(buf.baseAddress ?? UnsafePointer(bitPattern: 8)!).assumingMemoryBound(to: Int64.self))
        }
    }

    /// Copies `src` into `dst` (same shape, any strides), converting the element type.
    
    static func copy(_ src: Tensor, into dst: Tensor) {
        precondition(src.shape == dst.shape)
        withDims(src.shape) { shape in
            withDims(src.strides) { ss in
                withDims(dst.strides) { ds in
                    eq_copy(src.dtype.code, dst.dtype.code, Int32(src.rank), shape,
                            src.baseAddress, ss, dst.baseAddress, ds)
                }
            }
        }
    }

    
    static func unary(_ op: eq_unary_op, _ x: Tensor, _ p0: Double = 0, _ p1: Double = 0) -> Tensor {
        let out = Tensor(empty: x.shape, dtype: x.dtype)
        withDims(x.shape) { shape in
            withDims(x.strides) { xs in
                withDims(out.strides) { ys in
                    eq_unary(Int32(op.rawValue), x.dtype.code, Int32(x.rank), shape, x.baseAddress, xs,
                             out.baseAddress, ys, p0, p1)
                }
            }
        }
        return out
    }

    /// Strides that read `t` as if it had the (broadcast) shape `shape`.
    
    static func broadcastStrides(_ t: Tensor, to shape: [Int]) -> [Int] {
        let n = shape.count, k = t.rank
        var s = [Int](repeating: 0, count: n)
        for i in 0..<k where t.shape[i] != 1 {
            s[n - k + i] = t.strides[i]
        }
        return s
    }

    /// Elementwise binary op on operands already converted to the same dtype.
    
    static func binary(_ op: eq_binary_op, _ a: Tensor, _ b: Tensor, shape: [Int]) -> Tensor {
        let compare = op.rawValue >= EQ_EQ.rawValue && op.rawValue <= EQ_GE.rawValue
        let outType: DType = compare ? .bool : a.dtype
        let out = a.shape == shape ? Tensor(emptyLike: a, dtype: outType)
            : b.shape == shape ? Tensor(emptyLike: b, dtype: outType) : Tensor(empty: shape, dtype: outType)
        let sa = a.shape == shape ? a.strides : broadcastStrides(a, to: shape)
        let sb = b.shape == shape ? b.strides : broadcastStrides(b, to: shape)
        withDims(shape) { sh in
            withDims(sa) { pa in
                withDims(sb) { pb in
                    withDims(out.strides) { po in
                        eq_binary(Int32(op.rawValue), a.dtype.code, Int32(shape.count), sh, a.baseAddress, pa,
                                  b.baseAddress, pb, out.baseAddress, po)
                    }
                }
            }
        }
        return out
    }

    
    static func select(_ cond: Tensor, _ a: Tensor, _ b: Tensor, shape: [Int]) -> Tensor {
        let out = Tensor(empty: shape, dtype: a.dtype)
        let sc = broadcastStrides(cond, to: shape)
        let sa = broadcastStrides(a, to: shape)
        let sb = broadcastStrides(b, to: shape)
        withDims(shape) { sh in
            withDims(sc) { pc in
                withDims(sa) { pa in
                    withDims(sb) { pb in
                        withDims(out.strides) { po in
                            eq_where(a.dtype.code, Int32(shape.count), sh,
                                     cond.baseAddress.assumingMemoryBound(to: UInt8.self), pc,
                                     a.baseAddress, pa, b.baseAddress, pb, out.baseAddress, po)
                        }
                    }
                }
            }
        }
        return out
    }
}
