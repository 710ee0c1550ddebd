import ArgumentParser
import Foundation
import Models
import Training

/// `deq import`: a reference PyTorch state dict → a checkpoint `deq eval` reads.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert an authors' PyTorch state dict (torch.save zip) into a deq checkpoint.",
        discussion: """
        The vocabulary is rebuilt in the reference code's order from the corpus files under --data \
        (<eos>, then words by decreasing count over train/valid/test). Architecture settings the state \
        dict cannot tell (dropouts, solver) go in --option key=value.
        """)

    @Option(help: "Model: \(ReferenceModels.byName.keys.sorted().joined(separator: ", ")).") var model: String
    @Argument(help: "The reference state dict (.pt / .pkl written by torch.save).") var reference: String
    @Argument(help: "The checkpoint to write (.safetensors).") var output: String
    @Option(help: "The corpus the reference model was trained on (ptb, wikitext-2, wikitext-103).") var dataset: String
    @Option(help: "Data directory holding <dataset>/ (else EQ_DATA).") var data: String?
    @Option(parsing: .singleValue, help: "An architecture option, key=value (repeatable), e.g. --option dropouti=0.1.")
    var option: [String] = []
    @Option(name: .customLong("f-thres"), help: "Forward solver iterations deq eval uses.") var fThres: Int?
    @Option(help: "Window length deq eval uses.") var bptt: Int?

    func run() throws {
        var options: [String: String] = [:]
        for pair in option {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("--option takes key=value, got \"\(pair)\"")
            }
            options[parts[0].replacingOccurrences(of: "_", with: "-")] = parts[1]
        }
        var configuration: [String: String] = [:]
        if let fThres { configuration["f-thres"] = "\(fThres)"; configuration["b-thres"] = "\(fThres)" }
        if let bptt { configuration["bptt"] = "\(bptt)" }
        let s = try ReferenceConversion.importReference(model: model, reference: URL(fileURLWithPath: reference),
                                                        output: URL(fileURLWithPath: output), dataset: dataset, data: data,
                                                        options: options, configuration: configuration)
        print("imported \(s.model) from \(reference): \(s.parameters) parameters (\(s.dtype)), vocabulary \(s.vocabularySize) in the reference's order (counted over \(s.countedSplits.joined(separator: ", ")))")
        print("architecture: \(s.architecture.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        print("wrote \(output)")
    }
}

/// `deq export`: a deq checkpoint → the reference's PyTorch state dict.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's weights as the authors' PyTorch state dict (torch.save zip).")

    @Argument(help: "A checkpoint written by deq train or deq import.") var checkpoint: String
    @Argument(help: "The state dict to write (.pt).") var output: String

    func run() throws {
        let s = try ReferenceConversion.exportReference(checkpoint: URL(fileURLWithPath: checkpoint), output: URL(fileURLWithPath: output))
        print("wrote \(output): \(s.entries) entries of the reference \(s.model) state dict (load with torch.load(path, weights_only=True))")
    }
}
