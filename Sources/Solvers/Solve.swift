import Foundation
import Tensors

/// Finds x with x = f(x) for a batch of samples (the first axis of `x0` is the sample axis;
/// each sample stops on its own and is frozen once it converges).
///
/// `f` sees and returns tensors shaped like `x0`; it must treat samples independently. The
/// solver never throws: singular small solves and blow-ups fall back to damped iteration and
/// are listed in `fallbacks`; NaN or infinity in `f` ends that sample with status non-finite.
public func solve(_ f: (Tensor) -> Tensor, from x0: Tensor, method: SolverMethod = .anderson(),
                  options: SolverOptions = SolverOptions()) -> SolverResult {
    withoutActuallyEscaping(f) { f in
        runSolver(map: f, x0: x0, isFixedPoint: true, method: method, options: options)
    }
}

/// Finds x with g(x) = 0 for a batch of samples. `options.jacobianGuess` is the scalar c of the
/// initial Jacobian guess J ≈ c·I (the first step is x − g(x)/c); the relative residual is
/// measured against ‖g(x₀)‖.
public func solveRoot(_ g: (Tensor) -> Tensor, from x0: Tensor, method: SolverMethod = .broyden(),
                      options: SolverOptions = SolverOptions()) -> SolverResult {
    withoutActuallyEscaping(g) { g in
        runSolver(map: g, x0: x0, isFixedPoint: false, method: method, options: options)
    }
}

func runSolver(map: @escaping (Tensor) -> Tensor, x0: Tensor, isFixedPoint: Bool, method: SolverMethod,
               options: SolverOptions) -> SolverResult {
    precondition(options.maxIterations >= 1, "solve: maxIterations is \(options.maxIterations); allow at least 1 iteration")
    precondition(options.tolerance >= 0, "solve: tolerance is \(options.tolerance); pass a non-negative tolerance")
    let start = DispatchTime.now().uptimeNanoseconds
    // The peak covers the solver's own buffers and f's temporaries, nested inside any outer
    // measurement (a DEQ training step measures its own).
    let ((iterations, tracker), peak) = MemoryStats.measurePeak { () -> (Int, Tracker) in
        let problem = Problem(map: map, x0: x0, isFixedPoint: isFixedPoint, jacobianGuess: options.jacobianGuess)
        let x = withoutGradients { problem.flatten(x0.detached()).contiguous() }
        let g = problem.residual(x)
        let tracker = Tracker(problem: problem, options: options, x0: x, g0: g)
        let iterations: Int = withoutGradients {
            switch method {
            case .fixedPoint(let damping):
                return runFixedPoint(problem, tracker, x: x, g: g, damping: damping)
            case .anderson(let window, let mixing, let lambda):
                precondition(window >= 1, "anderson: window is \(window); keep at least 1 difference pair")
                return runAnderson(problem, tracker, x: x, g: g, window: window, mixing: mixing, lambda: lambda)
            case .broyden(let lineSearch):
                return runBroyden(problem, tracker, x: x, g: g, capacity: options.maxIterations,
                                  policy: .dropOldest, lineSearch: lineSearch)
            case .limitedBroyden(let memory, let policy, let lineSearch):
                precondition(memory >= 1, "limitedBroyden: memory is \(memory); keep at least 1 update")
                return runBroyden(problem, tracker, x: x, g: g, capacity: memory, policy: policy, lineSearch: lineSearch)
            case .newtonKrylov(let dimension, let products):
                precondition(dimension >= 1, "newtonKrylov: krylovDimension is \(dimension); use at least 1")
                return runNewtonKrylov(problem, tracker, x: x, g: g, dimension: dimension, products: products)
            }
    }
    tracker.finishRemaining(at: iterations)
    return (iterations, tracker)
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return tracker.result(iterations: iterations, seconds: seconds, peakBytes: peak)
}

/// Keeps rows of `new` where `mask` is true, else rows of `old`.
func select(_ mask: [Bool], _ new: Tensor, _ old: Tensor) -> Tensor {
    if !mask.contains(false) { return new }
    if !mask.contains(true) { return old }
    // Contiguous [B, n] rows without gradients: one row copy each. The broadcasting `where`
    // walks element by element, and the solvers' per-sample selects were 5% of a DEQ step.
    if new.rank == 2, old.shape == new.shape, old.dtype == new.dtype, new.isContiguous, old.isContiguous,
       !new.requiresGrad, !old.requiresGrad {
        let out = Tensor.zeros(new.shape, dtype: new.dtype)
        let rowBytes = new.shape[1] * new.dtype.byteSize
        for (b, takeNew) in mask.enumerated() {
            memcpy(out.baseAddress + b * rowBytes, (takeNew ? new : old).baseAddress + b * rowBytes, rowBytes)
        }
        return out
    }
    return Tensor.where(sampleMask(mask), new, old)
}

/// Zeroes the rows where `mask` is false.
func masked(_ t: Tensor, _ mask: [Bool]) -> Tensor {
    if !mask.contains(false) { return t }
    return Tensor.where(sampleMask(mask), t, Tensor.zeros([1, 1], dtype: t.dtype))
}
