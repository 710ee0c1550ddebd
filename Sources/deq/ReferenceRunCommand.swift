import Benchmarking
import ArgumentParser
import Foundation
import Models

/// Runs our side of a reference peer check (`Benchmarks/peers/*_reference.py` call it).
struct ReferenceRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference-run",
        abstract: "Our side of a peer check against the authors' code (used by Benchmarks/peers).",
        shouldDisplay: false)

    @Argument(help: "The model whose check to run: adaptive-span.") var model: String
    @Option(name: .customLong("in"), help: "Weights and inputs written by the peer script (safetensors).") var input: String
    @Option(name: .customLong("out"), help: "Where to write our results (safetensors).") var output: String

    func run() throws {
        switch model {
        case "adaptive-span":
            try AdaptiveSpanReferenceRun.run(input: URL(fileURLWithPath: input), output: URL(fileURLWithPath: output))
        default:
            throw ValidationError("reference-run knows adaptive-span, not \(model)")
        }
    }
}
