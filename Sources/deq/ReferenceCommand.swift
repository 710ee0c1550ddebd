import Benchmarking
import ArgumentParser
import Foundation
import Models
import NN

/// `deq reference rztx`: evaluates our ReZero encoder or decoder layer on weights and inputs that a
/// peer script wrote (`Benchmarks/peers/rezero_reference.py`), writing the output beside them.
struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Evaluate a layer on weights and inputs from a peer check script (safetensors in, safetensors out).")

    @Argument(help: "Which layer: rztx (RZTXEncoderLayer or RZTXDecoderLayer, as the file's metadata says).")
    var layer: String

    @Option(name: .long, help: "The safetensors file the peer script wrote.")
    var input: String

    @Option(name: .long, help: "Where to write our output (safetensors, tensor \"output\").")
    var output: String

    func validate() throws {
        guard layer == "rztx" else { throw ValidationError("unknown layer '\(layer)'; the one reference layer is rztx") }
    }

    func run() throws {
        let (tensors, metadata) = try Safetensors.read(URL(fileURLWithPath: input))
        let out = try ReZeroReference.evaluate(tensors: tensors, metadata: metadata)
        try Safetensors.write(["output": out.detached()], to: URL(fileURLWithPath: output))
        print("wrote \(output): output \(out.shape)")
    }
}
