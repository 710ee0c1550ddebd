import Benchmarking
import ArgumentParser
import Foundation
import NN

/// `deq rmc-probe IN OUT` (hidden): one RelationalMemory forward and backward in float64 from a
/// safetensors file, for `Benchmarks/peers/rmc_reference.py`.
struct RMCProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rmc-probe",
        abstract: "Run RelationalMemory on weights and inputs from a safetensors file (for the reference check).",
        shouldDisplay: false)

    @Argument(help: "Parameters, input, memory and loss weights (written by rmc_reference.py).") var input: String
    @Argument(help: "Where to write the outputs, final memory and gradients.") var output: String

    func run() throws {
        try RelationalMemoryProbe.run(reading: URL(fileURLWithPath: input), writingTo: URL(fileURLWithPath: output))
    }
}
