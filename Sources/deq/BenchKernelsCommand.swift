import Benchmarking
import ArgumentParser
import Foundation
import Tensors

/// `deq bench kernels`: times the kernel workloads shared with `Benchmarks/` and the peers.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Time matmul, elementwise, reduction and row-wise kernels (median of repeated runs).",
        discussion: """
            Workloads: \(KernelWorkload.all.map(\.name).joined(separator: ", ")).
            Compare with the C and PyTorch peers through Benchmarks/peers/compare_kernels.sh.
            """
    )

    @Flag(help: "Print one JSON object per workload and line instead of a table.")
    var json = false

    @Option(help: "Threads for OpenMP and OpenBLAS (default: EQ_NUM_THREADS or all cores).")
    var threads: Int?

    @Option(name: .customLong("only"), parsing: .upToNextOption,
            help: "Run only these workloads, by name.")
    var only: [String] = []

    @Option(help: "Approximate seconds of kept samples per workload.")
    var seconds: Double = 1.0

    func validate() throws {
        if let threads, threads < 1 {
            throw ValidationError("--threads must be at least 1, got \(threads)")
        }
        for name in only where KernelWorkload.named(name) == nil {
            throw ValidationError("unknown workload '\(name)'; choose from \(KernelWorkload.all.map(\.name).joined(separator: ", "))")
        }
        if !(seconds > 0) { throw ValidationError("--seconds must be positive, got \(seconds)") }
    }

    func run() throws {
        if let threads { Threading.threadCount = threads }
        let workloads = only.isEmpty ? KernelWorkload.all : only.compactMap(KernelWorkload.named)
        var timer = KernelTimer()
        timer.budgetSeconds = seconds
        if !json {
            print("threads: \(Threading.threadCount), kernels: \(Threading.kernels), BLAS: OpenBLAS \(BLASCore.name)"
                  + (Threading.openMP ? "" : " (built without OpenMP: C loops run serially)"))
            if let note = BLASCore.pinnedSlowerNote { print("note: \(note)") }
            print(pad("workload", 22) + pad("ms (median)", 14, right: true) + pad("GFLOP/s", 10, right: true)
                  + pad("samples", 9, right: true) + "  what")
        }
        for w in workloads {
            let body = w.prepare()
            let r = timer.measure(body)
            let gflops = w.flops.map { $0 / r.median / 1e9 }
            if json {
                var fields = ["\"name\":\"\(w.name)\"", "\"ms\":\(format(r.median * 1e3, 6))",
                              "\"min_ms\":\(format(r.minimum * 1e3, 6))"]
                if let gflops { fields.append("\"gflops\":\(format(gflops, 3))") }
                fields += ["\"samples\":\(r.samples)", "\"calls_per_sample\":\(r.callsPerSample)",
                           "\"threads\":\(Threading.threadCount)"]
                print("{" + fields.joined(separator: ",") + "}")
            } else {
                print(pad(w.name, 22) + pad(format(r.median * 1e3, r.median < 1e-4 ? 6 : 4), 14, right: true)
                      + pad(gflops.map { format($0, 1) } ?? "-", 10, right: true)
                      + pad("\(r.samples)", 9, right: true) + "  " + w.summary)
            }
            fflush(nil)   // nil: every output stream (Swift 6 cannot name the C global stdout)
        }
    }

    private func format(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }

    private func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: Swift.max(0, width - s.count))
        return right ? fill + s : s + fill
    }
}
