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
}
