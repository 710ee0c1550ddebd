import ArgumentParser
import Foundation
import Tensors

/// `deq bench autograd`: the tape's overhead per recorded operation.
///
/// A chain of small adds is dominated by bookkeeping (recording a node, walking the graph,
/// accumulating cotangents), not by arithmetic, so its time per op is the tape overhead.
struct BenchAutograd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autograd",
        abstract: "Time a chain of 8x8 adds with gradients (forward + backward), in µs per op."
    )

    @Flag(name: .long, help: "Print one JSON object per line.")
    var json = false

    @Option(name: .long, help: "Length of the chain.")
    var length = 1000

    @Option(name: .long, help: "Timed repeats (the median is reported).")
    var repeats = 31

    func validate() throws {
        guard length > 0 else { throw ValidationError("--length must be positive, got \(length)") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        let constant = Tensor.randn([8, 8])
        let start = Tensor.randn([8, 8])
        let n = length

        // Forward and backward through the chain x + c + c + ... with gradients.
        let withTape = try median(repeats) {
            let x = start.requiringGrad()
            var y = x
            for _ in 0..<n { y = y + constant }
            try y.sum().backward()
            precondition(x.grad != nil)
        }
        // The same forward without recording: the arithmetic and allocation alone.
        let withoutTape = try median(repeats) {
            withoutGradients {
                var y = start
                for _ in 0..<n { y = y + constant }
                _ = y
            }
        }
        let results: [(String, Double)] = [
            ("autograd_chain_add_8x8", withTape / Double(n)),
            ("autograd_chain_add_8x8_forward_nograd", withoutTape / Double(n)),
        ]
        for (name, us) in results {
            if json {
                print("{\"name\": \"\(name)\", \"us_per_op\": \(String(format: "%.3f", us)), \"chain\": \(n), \"repeats\": \(repeats)}")
            } else {
                print("\(name): \(String(format: "%.3f", us)) µs per op (chain of \(n), median of \(repeats))")
            }
        }
        if !json {
            print("tape overhead: \(String(format: "%.2f", withTape / withoutTape))x the no-grad forward")
        }
    }

    /// Median wall time of `body` in microseconds, after one warm-up run.
    func median(_ repeats: Int, _ body: () throws -> Void) throws -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
        }
        times.sort()
        return times[times.count / 2]
    }
}
