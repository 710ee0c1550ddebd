import Datasets
import Foundation
import Models
import NN
import Tensors

/// `deq import` / `deq export`: a reference PyTorch state dict ⇄ a `deq train` checkpoint, so the
/// authors' weights evaluate with `deq eval` and ours load into their code.
public enum ReferenceConversion {
    public struct ImportSummary: Sendable {
        public var model: String
        public var parameters: Int
        public var vocabularySize: Int
        /// The splits the reference vocabulary order was counted from.
        public var countedSplits: [String]
        public var architecture: [String: String]
        public var dtype: DType
    }

    /// Converts the reference state dict at `reference` into a checkpoint at `output`. The
    /// vocabulary is the reference's order for `dataset` (``Vocabulary/referenceOrder(_:in:)``);
    /// `options` are the architecture settings the state dict cannot tell; `configuration` is
    /// stored as the run's configuration (e.g. `bptt`, `f-thres` for `deq eval`).
    public static func importReference(model name: String, reference: URL, output: URL, dataset: String, data: String?,
                                       options: [String: String], configuration: [String: String] = [:]) throws -> ImportSummary {
        let type = try ReferenceModels.type(named: name)
        let stateDict = try TorchCheckpoint.read(reference)
        let kind = try CorpusKind(argument: dataset)
        let (vocabulary, counted) = try Vocabulary.referenceOrder(kind, in: try DataDirectory.resolve(data))
        let model = try type.fromReference(stateDict: stateDict, vocabularySize: vocabulary.count, options: options)
        var config = configuration
        config["model"] = name; config["dataset"] = kind.rawValue; config["vocab-from"] = "all"
        if let data { config["data"] = data }
        try RunCheckpoint.save(model: model, optimizer: nil, carry: [], metadata: [
            "step": "0", "config": RunCheckpoint.encode(config), "dataset": kind.rawValue,
            "vocabulary": vocabulary.symbols.joined(separator: "\n"), "imported-from": reference.path,
        ], to: output)
        return ImportSummary(model: name, parameters: model.parameterCount(), vocabularySize: vocabulary.count,
                             countedSplits: counted, architecture: model.architecture, dtype: model.dtype)
    }

    public struct ExportSummary: Sendable {
        public var model: String
        public var entries: Int
    }

    /// Writes the reference state dict of the model in `checkpoint` to `output` (a `torch.save`
    /// zip archive the reference's `load_state_dict` accepts).
    public static func exportReference(checkpoint: URL, output: URL) throws -> ExportSummary {
        let ckpt = try RunCheckpoint.read(checkpoint)
        let model = try ckpt.makeModel()
        guard let convertible = model as? any ReferenceCheckpointConvertible else {
            _ = try ReferenceModels.type(named: model.modelName)   // names the models that convert
            throw CheckpointError("\(checkpoint.path) holds \(model.modelName), which does not convert to a reference state dict")
        }
        let stateDict = convertible.referenceStateDict()
        try TorchCheckpoint.write(stateDict, to: output)
        return ExportSummary(model: model.modelName, entries: stateDict.count)
    }
}
