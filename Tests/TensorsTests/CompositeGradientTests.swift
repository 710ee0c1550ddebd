import Testing
import Tensors

// End-to-end gradient checks of composite float64 expressions (the former smoke test).
@Suite struct CompositeGradientTests {
    @Test func backwardThroughMatmulAndTanh() throws {
        let w = Tensor.randn([3, 3], dtype: .float64, generator: RandomGenerator(seed: 1)).requiringGrad()
        let loss = (w.matmul(w).tanh() * 2).sum()
        try loss.backward()
        #expect(w.grad?.shape == [3, 3])
    }

    @Test func gradcheckOfComposite() throws {
        let g = RandomGenerator(seed: 2)
        let r = try gradcheck({ xs in
            (xs[0].matmul(xs[1]).tanh().softmax(axis: -1) * xs[0].sum()).logsumexp(axes: [0])
        }, inputs: [Tensor.randn([3, 4], dtype: .float64, generator: g), Tensor.randn([4, 4], dtype: .float64, generator: g)])
        #expect(r.passed, "\(r)")
    }

    @Test func gradgradcheckOfComposite() throws {
        let g = RandomGenerator(seed: 3)
        let r = try gradgradcheck({ xs in xs[0].matmul(xs[1]).tanh().layerNorm().sigmoid() },
                                  inputs: [Tensor.randn([3, 4], dtype: .float64, generator: g),
                                           Tensor.randn([4, 4], dtype: .float64, generator: g)])
        #expect(r.passed, "\(r)")
    }

    @Test func maxNormOverSeveralAxesIsDifferentiable() throws {
        let x = Tensor.randn([3, 4, 5], dtype: .float64, generator: RandomGenerator(seed: 4))
        let r = try gradcheck({ xs in xs[0].norm(.infinity, axes: [0, 2]) }, inputs: [x])
        #expect(r.passed, "\(r)")
    }
}
