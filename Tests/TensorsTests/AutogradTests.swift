import Foundation
import Testing
import Tensors

/// Behaviour of the tape and the engine beyond single-op gradients (those are in the catalog).
@Suite("Autograd")
struct AutogradTests {
    func f64(_ values: [Double], _ shape: [Int]? = nil) -> Tensor { Tensor(values, shape: shape) }

    func close(_ a: [Double], _ b: [Double], _ tol: Double = 1e-10) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= tol * Swift.max(1, Swift.abs($1)) }
    }

    @Test("gradients accumulate across two backward passes")
    func accumulation() throws {
        let x = f64([1, -2, 3]).requiringGrad()
        try (x * x).sum().backward()
        #expect(x.grad!.scalars == [2, -4, 6])
        try (x * x).sum().backward()
        #expect(x.grad!.scalars == [4, -8, 12])
        x.zeroGrad()
        #expect(x.grad == nil)
    }

    @Test("many contributions sum in place without touching the cotangents they came from")
    func inPlaceAccumulation() throws {
        // add's VJP hands the same cotangent tensor to both inputs, so the first contributions to
        // w and h are shared tensors: only the engine's own sums may be added into.
        let w = f64([1, 2, 3]).requiringGrad()
        let seed = f64([1, 10, 100])
        var h = w + w                                   // h's node passes `seed`-derived g twice to w
        for _ in 0..<4 { h = h + w }                    // w used 6 times in all
        let y = h * 1                                   // one more node above, so h's cotangent is a sum too
        try y.backward(seed)
        #expect(w.grad!.scalars == [6, 60, 600])
        #expect(seed.scalars == [1, 10, 100])
        // The same through a non-leaf used many times, and grad(of:wrt:) agrees.
        let x = f64([0.5, -1, 2]).requiringGrad()
        let u = x * x
        var z = u
        for _ in 0..<5 { z = z + u }                    // u used 6 times
        let total = z.sum()
        let gx = try grad(of: total, wrt: [x], retainGraph: true)[0]
        #expect(close(gx.scalars, [6, -12, 24]))
        try total.backward()
        #expect(close(x.grad!.scalars, [6, -12, 24]))
    }

    @Test("slices add their cotangents into the input's sum at their windows")
    func sliceCotangentsScatter() throws {
        // Overlapping and strided windows of a leaf and of an intermediate, with a dense
        // contribution first (shared with the caller's cotangent: it must stay untouched).
        let x = f64([1, 2, 3, 4, 5, 6], [2, 3]).requiringGrad()
        let h = x * 1
        let seed = Tensor.ones([2, 3], dtype: .float64)
        let parts = [h, h.sliced(1, 0, 2), h.sliced(1, 1, 3), h.sliced(1, 0, 3, step: 2), h.select(0, 1), x.sliced(0, 1, 2)]
        var loss = (parts[0] * seed).sum()
        for p in parts.dropFirst() { loss = loss + (p * 2).sum() }
        try loss.backward()
        // h's cotangent: 1 everywhere, +2 on columns 0–1, +2 on 1–2, +2 on 0 and 2 (so 5 in
        // every column), +2 on row 1; x gets that (h = x·1) plus 2 on row 1 from its own slice.
        #expect(x.grad!.scalars == [5, 5, 5, 9, 9, 9])
        #expect(seed.scalars == [1, 1, 1, 1, 1, 1])
        // Second derivatives still go through the recorded slice backward.
        let y = f64([0.5, -1, 2]).requiringGrad()
        let z = (y * y * y).sliced(0, 0, 2).sum() + (y * y * y).sliced(0, 1, 3).sum()
        let g = try grad(of: z, wrt: [y], createGraph: true)[0]
        #expect(close(g.scalars, [0.75, 6, 12]))
        let hessianDiagonal = try grad(of: g.sum(), wrt: [y])[0]
        #expect(close(hessianDiagonal.scalars, [3, -12, 12]))
    }

    @Test("index-selected rows add their cotangents into the input's sum at their indices")
    func indexSelectCotangentsScatter() throws {
        // A tied table: a dense matmul contribution first, then two lookups with repeated rows,
        // and a lookup along axis 1 of an intermediate that nothing else uses.
        let g = RandomGenerator(seed: 11)
        let w = Tensor.randn([5, 3], dtype: .float64, generator: g).requiringGrad()
        let x = Tensor.randn([2, 3], dtype: .float64, generator: g)
        let (c1, c2, c3) = (Tensor.randn([4, 3], dtype: .float64, generator: g),
                            Tensor.randn([2, 3], dtype: .float64, generator: g),
                            Tensor.randn([5, 2], dtype: .float64, generator: g))
        let rows = Tensor([Int64(4), 1, 4, 0], shape: [4]), again = Tensor([Int64(1), 1], shape: [2])
        let columns = Tensor([Int64(2), 2], shape: [2])
        func loss() -> Tensor {
            x.matmul(w.T).square().sum() + (w.indexSelect(axis: 0, rows) * c1).sum()
                + (w.indexSelect(axis: 0, again) * c2).sum() + ((w * w).indexSelect(axis: 1, columns) * c3).sum()
        }
        try loss().backward()
        // The recorded backward (createGraph) does not take the in-place path: the reference.
        let reference = try grad(of: loss(), wrt: [w], createGraph: true)[0]
        #expect(close(w.grad!.scalars, reference.scalars, 1e-12))
    }

    @Test("grad(of:wrt:createGraph:) gives Hessian-vector products")
    func hessianVectorProduct() throws {
        // f(x) = xᵀ A x + Σ sin xᵢ has Hessian H = A + Aᵀ - diag(sin x).
        let n = 4
        let a = Tensor.randn([n, n], dtype: .float64, generator: RandomGenerator(seed: 3))
        let x = Tensor.randn([n], dtype: .float64, generator: RandomGenerator(seed: 4)).requiringGrad()
        let v = Tensor.randn([n], dtype: .float64, generator: RandomGenerator(seed: 5))
        let f = (x * a.matmul(x)).sum() + x.sin().sum()
        let g = try grad(of: f, wrt: [x], createGraph: true)[0]
        #expect(g.requiresGrad, "with createGraph the gradient is itself differentiable")
        let hv = try grad(of: (g * v).sum(), wrt: [x])[0].scalars

        let am = a.scalars, xs = x.scalars, vs = v.scalars
        var expected = [Double](repeating: 0, count: n)
        for i in 0..<n {
            for j in 0..<n {
                let h = am[i * n + j] + am[j * n + i] - (i == j ? Foundation.sin(xs[i]) : 0)
                expected[i] += h * vs[j]
            }
        }
        #expect(close(hv, expected), "Hv \(hv) vs analytic \(expected)")
    }

    @Test("a pullback can be called with several cotangents")
    func reusablePullback() throws {
        let w = Tensor.randn([3, 2], dtype: .float64, generator: RandomGenerator(seed: 1))
        let x = Tensor.randn([4, 3], dtype: .float64, generator: RandomGenerator(seed: 2))
        let (y, pullback) = valueWithPullback(at: x) { $0.matmul(w).tanh() }
        #expect(!y.requiresGrad)
        for seed in UInt64(10)..<13 {
            let g = Tensor.randn([4, 2], dtype: .float64, generator: RandomGenerator(seed: seed))
            let dx = try pullback(g)
            // d tanh(xW) = (g ⊙ (1 - y²)) Wᵀ
            let expected = (g * (1 - y * y)).matmul(w.T)
            #expect(close(dx.scalars, expected.scalars), "cotangent \(seed)")
        }
    }

    @Test("a custom function's backward is the one used")
    func customBackward() throws {
        let x = f64([1, 2, 3]).requiringGrad()
        // The forward squares; the backward deliberately returns 42·g instead of 2x·g.
        let y = Tensor.custom("fakeSquare", inputs: [x], forward: { $0[0].square() },
                              backward: { g, _ in [g * 42] })
        #expect(y.scalars == [1, 4, 9])
        #expect(y.gradFn?.name == "fakeSquare")
        try (y * 2).sum().backward()
        #expect(x.grad!.scalars == [84, 84, 84])
    }

    @Test("nothing is recorded without gradients")
    func noGradScope() {
        let x = f64([1, 2]).requiringGrad()
        let y = withoutGradients { (x * 3).exp().sum() }
        #expect(!y.requiresGrad && y.gradFn == nil)
        #expect(GradMode.isEnabled, "the mode is restored after the scope")
        let z = withoutGradients { withGradients { x * 2 } }
        #expect(z.requiresGrad, "withGradients re-enables recording inside a no-grad scope")
        #expect(!x.detached().requiresGrad)
    }

    @Test("hooks see and can replace gradients of leaves and intermediates")
    func hooks() throws {
        let x = f64([1, 2]).requiringGrad()
        var leafSeen: [Double] = []
        var innerSeen: [Double] = []
        x.registerHook { g in leafSeen = g.scalars; return nil }
        let y = x * 3
        y.registerHook { g in innerSeen = g.scalars; return nil }
        try (y * y).sum().backward()
        #expect(innerSeen == [6, 12])
        #expect(leafSeen == [18, 36])
        #expect(x.grad!.scalars == [18, 36])

        // A hook on an intermediate that doubles its gradient changes everything upstream.
        let p = f64([1, 2]).requiringGrad()
        let q = p * 3
        q.registerHook { g in g * 2 }
        try q.sum().backward()
        #expect(p.grad!.scalars == [6, 6])

        // A leaf hook's replacement is what accumulates.
        let r = f64([5]).requiringGrad()
        r.registerHook { g in g.fullLike(-1) }
        try (r * 7).sum().backward()
        #expect(r.grad!.scalars == [-1])
    }

    @Test("a freed graph cannot be run twice; retainGraph keeps it")
    func freedGraph() throws {
        let x = f64([0.5, -1]).requiringGrad()
        let y = x.exp().sum()
        try y.backward()
        var caught: AutogradError?
        do { try y.backward() } catch { caught = error }
        #expect(caught != nil)
        #expect(caught?.message.contains("retainGraph: true") == true, "\(caught?.message ?? "")")
        #expect(caught?.message.contains("freed") == true)

        let u = f64([0.5, -1]).requiringGrad()
        let z = u.exp().sum()
        try z.backward(retainGraph: true)
        try z.backward()
        #expect(close(u.grad!.scalars, [2 * Foundation.exp(0.5), 2 * Foundation.exp(-1)]))
    }

    @Test("backward frees the graph: no storage is left alive")
    func graphFreed() throws {
        func forward(_ x: Tensor, _ w: Tensor) -> Tensor {
            let h = x.matmul(w).tanh()
            return (h.softmax(axis: -1).log() * h).sum() + h.layerNorm().square().mean()
        }
        let x = Tensor.randn([8, 5], dtype: .float64).requiringGrad()
        let w = Tensor.randn([5, 6], dtype: .float64).requiringGrad()
        try forward(x, w).backward()  // warm-up: lazily created constants are allocated once
        x.zeroGrad(); w.zeroGrad()

        let liveBefore = MemoryStats.liveAllocations
        let bytesBefore = MemoryStats.liveBytes
        var loss: Tensor? = forward(x, w)
        #expect(MemoryStats.liveAllocations > liveBefore + 5, "the graph holds its saved tensors")
        try loss!.backward()
        // While the output is still held, only it and the two leaf gradients remain: the
        // backward released every saved tensor.
        #expect(MemoryStats.liveAllocations == liveBefore + 3)
        weak let node = loss!.gradFn
        loss = nil
        #expect(node == nil, "the graph's nodes are released once the output is dropped")
        #expect(x.grad != nil && w.grad != nil)
        x.zeroGrad(); w.zeroGrad()
        #expect(MemoryStats.liveAllocations == liveBefore)
        #expect(MemoryStats.liveBytes == bytesBefore)
    }

    @Test("dropping a long graph that never ran backward does not overflow the stack")
    func deepGraphRelease() {
        let liveBefore = MemoryStats.liveAllocations
        do {
            let x = Tensor.randn([2], dtype: .float64).requiringGrad()
            let c = Tensor.randn([2], dtype: .float64)
            var y = x
            // mul's and exp's backwards capture their operands and outputs as well.
            for i in 0..<100_000 { y = i % 100 == 0 ? (y * 0.5).exp() : y * c + x }
            #expect(y.requiresGrad)
        }
        #expect(MemoryStats.liveAllocations == liveBefore)
    }

    @Test("jvp matches finite differences")
    func jvpMatchesFiniteDifferences() throws {
        let w = Tensor.randn([3, 4], dtype: .float64, generator: RandomGenerator(seed: 8))
        let f: ([Tensor]) -> Tensor = { xs in (xs[0].matmul(w) * xs[1]).sin().softmax(axis: -1) }
        let x = Tensor.randn([2, 3], dtype: .float64, generator: RandomGenerator(seed: 9))
        let b = Tensor.randn([4], dtype: .float64, generator: RandomGenerator(seed: 10))
        let vx = Tensor.randn([2, 3], dtype: .float64, generator: RandomGenerator(seed: 11))
        let vb = Tensor.randn([4], dtype: .float64, generator: RandomGenerator(seed: 12))
        let (value, tangent) = try jvp(at: [x, b], direction: [vx, vb], of: f)
        #expect(close(value.scalars, f([x, b]).scalars))
        let h = 1e-6
        let plus = f([x + vx * h, b + vb * h]), minus = f([x - vx * h, b - vb * h])
        let numeric = ((plus - minus) / (2 * h)).scalars
        #expect(close(tangent.scalars, numeric, 1e-7), "\(tangent.scalars) vs \(numeric)")
        #expect(!tangent.requiresGrad)
    }

    @Test("the examples of Docs/Autograd.md run and give what the page says")
    func documentedExamples() throws {
        let x = Tensor([1.0, 2.0, 3.0]).requiringGrad()
        let y = (x * x).sum()
        #expect(try grad(of: y, wrt: [x])[0].scalars == [2, 4, 6])
        #expect(x.grad == nil)

        let v = Tensor([0.5, -1.0, 2.0])
        let f = (x * x * x).sum()
        let g = try grad(of: f, wrt: [x], createGraph: true)[0]
        let hv = try grad(of: (g * v).sum(), wrt: [x])[0]
        #expect(close(hv.scalars, [3, -12, 36]))

        let (_, tangent) = try jvp(at: x, direction: v) { $0.sin().softmax() }
        #expect(tangent.shape == [3])

        let c = Tensor([-3.0, 0.5]).requiringGrad()
        let clipped = Tensor.custom("clippedIdentity", inputs: [c], forward: { $0[0] },
                                    backward: { g, _ in [g.clamped(min: -1, max: 1)] })
        try clipped.backward(Tensor([4.0, 0.25]))
        #expect(c.grad!.scalars == [1, 0.25])

        let second = try gradgradcheck({ xs in xs[0].tanh() * xs[0] }, inputs: [Tensor.randn([5], dtype: .float64)])
        #expect(second.passed)
    }
}
