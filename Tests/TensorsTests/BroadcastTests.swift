import Testing
import Tensors

// NumPy broadcasting: shape rule, stride-0 expansion, and ops over broadcast operands.
@Suite struct BroadcastTests {
    @Test(arguments: [
        ([2, 3], [3], [2, 3] as [Int]?),
        ([3, 1, 4], [5, 1], [3, 5, 4]),
        ([1], [7, 2], [7, 2]),
        ([], [2, 2], [2, 2]),
        ([4, 1], [1, 4], [4, 4]),
        ([2, 0], [1], [2, 0]),
        ([2, 3], [4], nil),
        ([2, 3, 4], [3, 1, 1], nil),
    ] as [([Int], [Int], [Int]?)])
    func shapeRule(a: [Int], b: [Int], expected: [Int]?) throws {
        #expect(referenceBroadcast(a, b) == expected)
        if let expected {
            #expect(try Tensor.broadcastShapes(a, b) == expected)
            #expect(try Tensor.broadcastShapes(b, a) == expected)
        } else {
            #expect(throws: TensorError.self) { try Tensor.broadcastShapes(a, b) }
        }
    }

    @Test func broadcastErrorNamesBothShapes() {
        do {
            _ = try Tensor.broadcastShapes([2, 3], [4])
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("[2, 3]"))
            #expect(error.message.contains("[4]"))
        }
    }

    @Test(arguments: [DType.float32, .float64, .int64])
    func binaryOpsOverBroadcastOperands(dtype: DType) {
        var rng = TestRNG(11)
        let cases: [([Int], [Int])] = [([3, 1, 4], [5, 1]), ([4], [2, 3, 4]), ([], [2, 3]), ([2, 1], [1, 3]), ([1, 1, 1], [2, 2])]
        for (sa, sb) in cases {
            let out = referenceBroadcast(sa, sb)!
            let va = stored(dtype == .int64 ? rng.integers(elementCount(sa), -9, 9) : rng.values(elementCount(sa)), dtype)
            let vb = stored(dtype == .int64 ? rng.integers(elementCount(sb), -9, 9) : rng.values(elementCount(sb)), dtype)
            for layout in Layout.allCases {
                let a = laidOut(va, sa, dtype, layout)
                let b = laidOut(vb, sb, dtype, layout)
                var add = [Double](), mul = [Double](), sub = [Double]()
                for f in 0..<elementCount(out) {
                    let idx = unravel(f, out)
                    let x = va[broadcastSource(idx, sa)], y = vb[broadcastSource(idx, sb)]
                    add.append(x + y); mul.append(x * y); sub.append(x - y)
                }
                expectClose(a + b, add, shape: out, "\(dtype) \(sa)+\(sb) \(layout)")
                expectClose(a * b, mul, shape: out, "\(dtype) \(sa)*\(sb) \(layout)")
                expectClose(a - b, sub, shape: out, "\(dtype) \(sa)-\(sb) \(layout)")
                expectClose(b - a, sub.map { -$0 }, shape: out, "\(dtype) \(sb)-\(sa) \(layout)")
            }
        }
    }

    @Test func expandedOperandsBehaveLikeMaterialisedOnes() {
        let v = Tensor([1, 2, 3] as [Double])
        let e = v.expanded(to: [4, 3])
        let m = Tensor([10, 20, 30, 40] as [Double], shape: [4, 1]).expanded(to: [4, 3])
        let r = e * m + e
        var ref: [Double] = []
        for i in 0..<4 { for j in 0..<3 { ref.append(Double(j + 1) * Double((i + 1) * 10) + Double(j + 1)) } }
        expectClose(r, ref, shape: [4, 3])
        #expect(e.sum().item == 24)
        #expect(e.contiguous().scalars == [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3])
    }

    @Test func randomStridedAndBroadcastOperands() {
        // Random permuted, step-sliced and broadcast views; the reference reads every element
        // through value(at:), which computes storage offsets in Swift, not in the C walker.
        var rng = TestRNG(151)
        func randomView(_ shape: [Int]) -> Tensor {
            let rank = shape.count
            var order = Array(0..<rank)
            for i in stride(from: rank - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            var inverse = [Int](repeating: 0, count: rank)
            for (i, d) in order.enumerated() { inverse[d] = i }
            // Store a larger tensor, permute it, and slice every other element of one axis.
            let stepAxis = rank == 0 ? -1 : Int(rng.next() % UInt64(rank))
            var stored = shape
            if stepAxis >= 0 { stored[stepAxis] *= 2 }
            let permutedShape = order.map { stored[$0] }
            let base = Tensor(rng.values(elementCount(permutedShape)), shape: permutedShape)
            var v = base.permuted(inverse)
            if stepAxis >= 0 { v = v.sliced(stepAxis, 0, nil, step: 2) }
            return v
        }
        for _ in 0..<40 {
            let rank = 1 + Int(rng.next() % 4)
            let out = (0..<rank).map { _ in 1 + Int(rng.next() % 4) }
            // b drops some leading axes and sets some others to 1.
            let drop = Int(rng.next() % UInt64(rank))
            let bShape = out.dropFirst(drop).map { rng.next() % 3 == 0 ? 1 : $0 }
            var a = randomView(out)
            if rng.next() % 4 == 0 { a = randomView(out.map { _ in 1 }).expanded(to: out) }
            let b = randomView(Array(bShape))
            let y = a * b + a
            #expect(y.shape == out)
            var maxErr = 0.0
            for f in 0..<elementCount(out) {
                let idx = unravel(f, out)
                let bIdx = Array(idx.dropFirst(drop)).enumerated().map { bShape[$0.offset] == 1 ? 0 : $0.element }
                let expected = a.value(at: idx) * b.value(at: bIdx) + a.value(at: idx)
                maxErr = max(maxErr, abs(y.value(at: idx) - expected))
            }
            #expect(maxErr < 1e-12, "shapes \(out) and \(bShape): max error \(maxErr)")
        }
    }
}
