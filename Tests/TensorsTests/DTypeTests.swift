import Testing
import Tensors

// Type promotion (PyTorch rules), conversions and element-type round trips.
@Suite struct DTypeTests {
    @Test func byteSizesAndNames() {
        #expect(DType.float32.byteSize == 4)
        #expect(DType.float64.byteSize == 8)
        #expect(DType.int64.byteSize == 8)
        #expect(DType.bool.byteSize == 1)
        #expect(DType.allCases.map(\.description) == ["float32", "float64", "int64", "bool"])
        #expect(DType.float32.isFloatingPoint && DType.float64.isFloatingPoint)
        #expect(!DType.int64.isFloatingPoint && !DType.bool.isFloatingPoint)
    }

    @Test func promotionBetweenDimensionedTensors() {
        let f = Tensor([1, 2] as [Float]), d = Tensor([1, 2] as [Double])
        let i = Tensor([1, 2] as [Int64]), b = Tensor([true, false])
        #expect((f + d).dtype == .float64)
        #expect((d + f).dtype == .float64)
        #expect((i + f).dtype == .float32)
        #expect((i + d).dtype == .float64)
        #expect((b + i).dtype == .int64)
        #expect((b + f).dtype == .float32)
        #expect((i + i).dtype == .int64)
        #expect((b .== b).dtype == .bool)
        #expect((i + f).scalars == [2, 4])
        #expect((b + i).scalars == [2, 2])
    }

    @Test func zeroDimensionalOperandsDoNotRaiseTheCategory() {
        let f = Tensor([1, 2] as [Float])
        let i = Tensor([1, 2] as [Int64])
        #expect((f + Tensor(3, dtype: .float64)).dtype == .float32)
        #expect((Tensor(3, dtype: .float64) * f).dtype == .float32)
        #expect((i + Tensor(3, dtype: .int64)).dtype == .int64)
        // A float scalar lifts an integer tensor to the default float type.
        #expect((i + Tensor(0.5, dtype: .float64)).dtype == .float32)
        #expect((Tensor(2, dtype: .float64) + Tensor(3, dtype: .float32)).dtype == .float64)
    }

    @Test func swiftScalarOperands() {
        let i = Tensor([1, 2, 3] as [Int64])
        #expect((i * 2).dtype == .int64)
        #expect((i * 2).scalars == [2, 4, 6])
        #expect((i * 0.5).dtype == .float32)
        #expect((i * 0.5).scalars == [0.5, 1, 1.5])
        #expect((i + 1).dtype == .int64)
        #expect((1 - i).scalars == [0, -1, -2])
        let f = Tensor([1, 2] as [Float])
        #expect((f + 1e-3).dtype == .float32)
        #expect((2 / f).scalars == [2, 1])
        #expect((f / 2).scalars == [0.5, 1])
    }

    @Test func conversions() {
        let d = Tensor([1.7, -1.7, 0, 3] as [Double])
        #expect(d.to(.float32).dtype == .float32)
        #expect(d.to(.int64).scalars == [1, -1, 0, 3])  // truncation toward zero, as C casts
        #expect(d.to(.bool).scalars == [1, 1, 0, 1])
        #expect(d.to(.float64).sharesStorage(with: d))
        let big = Tensor([Int64(1) << 60, -(Int64(1) << 60) + 1])
        #expect(big.toArray(Int64.self) == [Int64(1) << 60, -(Int64(1) << 60) + 1])
        #expect(big.toArray(Int.self) == [1 << 60, -(1 << 60) + 1])
        #expect(Tensor([true, false]).toArray(Bool.self) == [true, false])
        #expect(Tensor([1.5, 2.5] as [Double]).toArray(Float.self) == [1.5, 2.5])
        // Converting a strided view converts the viewed elements.
        let m = Tensor([1, 2, 3, 4, 5, 6] as [Double], shape: [2, 3]).T.to(.int64)
        #expect(m.scalars == [1, 4, 2, 5, 3, 6])
    }

    @Test func creationDTypes() {
        #expect(Tensor.zeros([2]).dtype == .float32)
        #expect(Tensor.ones([2], dtype: .float64).scalars == [1, 1])
        #expect(Tensor.full([2, 2], 7, dtype: .int64).scalars == [7, 7, 7, 7])
        #expect(Tensor.arange(5).dtype == .int64)
        #expect(Tensor.arange(5).scalars == [0, 1, 2, 3, 4])
        #expect(Tensor.arange(1, 2, step: 0.25, dtype: .float64).scalars == [1, 1.25, 1.5, 1.75])
        #expect(Tensor.arange(5, 0, step: -2, dtype: .int64).scalars == [5, 3, 1])
        #expect(Tensor.linspace(0, 1, count: 5, dtype: .float64).scalars == [0, 0.25, 0.5, 0.75, 1])
        #expect(Tensor.linspace(0, 1, count: 1).scalars == [0])
        #expect(Tensor.eye(2, 3, dtype: .int64).scalars == [1, 0, 0, 0, 1, 0])
        #expect(Tensor.eye(3).sum().item == 3)
        #expect(Tensor([[1, 2], [3, 4]] as [[Double]]).shape == [2, 2])
        let s = Tensor(2.5, dtype: .float64)
        #expect(s.rank == 0 && s.item == 2.5)
    }
}
