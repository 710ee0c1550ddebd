import Testing
import Tensors

// Views share storage, carry the right shape and strides, and read the right values;
// contiguous() copies only when needed; tensors have value semantics (copy on write).
@Suite struct ViewTests {
    let base = Tensor((0..<24).map { Double($0) }, shape: [2, 3, 4])

    @Test func reshapeOfContiguousIsAView() {
        let r = base.reshaped([4, 6])
        #expect(r.sharesStorage(with: base))
        #expect(r.shape == [4, 6])
        #expect(r.strides == [6, 1])
        #expect(r.scalars == (0..<24).map(Double.init))
        let inferred = base.reshaped([-1, 2])
        #expect(inferred.shape == [12, 2])
        #expect(inferred.sharesStorage(with: base))
        #expect(base.flattened().shape == [24])
        #expect(base.flattened(from: 1).shape == [2, 12])
        #expect(base.flattened(from: 1).sharesStorage(with: base))
    }

    @Test func reshapeOfCompatibleStridedViewIsAView() {
        // Splitting the trailing axis of a transposed tensor keeps strides expressible.
        let t = base.permuted([2, 0, 1])  // [4, 2, 3], strides [1, 12, 4]
        let r = t.reshaped([2, 2, 6])     // first axis 4 -> 2x2: strides [2, 1, ?] — merging 2,3 needs 12 == 4*3 ✓
        #expect(r.sharesStorage(with: base))
        let expected = t.contiguous().scalars
        #expect(r.scalars == expected)
        #expect(r.strides == [2, 1, 4])
    }

    @Test func reshapeCopiesWhenStridesCannotExpressIt() {
        let t = base.transposed(0, 2)  // [4, 3, 2]
        let r = t.reshaped([24])
        #expect(!r.sharesStorage(with: base))
        // Reference: row-major walk of the transposed index space.
        var ref: [Double] = []
        for i in 0..<4 { for j in 0..<3 { for k in 0..<2 { ref.append(Double(k * 12 + j * 4 + i)) } } }
        #expect(r.scalars == ref)
    }

    @Test func transposeAndPermute() {
        let t = base.transposed()  // swaps the last two axes
        #expect(t.shape == [2, 4, 3])
        #expect(t.strides == [12, 1, 4])
        #expect(t.sharesStorage(with: base))
        #expect(!t.isContiguous)
        let p = base.permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        #expect(p.strides == [1, 12, 4])
        for i in 0..<4 { for j in 0..<2 { for k in 0..<3 {
            #expect(p.value(at: [i, j, k]) == Double(j * 12 + k * 4 + i))
        } } }
        let m = Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        #expect(m.T.shape == [3, 2])
        #expect(m.T.scalars == [1, 4, 2, 5, 3, 6])
        #expect(base.permuted([-1, 0, 1]).shape == [4, 2, 3])
    }

    @Test func slicesAndNarrow() {
        let s = base.sliced(2, 1, 4, step: 2)  // last axis 1, 3
        #expect(s.shape == [2, 3, 2])
        #expect(s.strides == [12, 4, 2])
        #expect(s.sharesStorage(with: base))
        var ref: [Double] = []
        for i in 0..<2 { for j in 0..<3 { for k in [1, 3] { ref.append(Double(i * 12 + j * 4 + k)) } } }
        #expect(s.scalars == ref)
        let n = base.narrow(1, start: 1, length: 2)
        #expect(n.shape == [2, 2, 4])
        #expect(n.sharesStorage(with: base))
        #expect(n.value(at: [1, 0, 0]) == 16)
        let fromEnd = base.narrow(-1, start: -2, length: 2)
        #expect(fromEnd.shape == [2, 3, 2])
        #expect(fromEnd.value(at: [0, 0, 0]) == 2)
        #expect(base.narrow(0, start: 2, length: 0).shape == [0, 3, 4])
        let neg = base.sliced(-1, -2)
        #expect(neg.shape == [2, 3, 2])
        #expect(neg.value(at: [0, 0, 0]) == 2)
        #expect(base[1..<2].shape == [1, 3, 4])
        let empty = base.sliced(1, 2, 2)
        #expect(empty.shape == [2, 0, 4])
        #expect(empty.count == 0)
    }

    @Test func selectAndSubscripts() {
        let s = base.select(1, 2)
        #expect(s.shape == [2, 4])
        #expect(s.strides == [12, 1])
        #expect(s.sharesStorage(with: base))
        #expect(s.scalars == [8, 9, 10, 11, 20, 21, 22, 23])
        #expect(base.select(-1, -1).scalars == [3, 7, 11, 15, 19, 23])
        #expect(base[1].shape == [3, 4])
        #expect(base[1, 2, 3].item == 23)
        #expect(base[1, 2].scalars == [20, 21, 22, 23])
    }

