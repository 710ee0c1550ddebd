import Tensors

/// Broyden's good method on g(x) = 0 with the inverse Jacobian kept as H = (1/c)·I + U Vᵀ.
///
/// U and V hold one row per rank-one update in preallocated [B, capacity, n] buffers, and
/// H·y = y/c + Uᵀ(V y) costs two thin matrix products. With `capacity` equal to the iteration
/// limit this is the full method (memory grows with the limit); with a small `capacity` it is the
/// limited-memory method, whose memory does not depend on the limit.
func runBroyden(_ problem: Problem, _ tracker: Tracker, x x0: Tensor, g g0: Tensor,
                capacity: Int, policy: MemoryPolicy, lineSearch: Bool) -> Int {
    // Buffers start at most 16 slots and double when full up to `capacity`, so full Broyden's
    // memory follows the iterations it takes, not its limit (66 MB for a 1 MB state at limit 500
    // when sized up front).
    let initial = Swift.min(capacity, 16)
    let U = RowHistory(batch: problem.batch, capacity: initial, width: problem.width, dtype: problem.dtype)
    let V = RowHistory(batch: problem.batch, capacity: initial, width: problem.width, dtype: problem.dtype)
    let inverseGuess = 1 / problem.jacobianGuess
    var count = 0, slot = 0, k = 0
    func applyH(_ y: Tensor) -> Tensor {
        let base = y * inverseGuess
        return count == 0 ? base : base + U.combine(V.dots(y, count: count), count: count)
    }
    func applyHTransposed(_ s: Tensor) -> Tensor {
        let base = s * inverseGuess
        return count == 0 ? base : base + V.combine(U.dots(s, count: count), count: count)
    }
    var x = x0, g = g0
    while tracker.anyActive && k < tracker.options.maxIterations {
        k += 1
        let active = tracker.active
        let p = masked(-applyH(g), active)
        var xc = x + p
        var gc = problem.residual(xc)
        if lineSearch {
            // Backtrack (halving) only the samples whose residual more than doubled or became
            // non-finite: secant steps may raise the residual for a while, and a strict decrease
            // test spends evaluations for nothing (measured: 64 instead of 40 on linear-0.9).
            var t = Array(repeating: 1.0, count: problem.batch)
            let (before, _) = rowNorms(g, .l2)
            for _ in 0..<3 {
                let (after, finite) = rowNorms(gc, .l2)
                let retry = (0..<problem.batch).filter { active[$0] && (!finite[$0] || after[$0] > 2 * before[$0]) }
                if retry.isEmpty { break }
                for b in retry { t[b] *= 0.5 }
                xc = x + p * sampleColumn(t, dtype: problem.dtype)
                gc = problem.residual(xc)
            }
        }
        let seen = tracker.observe(iteration: k, x: xc, g: gc)
        let update = zip(active, seen.finite).map { $0 && $1 }
        let s = masked(xc - x, update)
        let y = masked(gc - g, update)
        let hy = applyH(y)
        let den = rowDots(s, hy)
        let (sn, _) = rowNorms(s, .l2), (hn, _) = rowNorms(hy, .l2)
        let safe = zip(den.scalars, zip(sn, hn)).map { d, n in d.isFinite && Swift.abs(d) > 1e-30 * n.0 * n.1 && n.0 > 0 }
        let u = masked((s - hy) / select(safe, den, Tensor.ones([1, 1], dtype: problem.dtype)), safe)
        let v = masked(applyHTransposed(s), safe)
        if count == capacity && policy == .restart {
            U.clearAll(); V.clearAll()
            count = 0; slot = 0
        }
        if count == U.capacity && U.capacity < capacity {
            let grown = Swift.min(capacity, 2 * U.capacity)
            U.grow(to: grown); V.grow(to: grown)
        }
        U.write(u, slot: slot)
        V.write(v, slot: slot)
        slot = (slot + 1) % capacity
        count = Swift.min(count + 1, capacity)
        x = select(seen.finite, xc, x)
        g = select(seen.finite, gc, g)
        if !seen.blownUp.isEmpty {
            var reset = Array(repeating: false, count: problem.batch)
            for b in seen.blownUp {
                reset[b] = true
                U.clear(sample: b); V.clear(sample: b)
                tracker.recordFallback(sample: b, iteration: k,
                                       reason: "Broyden iterate blew up; dropped its updates (damped iteration) from the best iterate")
            }
            x = select(reset, tracker.bestX, x)
            g = select(reset, tracker.bestG, g)
        }
    }
    tracker.inverseJacobian = LowRankInverse(inverseGuess: inverseGuess, u: U.buffer, v: V.buffer)
    return k
}
