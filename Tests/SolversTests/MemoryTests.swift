import Benchmarking
import Testing
import Tensors
@testable import Solvers

/// The bounded-memory claim: limited-memory Broyden's peak does not depend on the iteration limit.
struct MemoryTests {
    @Test func limitedBroydenMemoryIsIndependentOfTheLimit() {
        let p = SolverTestProblems.tanhLayer(batch: 32, width: 256)
        func peak(_ method: SolverMethod, _ limit: Int) -> Int {
            p.solve(method: method, options: SolverOptions(tolerance: 0, maxIterations: limit, norm: .max)).peakBytes
        }
        let limited30 = peak(.limitedBroyden(memory: 10), 30), limited300 = peak(.limitedBroyden(memory: 10), 300)
        let full30 = peak(.broyden(), 30), full300 = peak(.broyden(), 300)
        print("limited-memory Broyden peak: \(limited30) (limit 30), \(limited300) (limit 300); full: \(full30), \(full300)")
        #expect(Swift.abs(Double(limited300 - limited30)) <= 0.05 * Double(limited30))
        #expect(Double(full300) > 5 * Double(full30))
    }
}
