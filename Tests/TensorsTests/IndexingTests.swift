import Testing
import Tensors

// Index-driven ops and joining / splitting against naive loops.
@Suite struct IndexingTests {
    let shape = [3, 4, 5]

    @Test(arguments: [DType.float32, .float64, .int64])
    func indexSelectAndIndexAdd(dtype: DType) {
        var rng = TestRNG(61)
        let vals = stored(rng.integers(60, -9, 9), dtype)
        for axis in [0, 1, 2, -1] {
            let a = axis < 0 ? axis + 3 : axis
            let n = shape[a]
            let idx = [n - 1, 0, n - 1, 1]  // repeats
            var outShape = shape
            outShape[a] = idx.count
            let expected = (0..<elementCount(outShape)).map { f -> Double in
                var i = unravel(f, outShape)
                i[a] = idx[i[a]]
                return vals[ravel(i, shape)]
            }
            // indexAdd: repeated indices accumulate.
            let src = stored(rng.integers(elementCount(outShape), -5, 5), dtype)
            var added = vals
            for f in 0..<src.count {
                var i = unravel(f, outShape)
                i[a] = idx[i[a]]
                added[ravel(i, shape)] += src[f]
            }
            for layout in Layout.allCases {
                let x = laidOut(vals, shape, dtype, layout)
                let it = laidOut(idx.map(Double.init), [idx.count], .int64, layout)
                let y = x.indexSelect(axis: axis, it)
                #expect(y.dtype == dtype)
                expectClose(y, expected, shape: outShape, "indexSelect axis \(axis) \(dtype) \(layout)")
                let z = x.indexAdd(axis: axis, it, laidOut(src, outShape, dtype, layout))
                expectClose(z, added, shape: shape, "indexAdd axis \(axis) \(dtype) \(layout)")
            }
        }
    }

    @Test(arguments: [DType.float32, .float64, .int64])
    func gatherAndScatterAdd(dtype: DType) {
        var rng = TestRNG(67)
        let vals = stored(rng.integers(60, -9, 9), dtype)
        for axis in [0, 1, 2] {
            var idxShape = shape
            idxShape[axis] = 2  // fewer entries than the axis holds
            let idx = rng.integers(elementCount(idxShape), 0, shape[axis] - 1)
            let gathered = (0..<idx.count).map { f -> Double in
                var i = unravel(f, idxShape)
                i[axis] = Int(idx[f])
                return vals[ravel(i, shape)]
            }
            let src = stored(rng.integers(idx.count, -5, 5), dtype)
            var scattered = vals
            for f in 0..<idx.count {
                var i = unravel(f, idxShape)
                i[axis] = Int(idx[f])
                scattered[ravel(i, shape)] += src[f]
            }
            for layout in Layout.allCases {
                let x = laidOut(vals, shape, dtype, layout)
                let it = laidOut(idx, idxShape, .int64, layout)
                expectClose(x.gather(axis: axis, it), gathered, shape: idxShape, "gather axis \(axis) \(dtype) \(layout)")
                let s = x.scatterAdd(axis: axis, it, laidOut(src, idxShape, dtype, layout))
                expectClose(s, scattered, shape: shape, "scatterAdd axis \(axis) \(dtype) \(layout)")
            }
        }
    }

    @Test func oneHot() {
        let labels = Tensor([2, 0, 3, 3, 1, 0] as [Int64], shape: [2, 3])
        for layout in Layout.allCases {
            let l = laidOut(labels.scalars, [2, 3], .int64, layout)
            let h = l.oneHot(classes: 4)
            #expect(h.shape == [2, 3, 4])
            #expect(h.dtype == .float32)
            let ref = (0..<24).map { f -> Double in Double(Int(labels.scalars[f / 4]) == f % 4 ? 1 : 0) }
            #expect(h.scalars == ref, "oneHot \(layout)")
        }
        #expect(Tensor([1] as [Int64]).oneHot(classes: 3, dtype: .float64).scalars == [0, 1, 0])
        #expect(Tensor([1] as [Int64]).oneHot(classes: 3, dtype: .float64).dtype == .float64)
        let b = Tensor([1, 0] as [Int64]).oneHot(classes: 3, dtype: .bool)
        #expect(b.dtype == .bool)
        #expect(b.scalars == [0, 1, 0, 1, 0, 0])
        #expect(Tensor([2] as [Int64]).oneHot(classes: 3, dtype: .int64).scalars == [0, 0, 1])
        // Bool tensors can be selected and gathered.
        #expect(Tensor([true, false, true]).indexSelect(axis: 0, Tensor([2, 1] as [Int64])).scalars == [1, 0])
        #expect(Tensor([true, false, true]).gather(axis: 0, Tensor([1, 0] as [Int64])).scalars == [0, 1])
    }

