import Testing
import Tensors

// Empty tensors, 0-d tensors and degenerate sizes flow through the ops without special cases.
@Suite struct EdgeCaseTests {
    @Test func emptyTensors() {
        let e = Tensor.zeros([0, 3])
        #expect(e.sum().item == 0)
        #expect(e.sum(axes: [0]).scalars == [0, 0, 0])
        #expect(e.prod(axes: [0]).scalars == [1, 1, 1])
        #expect((e + 1).shape == [0, 3])
        #expect(e.exp().shape == [0, 3])
        #expect(e.reshaped([-1, 3]).shape == [0, 3])
        #expect(e.reshaped([3, 0]).shape == [3, 0])
        #expect(Tensor.concat([e, Tensor.ones([2, 3])]).scalars == [1, 1, 1, 1, 1, 1])
        #expect(e.softmax().shape == [0, 3])
        #expect(e.T.contiguous().shape == [3, 0])
        #expect(Tensor.zeros([0, 4]).matmul(Tensor.zeros([4, 3])).shape == [0, 3])
        // An inner dimension of 0 gives zeros, as an empty sum.
        #expect(Tensor.ones([2, 0]).matmul(Tensor.ones([0, 3])).scalars == [0, 0, 0, 0, 0, 0])
        #expect(Tensor([1, 2, 3] as [Float]).sliced(0, 5).shape == [0])
    }

    @Test func zeroDimensionalTensors() {
        let s = Tensor(2, dtype: .float64)
        #expect(s.shape == [] && s.count == 1)
        #expect((s + s).item == 4)
        #expect(s.sum().item == 2)
        #expect(s.reshaped([1, 1]).shape == [1, 1])
        #expect(s.unsqueezed(0).shape == [1])
        #expect(s.expanded(to: [2, 2]).scalars == [2, 2, 2, 2])
        #expect((Tensor([1, 2] as [Double]) * s).scalars == [2, 4])
        #expect(Tensor([3, 4] as [Double]).matmul(Tensor([5, 6] as [Double])).shape == [])
        // A 0-d tensor accepts axis 0 and -1 (as PyTorch) in reductions and row-wise ops.
        #expect(s.sum(axis: 0).item == 2)
        #expect(s.sum(axis: -1, keepDim: true).shape == [])
        #expect(s.mean(axis: 0).item == 2)
        #expect(s.max(axis: 0).item == 2)
        #expect(s.argmax(axis: -1).item == 0)
        #expect(s.logsumexp(axis: 0).item == 2)
        #expect(s.variance(axes: [0], correction: 0).item == 0)
        #expect(s.softmax().item == 1)
        #expect(s.logSoftmax(axis: 0).item == 0)
    }

    @Test func twelveDimensionsWork() {
        // The most dimensions a tensor may have; a permuted view cannot be coalesced by the walker.
        let shape = [Int](repeating: 2, count: 12)
        let x = Tensor((0..<4096).map { Double($0) }, shape: shape)
        let order = Array((0..<12).reversed())
        let y = x.permuted(order) + 1
        #expect(y.shape == shape)
        // Element (i0, ..., i11) of the reversed view is x[i11, ..., i0].
        let probe = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0]
        #expect(y.value(at: probe) == x.value(at: probe.reversed()) + 1)
        #expect(y.sum().item == x.sum().item + 4096)
    }

    @Test func integerDivisionFloors() {
        // int64 / int64 is floor division (Python's //), including for negative operands.
        #expect((Tensor([5, 7, -7, -8] as [Int64]) / Tensor([2, -2, 2, 4] as [Int64])).scalars == [2, -4, -4, -2])
        #expect((Tensor([5, 7] as [Int64]) / 0.5).scalars == [10, 14])
        #expect((Tensor([5, 7] as [Int64]) / 0.5).dtype == .float32)
        #expect(Tensor([1, 2] as [Int64]).mean().dtype == .float32)
        #expect(Tensor([true, false]).mean().item == 0.5)
    }

    @Test("in-place scaled writes: contiguous fast path, a strided destination, another dtype")
    func inPlaceScaledWrites() {
        let src = Tensor([1, 2, 3, 4, 5, 6] as [Double], shape: [2, 3])
        let dst = Tensor.zeros([2, 3], dtype: .float64)
        dst.assign(src, scaledBy: 0.5)
        #expect(dst.scalars == [0.5, 1, 1.5, 2, 2.5, 3])
        dst.scale(by: 2)
        #expect(dst.scalars == src.scalars)
        let wide = Tensor.zeros([3, 2], dtype: .float32)
        let columns = wide.T                                   // [2, 3], strided
        columns.assign(src, scaledBy: -1)
        #expect(wide.scalars == [-1, -4, -2, -5, -3, -6])
    }
}