    @Test func expandSqueezeUnsqueeze() {
        let col = Tensor([1, 2, 3] as [Double], shape: [3, 1])
        let e = col.expanded(to: [2, 3, 4])
        #expect(e.shape == [2, 3, 4])
        #expect(e.strides == [0, 1, 0])
        #expect(e.sharesStorage(with: col))
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { #expect(e.value(at: [i, j, k]) == Double(j + 1)) } } }
        let u = base.unsqueezed(1)
        #expect(u.shape == [2, 1, 3, 4])
        #expect(u.sharesStorage(with: base))
        #expect(u.scalars == base.scalars)
        #expect(base.unsqueezed(-1).shape == [2, 3, 4, 1])
        #expect(base.unsqueezed(3).shape == [2, 3, 4, 1])
        let sq = u.squeezed(1)
        #expect(sq.shape == [2, 3, 4])
        #expect(sq.strides == base.strides)
        #expect(sq.sharesStorage(with: base))
        #expect(Tensor.zeros([1, 3, 1]).squeezed().shape == [3])
        // Squeezing a non-unit axis leaves the tensor alone (as in PyTorch).
        #expect(base.squeezed(0).shape == [2, 3, 4])
        // An unsqueezed transposed view keeps its values.
        let t = base.transposed().unsqueezed(0)
        #expect(t.shape == [1, 2, 4, 3])
        #expect(t.contiguous().scalars == base.transposed().contiguous().scalars)
    }

    @Test func contiguousCopiesOnlyWhenNeeded() {
        let same = base.contiguous()
        #expect(same.sharesStorage(with: base))
        let t = base.transposed()
        let c = t.contiguous()
        #expect(!c.sharesStorage(with: base))
        #expect(c.isContiguous)
        #expect(c.strides == [12, 3, 1])
        var ref: [Double] = []
        for i in 0..<2 { for k in 0..<4 { for j in 0..<3 { ref.append(Double(i * 12 + j * 4 + k)) } } }
        #expect(c.scalars == ref)
        // A size-1 axis with an odd stride is still contiguous.
        let row = base.select(0, 0).narrow(0, start: 1, length: 1)
        #expect(row.isContiguous)
        #expect(row.contiguous().sharesStorage(with: base))
        // A sliced view with an offset is contiguous when its elements are adjacent.
        let tail = base.narrow(0, start: 1, length: 1)
        #expect(tail.isContiguous)
        #expect(tail.contiguous().sharesStorage(with: base))
    }

    @Test func copyOnWriteValueSemantics() {
        let original = base
        var view = original.transposed()
        view.setValue(-1, at: [0, 0, 0])
        #expect(view.value(at: [0, 0, 0]) == -1)
        #expect(original.value(at: [0, 0, 0]) == 0)
        #expect(!view.sharesStorage(with: original))
        // Other elements of the written copy keep their values.
        #expect(view.value(at: [1, 3, 2]) == original.value(at: [1, 2, 3]))

        var copy = original
        copy.setValue(100, at: [1, 2, 3])
        #expect(copy.value(at: [1, 2, 3]) == 100)
        #expect(original.value(at: [1, 2, 3]) == 23)

        var s = original.sliced(2, 1, 3)
        s.setValue(7, at: [0, 0, 0])
        #expect(s.scalars[0] == 7)
        #expect(original.value(at: [0, 0, 1]) == 1)

        // A uniquely owned contiguous tensor is written in place.
        var unique = Tensor.zeros([3])
        unique.setValue(2, at: [1])
        #expect(unique.scalars == [0, 2, 0])
    }

    @Test func viewsOfViewsComposeStrides() {
        let x = Tensor((0..<60).map { Double($0) }, shape: [3, 4, 5])
        let v = x.permuted([1, 2, 0]).sliced(0, 1, 4, step: 2).select(1, 3)  // [2, 3]
        #expect(v.sharesStorage(with: x))
        #expect(v.shape == [2, 3])
        var ref: [Double] = []
        for a in [1, 3] { for c in 0..<3 { ref.append(Double(c * 20 + a * 5 + 3)) } }
        #expect(v.scalars == ref)
    }

    @Test func reshapeOfRandomViewsKeepsRowMajorOrder() {
        // Random permutations and slices of a [4, 6, 5] tensor reshaped to every factorisation
        // of their element count: the values must always be the row-major walk of the view.
        var rng = TestRNG(139)
        let x = Tensor((0..<120).map { Double($0) }, shape: [4, 6, 5])
        let perms = [[0, 1, 2], [2, 1, 0], [1, 0, 2], [0, 2, 1]]
        func factorisations(_ n: Int, _ parts: Int) -> [[Int]] {
            if parts == 1 { return [[n]] }
            var out: [[Int]] = []
            for d in 1...n where n % d == 0 { out += factorisations(n / d, parts - 1).map { [d] + $0 } }
            return out
        }
        var views = 0, copies = 0
        for perm in perms {
            for _ in 0..<3 {
                var v = x.permuted(perm)
                let axis = Int(rng.next() % 3)
                let n = v.shape[axis]
                let start = Int(rng.next() % UInt64(n / 2 + 1))
                v = v.sliced(axis, start, nil, step: 1 + Int(rng.next() % 2))
                let expected = v.contiguous().scalars
                for parts in 1...3 {
                    for target in factorisations(v.count, parts) {
                        let r = v.reshaped(target + [1])
                        #expect(r.shape == target + [1])
                        #expect(r.scalars == expected, "reshape of \(v.shape) strides \(v.strides) to \(target)")
                        if r.sharesStorage(with: x) { views += 1 } else { copies += 1 }
                    }
                }
            }
        }
        #expect(views > 0 && copies > 0)
    }
}
