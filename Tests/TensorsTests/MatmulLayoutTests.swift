import Testing
import Tensors

/// Batched products of strided views (attention's head splits) against the same products of
/// contiguous copies: the views reach BLAS in two strided batch levels instead of being copied.
@Suite struct MatmulLayoutTests {
    func heads(_ x: Tensor, _ h: Int) -> Tensor {
        x.reshaped([x.shape[0], x.shape[1], h, x.shape[2] / h]).permuted(0, 2, 1, 3)   // [B, H, T, dh]
    }

    @Test(arguments: [DType.float32, .float64])
    func headSplitViewsMultiplyAsTheirCopies(dtype: DType) {
        let (b, t, s, h, d) = (3, 5, 7, 4, 24)
        let q = heads(Tensor.randn([b, t, d], dtype: dtype), h)
        let k = heads(Tensor.randn([b, s, d], dtype: dtype), h)
        let v = heads(Tensor.randn([b, s, d], dtype: dtype), h)
        let tol = dtype == .float64 ? 1e-13 : 1e-5
        let scores = q.matmul(k.transposed(-1, -2))                       // [B, H, T, S]
        #expect(maxAbs(scores - q.contiguous().matmul(k.transposed(-1, -2).contiguous())) < tol)
        let attended = scores.softmax(axis: -1).matmul(v)                   // [B, H, T, dh]
        #expect(maxAbs(attended - scores.softmax(axis: -1).matmul(v.contiguous())) < tol)
        // Broadcast over the outer level: one [H, dh, S] operand for every batch entry.
        let shared = Tensor.randn([h, d / h, s], dtype: dtype)
        #expect(maxAbs(q.matmul(shared.unsqueezed(0)) - q.contiguous().matmul(shared.unsqueezed(0).contiguous())) < tol)
        // A head view whose batch levels are swapped ([H, B, T, dh]) still multiplies correctly.
        let swapped = q.permuted(1, 0, 2, 3)
        #expect(maxAbs(swapped.matmul(k.permuted(1, 0, 3, 2)) - swapped.contiguous().matmul(k.permuted(1, 0, 3, 2).contiguous())) < tol)
    }

    @Test func aRequestedMemoryOrderKeepsTheValuesAndMakesTheHeadMergeAView() {
        let (b, h, t, s, d) = (2, 3, 4, 5, 6)
        let p = Tensor.randn([b, h, t, s], dtype: .float64), v = Tensor.randn([b, h, s, d], dtype: .float64)
        let ordered = p.matmul(v, memoryOrder: [0, 2, 1, 3])
        #expect(ordered.shape == [b, h, t, d])
        #expect(maxAbs(ordered - p.matmul(v)) == 0)
        #expect(ordered.permuted(0, 2, 1, 3).isContiguous)
        // An order whose last entry is not the last dimension is not honoured, only the values are.
        #expect(maxAbs(p.matmul(v, memoryOrder: [0, 1, 3, 2]) - p.matmul(v)) == 0)
    }

    @Test func headSplitGradientsMatchFiniteDifferences() throws {
        let (b, t, h, d) = (2, 3, 2, 4)
        let report = try gradcheck({ inputs in
            let parts = inputs[0].chunked(3, axis: 2)
            let scores = heads(parts[0], h).matmul(heads(parts[1], h).transposed(-1, -2))
            return scores.softmax(axis: -1).matmul(heads(parts[2], h)).tanh().sum()
        }, inputs: [Tensor.randn([b, t, 3 * d], dtype: .float64, generator: RandomGenerator(seed: 5))])
        #expect(report.passed, "\(report)")
    }
}
