import Tensors

/// Damped fixed-point iteration x ← x + β·s(x). A sample that blows up restarts from its best
/// iterate with half the damping.
func runFixedPoint(_ problem: Problem, _ tracker: Tracker, x x0: Tensor, g g0: Tensor, damping: Double) -> Int {
    var x = x0, g = g0
    var beta = Array(repeating: damping, count: problem.batch)
    var k = 0
    while tracker.anyActive && k < tracker.options.maxIterations {
        k += 1
        let active = tracker.active
        let step = beta.allSatisfy({ $0 == 1 }) ? problem.step(g) : problem.step(g) * sampleColumn(beta, dtype: problem.dtype)
        let xc = select(active, x + step, x)
        let gc = problem.residual(xc)
        let seen = tracker.observe(iteration: k, x: xc, g: gc)
        x = select(seen.finite, xc, x)
        g = select(seen.finite, gc, g)
        if !seen.blownUp.isEmpty {
            var reset = Array(repeating: false, count: problem.batch)
            for b in seen.blownUp {
                beta[b] *= 0.5
                reset[b] = true
                tracker.recordFallback(sample: b, iteration: k,
                                       reason: "fixed-point iterate blew up; restarted from the best iterate with damping \(beta[b])")
            }
            x = select(reset, tracker.bestX, x)
            g = select(reset, tracker.bestG, g)
        }
    }
    return k
}
