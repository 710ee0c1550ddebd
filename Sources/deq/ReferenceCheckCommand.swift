import Benchmarking
import ArgumentParser
import Foundation
import Models
import NN

/// `deq reference-check PROBE OUT`: runs the DEQ-Transformer on a probe written by
/// Benchmarks/peers/deq_transformer_reference.py (the reference's weights and inputs) and writes
/// f, the fixed points and the losses for the script to compare (see DEQTransformerReferenceCheck).
struct ReferenceCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference-check",
        abstract: "Run the DEQ-Transformer on a reference probe (safetensors) and write f, z* and the losses.")

    @Argument(help: "The probe: the reference state dict, tokens and check inputs (safetensors).") var probe: String
    @Argument(help: "Where to write the results (safetensors).") var output: String

    func run() throws {
        let (tensors, metadata) = try Safetensors.read(URL(fileURLWithPath: probe))
        let results = try DEQTransformerReferenceCheck.run(probe: tensors, metadata: metadata)
        try Safetensors.write(results, to: URL(fileURLWithPath: output))
    }
}
