import Foundation
import Testing
import Tensors

// Tensors above Threading.parallelThreshold take the kernels' OpenMP paths. These check those
// paths against references and that results do not depend on the thread count.
@Suite(.serialized) struct ParallelPathTests {
    let shape = [257, 301]  // 77k elements, odd sizes so work does not split evenly

    func withThreads<R>(_ n: Int, _ body: () -> R) -> R {
        let saved = Threading.threadCount
        defer { Threading.threadCount = saved }
        Threading.threadCount = n
        return body()
    }

    @Test func largeOpsMatchReferencesAndAgreeAcrossThreadCounts() {
        let count = elementCount(shape)
        #expect(count > Threading.parallelThreshold)
        var rng = TestRNG(131)
        let v = stored(rng.values(count, -3, 3), .float32)
        let row = stored(rng.values(301, -1, 1), .float32)
        func run() -> [[Double]] {
            let x = laidOut(v, shape, .float32, .transposed)
            let x2 = laidOut(v, shape, .float32, .contiguous)
            let r = Tensor(row.map { Float($0) })
            return [x.tanh().scalars, x2.exp().scalars, (x + r).scalars, (x2 * r).scalars,
                    x.sum(axes: [0]).scalars, x2.sum(axes: [1]).scalars, x2.max(axis: 0).scalars,
                    x2.argmax(axis: 1).scalars, x2.softmax(axis: -1).scalars, x2.layerNorm().scalars,
                    x2.logsumexp(axes: [0]).scalars, x2.contiguous().scalars,
                    Tensor.where(x2 .> 0, x2, r).scalars]
        }
        let one = withThreads(1, run)
        let two = withThreads(2, run)
        for (i, (a, b)) in zip(one, two).enumerated() {
            #expect(a.count == b.count)
            let maxDiff = zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
            // Elementwise results are identical; reductions may only differ by summation order.
            #expect(maxDiff <= 1e-4, "result \(i) differs by \(maxDiff) between 1 and 2 threads")
        }
        // References for a few of them.
        expectClose(Tensor(two[0], shape: shape), v.map { Foundation.tanh($0) }, shape: shape, rel: 2e-6, abs: 2e-7)
        let colSums = referenceReduce(v, shape, axes: [0], keepDim: false) { $0.reduce(0, +) }
        expectClose(Tensor(two[4], shape: [301]), colSums.values, shape: [301], rel: 1e-5, abs: 1e-4)
        let rowMax = referenceReduce(v, shape, axes: [0], keepDim: false) { $0.max()! }
        #expect(two[6] == rowMax.values)
        let added = (0..<count).map { v[$0] + row[$0 % 301] }
        expectClose(Tensor(two[2], shape: shape), added, shape: shape, rel: 1e-6, abs: 1e-6)
        let whereRef = (0..<count).map { v[$0] > 0 ? v[$0] : row[$0 % 301] }
        #expect(two[12] == whereRef)
    }

    /// Outputs above Threading.streamingThresholdBytes bypass the cache; forcing the threshold to
    /// zero sends small tensors down that path, with outputs that start off 32-byte alignment.
    @Test func streamedOutputsMatchCachedOnes() {
        var rng = TestRNG(139)
        let count = 40_003
        for dtype in [DType.float32, .float64] {
            let a = Tensor(rng.values(count + 3, -2, 2), shape: [count + 3]).to(dtype)
            let b = Tensor(rng.values(count + 3, 0.5, 2), shape: [count + 3]).to(dtype)
            func run() -> [[Double]] {
                // Offsets of 1 and 3 elements: the streamed loops first walk up to alignment.
                let x = a.narrow(0, start: 1, length: count)
                let y = b.narrow(0, start: 3, length: count)
                return [(x + y).scalars, (x - y).scalars, (x * y).scalars, (x / y).scalars,
                        x.tanh().scalars, (x .> y).to(dtype).scalars, (x * 2.5).scalars]
            }
            let saved = Threading.streamingThresholdBytes
            let cached = withThreads(2, run)
            Threading.streamingThresholdBytes = 0
            let streamed = withThreads(2, run)
            let streamedOne = withThreads(1, run)
            Threading.streamingThresholdBytes = saved
            #expect(streamed == cached, "\(dtype): streamed outputs differ from cached ones")
            #expect(streamedOne == cached, "\(dtype): streamed outputs on one thread differ")
        }
    }

    @Test func largeMatmulAndIndexing() {
        var rng = TestRNG(137)
        let a = rng.values(300 * 200), b = rng.values(200 * 150)
        let ref = referenceMatmul(a, b, m: 300, k: 200, n: 150)
        let y = withThreads(2) { Tensor(a, shape: [300, 200]).matmul(Tensor(b, shape: [200, 150])) }
        expectClose(y, ref, shape: [300, 150], rel: 1e-12, abs: 1e-12)
        let idx = rng.integers(5000, 0, 299)
        let sel = withThreads(2) { Tensor(a, shape: [300, 200]).indexSelect(axis: 0, Tensor(idx.map { Int64($0) })) }
        let selRef = (0..<(5000 * 200)).map { f in a[Int(idx[f / 200]) * 200 + f % 200] }
        #expect(sel.scalars == selRef)
        let summed = withThreads(2) {
            Tensor.zeros([300, 200], dtype: .float64).indexAdd(axis: 0, Tensor(idx.map { Int64($0) }), sel)
        }
        var addRef = [Double](repeating: 0, count: 300 * 200)
        for f in 0..<(5000 * 200) { addRef[Int(idx[f / 200]) * 200 + f % 200] += selRef[f] }
        expectClose(summed, addRef, shape: [300, 200], rel: 1e-12, abs: 1e-12)
    }

    @Test(arguments: [DType.float32, .float64])
    func largeSumsOverLongRowsAndMiddleAxes(dtype: DType) {
        var rng = TestRNG(149)
        let long = stored(rng.values(100_003, -1, 1), dtype)
        let total = long.reduce(0, +)
        for threads in [1, 2] {
            let s = withThreads(threads) { laidOut(long, [100_003], dtype, .contiguous).sum() }
            expectClose(s, [total], shape: [], rel: 1e-6, abs: 1e-6, "long row sum, \(threads) threads")
            let m = withThreads(threads) { laidOut(long, [100_003], dtype, .sliced).mean() }
            expectClose(m, [total / 100_003], shape: [], rel: 1e-6, abs: 1e-9, "long strided mean, \(threads) threads")
        }
        let shape = [2, 60, 300]  // 36k elements; the middle-axis path works in blocks of 256 inner elements
        let v = stored(rng.values(elementCount(shape)), dtype)
        for axes in [[1], [0, 1], [1, 2], [0, 2]] {
            let (e, sh) = referenceReduce(v, shape, axes: axes, keepDim: true) { $0.reduce(0, +) }
            let (em, _) = referenceReduce(v, shape, axes: axes, keepDim: true) { $0.map { Swift.abs($0) }.max()! }
            for threads in [1, 2] {
                let y = withThreads(threads) { laidOut(v, shape, dtype, .contiguous).sum(axes: axes, keepDim: true) }
                expectClose(y, e, shape: sh, rel: 1e-5, abs: 1e-5, "sum axes \(axes), \(threads) threads")
                let mx = withThreads(threads) { laidOut(v, shape, dtype, .contiguous).norm(.infinity, axes: axes, keepDim: true) }
                #expect(mx.scalars == em, "max-norm axes \(axes), \(threads) threads")
            }
        }
    }
}
