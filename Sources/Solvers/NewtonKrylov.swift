import Tensors

/// Inexact Newton: each outer iteration solves J p = −g by GMRES on Jacobian-vector products to a
/// relative tolerance η (Eisenstat–Walker), then backtracks along p until the residual drops.
func runNewtonKrylov(_ problem: Problem, _ tracker: Tracker, x x0: Tensor, g g0: Tensor,
                     dimension: Int, products: JacobianProduct) -> Int {
    var x = x0, g = g0
    var k = 0
    let batch = problem.batch
    var eta = Array(repeating: 0.1, count: batch)
    var (previous, _) = rowNorms(g, .l2)
    let unitRoundoff = problem.dtype == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
    while tracker.anyActive && k < tracker.options.maxIterations {
        k += 1
        let active = tracker.active
        let (gnorm, _) = rowNorms(g, .l2)
        // Do not over-solve the last step: the l2 target need not go far below the tolerance.
        let target = (0..<batch).map { b in Swift.max(eta[b], 0.5 * tracker.options.tolerance / Swift.max(gnorm[b], 1e-300)) }
        let (xnorm, _) = rowNorms(x, .l2)
        let jv: (Tensor) -> Tensor = { v in
            switch products {
            case .finiteDifference:
                let eps = xnorm.map { unitRoundoff.squareRoot() * Swift.max(1, $0) }
                let e = sampleColumn(eps, dtype: problem.dtype)
                return (problem.residual(x + v * e) - g) / e
            case .autograd:
                problem.countEvaluations(2)
                return (try? jvp(at: x, direction: v, of: problem.differentiableResidual).tangent)
                    ?? v.fullLike(.nan)
            }
        }
        let p = masked(gmres(jv, rhs: masked(-g, active), rhsNorm: gnorm, tolerance: target, dimension: dimension, active: active), active)
        var t = Array(repeating: 1.0, count: batch)
        var xc = x + p
        var gc = problem.residual(xc)
        for _ in 0..<5 {
            let (after, finite) = rowNorms(gc, .l2)
            let retry = (0..<batch).filter { active[$0] && (!finite[$0] || after[$0] > (1 - 1e-4 * t[$0]) * gnorm[$0]) }
            if retry.isEmpty { break }
            for b in retry { t[b] *= 0.5 }
            xc = x + p * sampleColumn(t, dtype: problem.dtype)
            gc = problem.residual(xc)
        }
        let seen = tracker.observe(iteration: k, x: xc, g: gc)
        x = select(seen.finite, xc, x)
        g = select(seen.finite, gc, g)
        let (now, _) = rowNorms(g, .l2)
        for b in 0..<batch {
            // Eisenstat–Walker choice 2 with its safeguard, capped at 0.1.
            let ratio = now[b] / Swift.max(previous[b], 1e-300)
            var e = 0.9 * ratio * ratio
            let guardValue = 0.9 * eta[b] * eta[b]
            if guardValue > 0.1 { e = Swift.max(e, guardValue) }
            eta[b] = Swift.min(Swift.max(e, 1e-10), 0.1)
        }
        previous = now
        if !seen.blownUp.isEmpty {
            var reset = Array(repeating: false, count: batch)
            for b in seen.blownUp {
                reset[b] = true
                eta[b] = 0.1
                tracker.recordFallback(sample: b, iteration: k,
                                       reason: "Newton step blew up despite the line search; restarted from the best iterate")
            }
            x = select(reset, tracker.bestX, x)
            g = select(reset, tracker.bestG, g)
            (previous, _) = rowNorms(g, .l2)
        }
    }
    return k
}

/// Batched GMRES from a zero initial guess: per sample, minimises ‖rhs − J p‖ over the Krylov
/// space until the residual estimate is ≤ tolerance·‖rhs‖ or `dimension` products were used.
func gmres(_ apply: (Tensor) -> Tensor, rhs: Tensor, rhsNorm: [Double], tolerance: [Double],
           dimension: Int, active: [Bool]) -> Tensor {
    let batch = rhs.shape[0]
    let dtype = rhs.dtype
    // Stopped samples get a zero basis, so the products never move their rows.
    var basis: [Tensor] = [rhs / sampleColumn(rhsNorm.map { $0 > 0 && $0.isFinite ? $0 : 1 }, dtype: dtype)]
    // Per sample: Hessenberg columns, Givens rotations, rotated right-hand side.
    var hessenberg = Array(repeating: [[Double]](), count: batch)
    var cosines = Array(repeating: [Double](), count: batch)
    var sines = Array(repeating: [Double](), count: batch)
    var e = rhsNorm.map { [$0] }
    var done = (0..<batch).map { !active[$0] || rhsNorm[$0] == 0 }
    var steps = Array(repeating: 0, count: batch)
    for j in 0..<dimension {
        if !done.contains(false) { break }
        var w = apply(basis[j])
        var column = Array(repeating: [Double](repeating: 0, count: j + 2), count: batch)
        for i in 0...j {   // modified Gram-Schmidt
            let h = rowDots(w, basis[i])
            let hs = h.scalars
            for b in 0..<batch { column[b][i] = hs[b] }
            w = w - basis[i] * h
        }
        let (wn, _) = rowNorms(w, .l2)
        for b in 0..<batch { column[b][j + 1] = wn[b] }
        basis.append(w / sampleColumn(wn.map { $0 > 0 && $0.isFinite ? $0 : 1 }, dtype: dtype))
        for b in 0..<batch where !done[b] {
            var col = column[b]
            for i in 0..<j {   // apply previous rotations
                let a = cosines[b][i] * col[i] + sines[b][i] * col[i + 1]
                col[i + 1] = -sines[b][i] * col[i] + cosines[b][i] * col[i + 1]
                col[i] = a
            }
            let r = (col[j] * col[j] + col[j + 1] * col[j + 1]).squareRoot()
            let c = r > 0 ? col[j] / r : 1, sn = r > 0 ? col[j + 1] / r : 0
            cosines[b].append(c); sines[b].append(sn)
            col[j] = r; col[j + 1] = 0
            hessenberg[b].append(col)
            e[b].append(-sn * e[b][j])
            e[b][j] = c * e[b][j]
            steps[b] = j + 1
            let residual = Swift.abs(e[b][j + 1])
            if !residual.isFinite || residual <= tolerance[b] * rhsNorm[b] || wn[b] <= 1e-14 * rhsNorm[b] || r == 0 {
                done[b] = true
            }
        }
    }
    // Back-substitution R y = e per sample, then p = Σ_j y_j v_j.
    let width = steps.max() ?? 0
    var coefficients = Array(repeating: [Double](repeating: 0, count: batch), count: width)
    for b in 0..<batch where steps[b] > 0 {
        let m = steps[b]
        var y = Array(repeating: 0.0, count: m)
        for i in stride(from: m - 1, through: 0, by: -1) {
            var acc = e[b][i]
            for l in (i + 1)..<m { acc -= hessenberg[b][l][i] * y[l] }
            let d = hessenberg[b][i][i]
            y[i] = d != 0 ? acc / d : 0
        }
        for i in 0..<m { coefficients[i][b] = y[i].isFinite ? y[i] : 0 }
    }
    var p = rhs.zerosLike()
    for j in 0..<width { p = p + basis[j] * sampleColumn(coefficients[j], dtype: dtype) }
    return p
}
