import Testing
import Tensors

@Test func smoke() throws {
    let x = Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
    #expect(x.toArray(Float.self) == [1, 2, 3, 4, 5, 6])
    #expect((x + 1).toArray(Float.self) == [2, 3, 4, 5, 6, 7])
    #expect(x.T.contiguous().toArray(Float.self) == [1, 4, 2, 5, 3, 6])
    #expect(x.sum().item == 21)
    #expect(x.sum(axis: 0).toArray(Float.self) == [5, 7, 9])
    #expect(x.sum(axis: 1).toArray(Float.self) == [6, 15])
    let y = x.matmul(x.T)
    #expect(y.toArray(Float.self) == [14, 32, 32, 77])
    print(x)
    print(Tensor.randn([3, 4]))
    let w = Tensor.randn([3, 3], dtype: .float64).requiringGrad()
    let loss = (w.matmul(w).tanh() * 2).sum()
    try loss.backward()
    print(w.grad!)
    let r = try gradcheck({ xs in (xs[0].matmul(xs[1]).tanh().softmax(axis: -1) * xs[0].sum()).logsumexp(axes: [0]) },
                          inputs: [Tensor.randn([3, 4], dtype: .float64), Tensor.randn([4, 4], dtype: .float64)])
    print(r)
    #expect(r.passed)
    let r2 = try gradgradcheck({ xs in xs[0].matmul(xs[1]).tanh().layerNorm().sigmoid() },
                          inputs: [Tensor.randn([3, 4], dtype: .float64), Tensor.randn([4, 4], dtype: .float64)])
    print(r2)
    #expect(r2.passed)
}
