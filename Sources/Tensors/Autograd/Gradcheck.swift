/// The outcome of comparing analytic gradients with central finite differences.
public struct GradcheckReport: CustomStringConvertible, Sendable {
    /// Worst errors for one input.
    public struct InputReport: Sendable {
        public var maxAbsoluteError: Double
        public var maxRelativeError: Double
        /// Flat index (row-major) of the element with the worst relative error.
        public var worstIndex: Int
        public var analytic: Double
        public var numeric: Double
    }

    public var inputs: [InputReport]
    public var tolerance: Double
    /// True when every relative error is below the tolerance.
    public var passed: Bool { inputs.allSatisfy { $0.maxRelativeError < tolerance } }
    public var maxRelativeError: Double { inputs.map(\.maxRelativeError).max() ?? 0 }
    public var maxAbsoluteError: Double { inputs.map(\.maxAbsoluteError).max() ?? 0 }

    public var description: String {
        var lines = ["gradcheck \(passed ? "passed" : "FAILED") (max relative error \(maxRelativeError), tolerance \(tolerance))"]
        for (i, r) in inputs.enumerated() {
            lines.append("  input \(i): max abs \(r.maxAbsoluteError), max rel \(r.maxRelativeError) at element \(r.worstIndex) (analytic \(r.analytic), numeric \(r.numeric))")
        }
        return lines.joined(separator: "\n")
    }
}

/// Compares the gradient of `f` with central finite differences in float64.
///
/// The output is projected onto fixed random weights r, so one backward gives rᵀJ for every
/// input element, and each element's central difference of rᵀf checks one entry of it.
/// The relative error of an element is |a − n| / max(|a|, |n|, `floor`).
///
/// - Parameters:
///   - inputs: float64 tensors (converted if not); only those with `differentiable` true are checked.
///   - eps: the finite-difference step.
///   - tolerance: the largest relative error that passes.
///   - floor: the scale under which errors count as absolute.
public func gradcheck(_ f: ([Tensor]) -> Tensor, inputs: [Tensor], checking: [Bool]? = nil,
                      eps: Double = 1e-6, tolerance: Double = 1e-6, floor: Double = 1e-2,
                      seed: UInt64 = 7) throws -> GradcheckReport {
    let xs = inputs.map { $0.dtype.isFloatingPoint ? $0.detached().to(.float64).contiguous() : $0.detached() }
    let mask = checking ?? xs.map { $0.dtype.isFloatingPoint }
    let gen = RandomGenerator(seed: seed)
    let probe = withoutGradients { f(xs) }
    let weights = Tensor.randn(probe.shape, dtype: .float64, generator: gen)

    // Analytic: ∇ₓ (rᵀ f(x)).
    let leaves = zip(xs, mask).map { x, m in m ? x.requiringGrad() : x }
    let checked = leaves.indices.filter { mask[$0] }
    let analytic: [Tensor] = try withGradients {
        let y = f(leaves)
        guard y.requiresGrad else { return checked.map { leaves[$0].zerosLike() } }
        return try grad(of: (y.to(.float64) * weights).sum(), wrt: checked.map { leaves[$0] })
    }

    var reports: [GradcheckReport.InputReport] = []
    for (slot, i) in checked.enumerated() {
        let a = analytic[slot].toArray(Double.self)
        var report = GradcheckReport.InputReport(maxAbsoluteError: 0, maxRelativeError: 0, worstIndex: 0, analytic: 0, numeric: 0)
        var x = xs[i]
        for e in 0..<x.count {
            let index = unflatten(e, x.shape)
            let v = x.value(at: index)
            var probes = xs
            x.setValue(v + eps, at: index); probes[i] = x
            let plus = withoutGradients { (f(probes).to(.float64) * weights).sum().item }
            x.setValue(v - eps, at: index); probes[i] = x
            let minus = withoutGradients { (f(probes).to(.float64) * weights).sum().item }
            x.setValue(v, at: index)
            let numeric = (plus - minus) / (2 * eps)
            let absErr = Swift.abs(a[e] - numeric)
            let relErr = absErr / Swift.max(Swift.abs(a[e]), Swift.abs(numeric), floor)
            report.maxAbsoluteError = Swift.max(report.maxAbsoluteError, absErr)
            if relErr > report.maxRelativeError || relErr.isNaN {
                report.maxRelativeError = relErr.isNaN ? .infinity : relErr
                report.worstIndex = e
                report.analytic = a[e]
                report.numeric = numeric
            }
        }
        reports.append(report)
    }
    return GradcheckReport(inputs: reports, tolerance: tolerance)
}

/// Checks second derivatives: the gradient of rᵀ∇ₓ(wᵀf) is compared with finite differences of
/// the first gradient (computed with `createGraph`).
public func gradgradcheck(_ f: ([Tensor]) -> Tensor, inputs: [Tensor], eps: Double = 1e-6,
                          tolerance: Double = 1e-6, floor: Double = 1e-2, seed: UInt64 = 11) throws -> GradcheckReport {
    let xs = inputs.map { $0.dtype.isFloatingPoint ? $0.detached().to(.float64).contiguous() : $0.detached() }
    let mask = xs.map { $0.dtype.isFloatingPoint }
    let gen = RandomGenerator(seed: seed)
    let probe = withoutGradients { f(xs) }
    let w = Tensor.randn(probe.shape, dtype: .float64, generator: gen)
    let checked = xs.indices.filter { mask[$0] }
    // g(x) = Σᵢ rᵢ · ∇ₓᵢ (wᵀ f(x)), a scalar whose gradient involves second derivatives of f.
    let rs = checked.map { Tensor.randn(xs[$0].shape, dtype: .float64, generator: gen) }
    let firstOrder: ([Tensor]) -> Tensor = { args in
        // The first gradient is needed even while gradcheck probes without recording.
        let outer = GradMode.isEnabled
        return withGradients {
        let leaves = zip(args, mask).map { x, m in m && !x.requiresGrad ? x.requiringGrad() : x }
        let y = f(leaves)
        guard y.requiresGrad else { return Tensor(0, dtype: .float64) }
        let grads = try! grad(of: (y.to(.float64) * w).sum(), wrt: checked.map { leaves[$0] }, createGraph: true)
        var total = Tensor(0, dtype: .float64)
        for (g, r) in zip(grads, rs) { total = total + (g * r).sum() }
        return outer ? total : total.detached()
        }
    }
    return try gradcheck(firstOrder, inputs: xs, checking: mask, eps: eps, tolerance: tolerance, floor: floor, seed: seed)
}

func unflatten(_ flat: Int, _ shape: [Int]) -> [Int] {
    var index = [Int](repeating: 0, count: shape.count)
    var rem = flat
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        index[d] = rem % shape[d]
        rem /= shape[d]
    }
    return index
}