    @Test(arguments: [DType.float32, .float64, .int64])
    func concatAndStack(dtype: DType) {
        var rng = TestRNG(71)
        for axis in [0, 1, 2, -1] {
            let a = axis < 0 ? axis + 3 : axis
            let sizes = [2, 1, 3]
            let shapes = sizes.map { s -> [Int] in var sh = shape; sh[a] = s; return sh }
            let parts = shapes.map { stored(rng.integers(elementCount($0), -9, 9), dtype) }
            var outShape = shape
            outShape[a] = sizes.reduce(0, +)
            let expected = (0..<elementCount(outShape)).map { f -> Double in
                var i = unravel(f, outShape)
                var p = 0
                while i[a] >= sizes[p] { i[a] -= sizes[p]; p += 1 }
                return parts[p][ravel(i, shapes[p])]
            }
            let tensors = zip(parts, shapes).enumerated().map { k, ps in
                laidOut(ps.0, ps.1, dtype, Layout.allCases[k % 3])
            }
            let c = Tensor.concat(tensors, axis: axis)
            #expect(c.dtype == dtype)
            expectClose(c, expected, shape: outShape, "concat axis \(axis) \(dtype)")
            // split and chunked invert concat, as views.
            let pieces = c.split(sizes: sizes, axis: axis)
            #expect(pieces.count == 3)
            for (p, piece) in pieces.enumerated() {
                expectClose(piece, parts[p], shape: shapes[p], "split piece \(p)")
                #expect(piece.sharesStorage(with: c))
            }
        }
        for axis in [0, 1, 2, 3, -1] {
            let parts = (0..<3).map { _ in stored(rng.integers(60, -9, 9), dtype) }
            let s = Tensor.stack(parts.enumerated().map { laidOut($0.element, shape, dtype, Layout.allCases[$0.offset]) }, axis: axis)
            let a = axis < 0 ? axis + 4 : axis
            var outShape = shape
            outShape.insert(3, at: a)
            let expected = (0..<elementCount(outShape)).map { f -> Double in
                var i = unravel(f, outShape)
                let p = i.remove(at: a)
                return parts[p][ravel(i, shape)]
            }
            expectClose(s, expected, shape: outShape, "stack axis \(axis) \(dtype)")
        }
    }

    @Test func concatPromotesMixedTypes() {
        let c = Tensor.concat([Tensor([1, 2] as [Int64]), Tensor([0.5] as [Float])])
        #expect(c.dtype == .float32)
        #expect(c.scalars == [1, 2, 0.5])
        let d = Tensor.concat([Tensor([1] as [Float]), Tensor([0.25] as [Double])])
        #expect(d.dtype == .float64)
    }

    @Test func chunked() {
        let x = Tensor((0..<14).map { Double($0) }, shape: [7, 2])
        let parts = x.chunked(3)
        #expect(parts.map(\.shape) == [[3, 2], [3, 2], [1, 2]])
        #expect(parts[2].scalars == [12, 13])
        let cols = x.chunked(2, axis: 1)
        #expect(cols.map(\.shape) == [[7, 1], [7, 1]])
        let odd: [Double] = [1, 3, 5, 7, 9, 11, 13]
        #expect(cols[1].scalars == odd)
        #expect(x.chunked(7).count == 7)
        let t = x.T.chunked(2, axis: -1)
        #expect(t.map(\.shape) == [[2, 4], [2, 3]])
        #expect(t[1].scalars == [8, 10, 12, 9, 11, 13])
        #expect(x.split(sizes: [0, 7]).map(\.shape) == [[0, 2], [7, 2]])
    }
}
