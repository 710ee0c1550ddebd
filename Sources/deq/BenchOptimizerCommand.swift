import Benchmarking
import ArgumentParser
import Foundation
import NN

/// `deq bench optimizer`: nanoseconds per parameter of one Adam, AdamW and SGD-momentum step,
/// fused against the per-parameter rule, in one run (interleaved rounds, best samples).
struct BenchOptimizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimizer",
        abstract: "Time one optimizer step (fused and per parameter) in ns per parameter."
    )

    @Flag(name: .long, help: "Print one JSON object per line.")
    var json = false

    @Option(name: .long, help: "Number of Linear(width, width) layers holding the parameters.")
    var layers = 16

    @Option(name: .long, help: "Width of each layer (16 layers of 1024 hold 16.8 M parameters).")
    var width = 1024

    @Option(name: .long, help: "Interleaved timing rounds (the best of each form is kept).")
    var rounds = 7

    func validate() throws {
        try requireAtLeast(1, ["layers": layers, "width": width, "rounds": rounds])
    }

    func run() throws {
        let rows = try OptimizerBenchmark.run(layers: layers, width: width, rounds: rounds)
        for r in rows {
            let f = String(format: "%.3f", r.fusedNsPerParameter), p = String(format: "%.3f", r.perParameterNsPerParameter)
            if json {
                print("{\"name\": \"optimizer_\(r.optimizer)\", \"parameters\": \(r.parameters), \"fused_ns_per_param\": \(f), \"per_parameter_ns_per_param\": \(p)}")
            } else {
                print("optimizer_\(r.optimizer): fused \(f) ns/param, per parameter \(p) ns/param (\(r.parameters) parameters, best of \(rounds))")
            }
        }
    }
}
