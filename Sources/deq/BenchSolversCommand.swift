import Benchmarking
import ArgumentParser
import Foundation
import Training
import Solvers
import Tensors

/// `deq bench solvers`: every method on the fixed suite, as a table, JSON lines or a plot.
struct BenchSolvers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solvers",
        abstract: "Run every fixed-point/root solver on the fixed problem suite."
    )

    @Flag(name: .long, help: "Print one JSON object per line instead of a table.")
    var json = false

    @Option(name: .long, help: "Write residual-against-iteration plots to this SVG file (one panel file per problem: FILE-<problem>.svg when several).")
    var plot: String?

    @Option(name: .long, help: "Stopping tolerance on the max-norm of f(x) − x or g(x).")
    var tolerance: Double = 1e-6

    @Option(name: .long, help: "Iteration limit.")
    var maxIterations: Int = 500

    @Option(name: .long, help: "Only problems whose name contains this text.")
    var problem: String?

    @Option(name: .long, help: "Measure each run this many times and keep the fastest (the machine may be shared).")
    var repeats: Int = 1

    @Option(name: .long, help: "Only methods whose label contains this text.")
    var method: String?

    @Option(name: .long, help: "Write each problem's defining arrays (raw little-endian float64) to this directory for peer scripts.")
    var export: String?

    @Flag(name: .long, help: "Print each run's residual trace (max over the batch) after its row.")
    var trace = false

    @Flag(name: .long, help: "Also print the limited-memory vs full Broyden peak-memory comparison (limits 30 and 300, tanh-256).")
    var memory = false

    @Flag(name: .long, help: "Print each method's work per iteration beyond its evaluations, in thread CPU time (robust on a shared machine; run with EQ_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1), as a multiple of one evaluation.")
    var overhead = false

    func validate() throws {
        try requireAtLeast(1, ["max-iterations": maxIterations, "repeats": repeats])
        guard tolerance.isFinite, tolerance >= 0 else { throw ValidationError("--tolerance must be 0 or a positive number, got \(tolerance)") }
    }

    func run() throws {
        var problems = SolverTestProblems.suiteWithModels()
        if let filter = problem { problems = problems.filter { $0.name.contains(filter) } }
        if let dir = export { try exportProblems(problems, to: dir) }
        var methods: [SolverMethod] = [
            .fixedPoint(), .anderson(window: 10), .anderson(window: 30), .anderson(window: 60), .broyden(), .limitedBroyden(memory: 10),
            .limitedBroyden(memory: 30), .limitedBroyden(memory: 60), .limitedBroyden(memory: 30, policy: .dropOldest), .newtonKrylov(),
            .newtonKrylov(products: .autograd),
        ]
        if let filter = method { methods = methods.filter { methodLabel($0).contains(filter) } }
        let options = SolverOptions(tolerance: tolerance, maxIterations: maxIterations, norm: .max)
        if !json {
            print("problem               method              iters  fevals    residual       ms   ms/feval   peak_bytes  status")
        }
        for p in problems {
            // The bare cost of one evaluation, to separate f from solver overhead.
            _ = p.map(p.x0)
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<20 { _ = p.map(p.x0) }
            let evalMs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 20 / 1e6
            if !json { print("\(p.name): one bare evaluation of the map at x0 takes \(fmt(evalMs, 4)) ms") }
            var plotSeries: [(label: String, values: [Double])] = []
            for method in methods {
                // Warm-up run (first-touch allocations, BLAS threads), then the measured run.
                _ = p.solve(method: method, options: SolverOptions(tolerance: tolerance, maxIterations: 2, norm: .max))
                var r = p.solve(method: method, options: options)
                for _ in 1..<Swift.max(repeats, 1) {
                    let again = p.solve(method: method, options: options)
                    if again.seconds < r.seconds { r = again }
                }
                let label = methodLabel(method)
                let ms = r.seconds * 1000
                if json {
                    print("{\"problem\":\"\(p.name)\",\"method\":\"\(label)\",\"iterations\":\(r.iterations),\"fevals\":\(r.functionEvaluations),\"residual\":\(r.maxResidual),\"ms\":\(fmt(ms, 3)),\"peak_bytes\":\(r.peakBytes),\"status\":\"\(r.status.label)\",\"fallbacks\":\(r.fallbacks.count),\"eval_ms\":\(fmt(evalMs, 4))}")
                } else {
                    print(pad(p.name, 22) + pad(label, 18) + lpad("\(r.iterations)", 7) + lpad("\(r.functionEvaluations)", 8)
                          + lpad(String(format: "%.2e", r.maxResidual), 12) + lpad(fmt(ms, 1), 9)
                          + lpad(fmt(ms / Double(Swift.max(r.functionEvaluations, 1)), 4), 11)
                          + lpad("\(r.peakBytes)", 13) + "  " + r.status.label + (r.fallbacks.isEmpty ? "" : " (\(r.fallbacks.count) fallbacks)"))
                }
                if trace { print("  trace: " + r.maxResidualTrace.map { String(format: "%.1e", $0) }.joined(separator: " ")) }
                plotSeries.append((label, r.maxResidualTrace))
            }
            if let file = plot {
                let path = problems.count == 1 ? file : file.replacingOccurrences(of: ".svg", with: "") + "-\(p.name).svg"
                let chart = CurvePlot(title: "\(p.name): max-norm residual", xLabel: "iteration", yLabel: "residual",
                                      series: CurvePlot.indexed(plotSeries), logY: true)
                try FileSystemError.write(chart.render(), to: path, flag: "--plot")
            }
        }
        if memory { memoryComparison() }
        if overhead { overheadTable(problems, methods) }
    }

    /// Thread CPU seconds of `body`, best of `repeats`.
    func cpuSeconds(_ repeats: Int, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            var a = timespec(), b = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a)
            body()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b)
            best = Swift.min(best, Double(b.tv_sec - a.tv_sec) + Double(b.tv_nsec - a.tv_nsec) / 1e9)
        }
        return best
    }

    /// (CPU time of the solve − evaluations × CPU time of one evaluation) / iterations, against
    /// one evaluation: the solver's own work per iteration. Rounds interleave the bare
    /// evaluation and the solves; each keeps its best.
    func overheadTable(_ problems: [SolverTestProblem], _ methods: [SolverMethod]) {
        let options = SolverOptions(tolerance: tolerance, maxIterations: maxIterations, norm: .max)
        print("\nwork per iteration beyond the evaluations (thread CPU time, best of \(Swift.max(repeats, 3)) interleaved rounds)")
        for p in problems {
            var evalBest = Double.infinity
            var solveBest = Array(repeating: Double.infinity, count: methods.count)
            var runs: [SolverResult?] = Array(repeating: nil, count: methods.count)
            for _ in 0..<Swift.max(repeats, 3) {
                evalBest = Swift.min(evalBest, cpuSeconds(5) { _ = p.map(p.x0) })
                for (i, m) in methods.enumerated() {
                    solveBest[i] = Swift.min(solveBest[i], cpuSeconds(1) { runs[i] = p.solve(method: m, options: options) })
                }
            }
            print("\(p.name): one evaluation \(fmt(evalBest * 1000, 4)) ms CPU")
            for (i, m) in methods.enumerated() {
                guard let r = runs[i] else { continue }
                let extra = (solveBest[i] - Double(r.functionEvaluations) * evalBest) / Double(Swift.max(r.iterations, 1))
                print("  " + pad(methodLabel(m), 18) + lpad(fmt(extra * 1000, 4), 9) + " ms/iteration  "
                      + lpad(fmt(extra / evalBest, 3), 7) + "x one evaluation  (\(r.iterations) iterations, \(r.functionEvaluations) evaluations)")
            }
        }
    }

    /// Peak solver memory of limited-memory and full Broyden for iteration limits 30 and 300.
    func memoryComparison() {
        let p = SolverTestProblems.tanhLayer(width: 256)
        print("\nBroyden peak memory on \(p.name) (tolerance 0, so every run uses its whole limit):")
        for method in [SolverMethod.limitedBroyden(memory: 10), .broyden()] {
            var row = pad(methodLabel(method), 16)
            for limit in [30, 300] {
                let r = p.solve(method: method, options: SolverOptions(tolerance: 0, maxIterations: limit, norm: .max))
                row += "  limit \(limit): \(r.peakBytes) bytes (\(r.iterations) iterations)"
            }
            print(row)
        }
    }

    func methodLabel(_ m: SolverMethod) -> String {
        switch m {
        case .anderson(let w, _, _): return "anderson-m\(w)"
        case .limitedBroyden(let mem, let policy, _): return "lbroyden-m\(mem)" + (policy == .dropOldest ? "-drop" : "")
        default: return m.name
        }
    }

    func exportProblems(_ problems: [SolverTestProblem], to dir: String) throws {
        try FileSystemError.createDirectory(dir, flag: "--export")
        for p in problems {
            for (name, t) in p.data {
                let values = t.to(.float64).contiguous().toArray(Double.self)
                let data = values.withUnsafeBufferPointer { Data(buffer: $0) }
                try FileSystemError.write(data, to: "\(dir)/\(p.name)-\(name).f64", flag: "--export")
            }
            let x0 = p.x0.to(.float64).contiguous().toArray(Double.self)
            try FileSystemError.write(x0.withUnsafeBufferPointer { Data(buffer: $0) }, to: "\(dir)/\(p.name)-x0.f64", flag: "--export")
            let meta = "{\"name\":\"\(p.name)\",\"shape\":\(p.x0.shape),\"fixed_point\":\(p.isFixedPoint),\"jacobian_guess\":\(p.jacobianGuess),\"arrays\":{\(p.data.map { "\"\($0.0)\":\($0.1.shape)" }.joined(separator: ","))}}"
            try FileSystemError.write(meta, to: "\(dir)/\(p.name).json", flag: "--export")
        }
    }

    private func fmt(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }
    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    private func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
}
