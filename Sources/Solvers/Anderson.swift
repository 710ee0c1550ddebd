import Tensors

/// Anderson acceleration (type II, difference form).
///
/// With s(x) the fixed-point step, keep ΔS and ΔF = ΔX + βΔS (the last `window` differences of
/// steps and of the mixed map) and take x⁺ = x + βs − ΔFᵀγ, where γ minimises ‖s − ΔSᵀγ‖ through
/// Tikhonov-regularised least squares solved by LAPACK, batched over samples. The normal matrix
/// ΔS ΔSᵀ is updated one row and column per iteration (O(B·m·n)) instead of recomputed (O(B·m²·n)).
func runAnderson(_ problem: Problem, _ tracker: Tracker, x x0: Tensor, g g0: Tensor,
                 window: Int, mixing beta: Double, lambda: Double) -> Int {
    let dF = RowHistory(batch: problem.batch, capacity: window, width: problem.width, dtype: problem.dtype)
    let dS = RowHistory(batch: problem.batch, capacity: window, width: problem.width, dtype: problem.dtype)
    let normal = NormalMatrix(batch: problem.batch, capacity: window)
    var x = x0, g = g0, s = problem.step(g0)
    var count = 0, slot = 0, k = 0
    var damped = Array(repeating: false, count: problem.batch)
    while tracker.anyActive && k < tracker.options.maxIterations {
        k += 1
        let active = tracker.active
        let plain = beta == 1 ? x + s : x + s * beta
        var xc = plain
        if count > 0 {
            let gamma = regularizedGamma(dS, normal: normal, s: s, count: count, lambda: lambda, tracker: tracker, iteration: k)
            xc = select(damped.map { !$0 }, plain - dF.combine(gamma, count: count), plain)
        }
        xc = select(active, xc, x)
        let gc = problem.residual(xc)
        let seen = tracker.observe(iteration: k, x: xc, g: gc)
        let sc = problem.step(gc)
        let update = zip(active, seen.finite).map { $0 && $1 }
        let ds = masked(sc - s, update)
        let dx = masked(xc - x, update)
        dS.write(ds, slot: slot)
        dF.write(beta == 1 ? dx + ds : dx + ds * beta, slot: slot)
        count = Swift.min(count + 1, window)
        normal.update(slot: slot, dots: dS.dots(ds, count: count), count: count)
        slot = (slot + 1) % window
        x = select(seen.finite, xc, x)
        g = select(seen.finite, gc, g)
        s = select(seen.finite, sc, s)
        if !seen.blownUp.isEmpty {
            var reset = Array(repeating: false, count: problem.batch)
            for b in seen.blownUp {
                reset[b] = true
                damped[b] = true
                tracker.recordFallback(sample: b, iteration: k,
                                       reason: "Anderson iterate blew up; switched to damped iteration from the best iterate")
            }
            x = select(reset, tracker.bestX, x)
            g = select(reset, tracker.bestG, g)
            s = problem.step(g)
        }
    }
    return k
}

/// ΔS ΔSᵀ per sample, kept in float64 and updated one slot at a time.
final class NormalMatrix {
    private var entries: [Double]
    private let batch: Int
    private let capacity: Int

    init(batch: Int, capacity: Int) {
        self.batch = batch
        self.capacity = capacity
        entries = Array(repeating: 0, count: batch * capacity * capacity)
    }

    /// Row and column `slot` from the dot products [B, count, 1] of the new row with every used slot.
    func update(slot: Int, dots: Tensor, count: Int) {
        let d = dots.scalars
        for b in 0..<batch {
            for i in 0..<count {
                let v = d[b * count + i]
                entries[(b * capacity + slot) * capacity + i] = v
                entries[(b * capacity + i) * capacity + slot] = v
            }
        }
    }

    /// The leading count × count block of every sample: [B, count, count].
    func matrix(count: Int, dtype: DType) -> Tensor {
        var out = [Double](repeating: 0, count: batch * count * count)
        for b in 0..<batch {
            for i in 0..<count {
                for j in 0..<count { out[(b * count + i) * count + j] = entries[(b * capacity + i) * capacity + j] }
            }
        }
        return Tensor(out, shape: [batch, count, count]).to(dtype)
    }
}

