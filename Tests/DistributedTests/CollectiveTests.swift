import XCTest
import Distributed
import Tensors

/// Runs under `mpirun --oversubscribe -np 2` (the Makefile's `test` does so after the plain
/// suite); in a plain `swift test` there is no launcher and these skip.
final class CollectiveTests: XCTestCase {
    func world() throws -> Communicator {
        guard let world = Communicator.world else { throw XCTSkip("not launched by mpirun: the Makefile runs this suite with mpirun -np 2") }
        return world
    }

    func testAllReduceSumsOverRanks() throws {
        let w = try world()
        let sum = try w.allReduce([Double(w.rank + 1), 1])
        XCTAssertEqual(sum, [Double(w.size * (w.size + 1) / 2), Double(w.size)])
        XCTAssertEqual(try w.allReduce([Double(w.rank)], op: .max), [Double(w.size - 1)])
    }

    func testBroadcastGivesRootsValues() throws {
        let w = try world()
        let mine = Tensor([Double(w.rank), 2, 3], shape: [3])
        let got = try w.broadcast([mine], root: 0)
        XCTAssertEqual(got[0].scalars, [0, 2, 3])
        XCTAssertEqual(try w.broadcast([UInt64(w.rank) + 7]), [7])
    }

    func testAllGatherConcatenatesSlicesInRankOrder() throws {
        let w = try world()
        // [2, 1, 3] slices of a [2, size, 3] batch-on-axis-1 tensor, as a carried LSTM state is.
        let slice = Tensor((0..<6).map { Float(10 * w.rank + $0) }, shape: [2, 1, 3])
        let all = try w.allGather(slice, axis: 1)
        XCTAssertEqual(all.shape, [2, w.size, 3])
        for r in 0..<w.size {
            XCTAssertEqual(all.narrow(1, start: r, length: 1).toArray(Float.self), (0..<6).map { Float(10 * r + $0) })
        }
    }

    func testGradientAveragerAveragesEveryBucket() throws {
        let w = try world()
        let params = [Tensor.zeros([3, 2], dtype: .float64).requiringGrad(), Tensor.zeros([5], dtype: .float64).requiringGrad(),
                      Tensor.zeros([4], dtype: .float32).requiringGrad()]
        for (i, p) in params.enumerated() {
            p.grad = Tensor.full(p.shape, Double(w.rank + 1) * Double(i + 1), dtype: p.dtype)
        }
        // A 16-byte bucket limit forces one bucket per parameter (and the dtype change splits too).
        for sharedMemory in [true, false] {
            for (i, p) in params.enumerated() {
                p.grad = Tensor.full(p.shape, Double(w.rank + 1) * Double(i + 1), dtype: p.dtype)
            }
            try GradientAverager(communicator: w, bucketBytes: 16, sharedMemory: sharedMemory).average(params)
            let mean = Double(w.size + 1) / 2
            for (i, p) in params.enumerated() {
                XCTAssertEqual(p.grad!.scalars, [Double](repeating: mean * Double(i + 1), count: p.count), "shared memory \(sharedMemory)")
            }
        }
    }

    /// The shared-memory sum and MPI_Allreduce give the same bits, call after call (the shared
    /// windows are reused, and grow when the parameters do).
    func testSharedMemorySumMatchesAllreduce() throws {
        let w = try world()
        for (round, n) in [1000, 1000, 70_000].enumerated() {
            let g = RandomGenerator(seed: UInt64(100 * round + w.rank))
            let grads = [Tensor.randn([n], dtype: .float32, generator: g), Tensor.randn([7, 3], dtype: .float64, generator: g)]
            func averaged(_ sharedMemory: Bool) throws -> [[Double]] {
                let params = grads.map { Tensor.zeros($0.shape, dtype: $0.dtype).requiringGrad() }
                for (p, grad) in zip(params, grads) { p.grad = grad }
                try GradientAverager(communicator: w, sharedMemory: sharedMemory).average(params)
                return params.map { $0.grad!.scalars }
            }
            let shared = try averaged(true)
            XCTAssertEqual(shared, try averaged(false), "round \(round)")
        }
    }
}