/// γ [B, count, 1] minimising ‖s − ΔSᵀγ‖² + λ·Σ_j ‖ΔS_j‖²·γ_j².
///
/// Fast path: the regularised normal equations (ΔS ΔSᵀ + λ·diag(‖ΔS_j‖²)) γ = ΔS s — a
/// count × count LAPACK solve per sample. Each column is regularised relative to its
/// own norm: the differences shrink by orders of magnitude as the solve converges, and a penalty
/// scaled by the largest one swamps the newest (measured: 38 instead of 34 evaluations on
/// linear-0.9 with m = 30). If a sample's system is singular, that sample is re-solved as the
/// augmented least-squares problem [ΔSᵀ; √λ·diag(‖ΔS_j‖)] γ ≈ [s; 0] by LAPACK's QR (gels), which
/// does not square the condition number; if that fails too, or γ is not finite, the sample gets
/// γ = 0 (a plain damped step) and a recorded fallback.
func regularizedGamma(_ dS: RowHistory, normal normalMatrix: NormalMatrix, s: Tensor, count: Int, lambda: Double,
                      tracker: Tracker, iteration k: Int) -> Tensor {
    let rows = dS.used(count)                                              // [B, c, n]
    let normal = normalMatrix.matrix(count: count, dtype: s.dtype)         // [B, c, c]
    let rhs = dS.dots(s, count: count)                                     // [B, c, 1]
    let eye = Tensor.eye(count, dtype: s.dtype)
    let diagonal = (normal * eye).sum(axis: 2)                             // [B, c] = ‖ΔS_j‖²
    // An empty column (no history, or a frozen sample) gets 1 so the system stays non-singular.
    let penalty = Tensor.where(diagonal .> 0, diagonal * lambda, Tensor.ones([1, 1], dtype: s.dtype))
    let system = normal + eye * penalty.unsqueezed(1)
    var gamma: Tensor
    do {
        gamma = try Tensor.solve(system, rhs)
    } catch {
        var solved: [Tensor] = []
        for b in 0..<s.shape[0] {
            if let one = try? Tensor.solve(system[b], rhs[b]) {
                solved.append(one)
            } else if let one = try? qrGamma(rows[b], s: s[b], penalty: penalty[b]) {
                solved.append(one)
                if tracker.active[b] {
                    tracker.recordFallback(sample: b, iteration: k, reason: "Anderson normal equations singular; solved by QR instead",
                                           final: false)
                }
            } else {
                solved.append(Tensor.zeros([count, 1], dtype: s.dtype))
                if tracker.active[b] {
                    tracker.recordFallback(sample: b, iteration: k, reason: "Anderson least-squares problem rank-deficient; took a damped step",
                                           final: false)
                }
            }
        }
        gamma = Tensor.stack(solved, axis: 0)
    }
    let finite = (gamma * 0).sum(axes: [1, 2]).scalars.map { $0.isFinite }
    if finite.contains(false) {
        for b in 0..<finite.count where !finite[b] && tracker.active[b] {
            tracker.recordFallback(sample: b, iteration: k, reason: "Anderson coefficients not finite; took a damped step", final: false)
        }
        gamma = Tensor.where(sampleMask(finite).unsqueezed(2), gamma, Tensor.zeros([1, 1, 1], dtype: s.dtype))
    }
    return gamma
}

/// One sample's γ [c, 1] by QR on the augmented least-squares problem (rows [c, n], s [n],
/// penalty [c] = λ‖ΔS_j‖²).
private func qrGamma(_ rows: Tensor, s: Tensor, penalty: Tensor) throws(TensorError) -> Tensor {
    let c = rows.shape[0]
    let a = Tensor.concat([rows.transposed(), Tensor.eye(c, dtype: s.dtype) * penalty.sqrt().unsqueezed(0)], axis: 0)
    let b = Tensor.concat([s.unsqueezed(1), Tensor.zeros([c, 1], dtype: s.dtype)], axis: 0)
    return try Tensor.leastSquares(a, b)
}
