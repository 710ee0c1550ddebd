import Datasets
import Foundation
import Models
import NN
import Tensors

/// A training run's checkpoint: one safetensors file with the model under `model.`, the
/// optimizer under `optimizer.`, the recurrent state carried between windows under `carry.`, and
/// in the metadata the model's name and architecture, the configuration, the vocabulary, the step,
/// the random generator, the data position and the scheduler — everything `--resume` needs to
/// continue bit-exactly, and everything `deq eval`/`generate`/`info` need to rebuild the model.
public struct RunCheckpoint {
    public static let format = "equilibrium-run-1"

    public var tensors: [String: Tensor]
    public var metadata: [String: String]
    public let url: URL

    /// Reads a checkpoint written by ``save``.
    public static func read(_ url: URL) throws(CheckpointError) -> RunCheckpoint {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CheckpointError("no checkpoint at \(url.path); train one with deq train (it writes last.safetensors and best.safetensors in --work-dir)")
        }
        let (tensors, metadata) = try Safetensors.read(url)
        guard metadata["format"] == format else {
            throw CheckpointError("\(url.path) is not a deq train checkpoint (format \(metadata["format"] ?? "none")); pass a last.safetensors or best.safetensors written by deq train")
        }
        for key in ["config", "architecture"] {
            guard let text = metadata[key] else { continue }
            guard (try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: String] else {
                throw CheckpointError("\(url.path) has a \(key) entry in its metadata that is not a JSON map of strings; the file was altered — use a checkpoint written by deq train")
            }
        }
        if let step = metadata["step"], (Int(step) ?? -1) < 0 {
            throw CheckpointError("\(url.path) has step \"\(step)\" in its metadata, not a count of steps; the file was altered — use a checkpoint written by deq train")
        }
        return RunCheckpoint(tensors: tensors, metadata: metadata, url: url)
    }

    public static func save(model: any LanguageModel, optimizer: Optimizer?, carry: [Tensor],
                            metadata: [String: String], to url: URL) throws(CheckpointError) {
        var tensors: [String: Tensor] = [:]
        for (k, t) in model.stateDict() { tensors["model." + k] = t }
        var meta = metadata
        if let optimizer {
            let (ts, m) = optimizer.exportState()
            for (k, t) in ts { tensors["optimizer." + k] = t }
            meta.merge(m) { _, new in new }
        }
        for (i, t) in carry.enumerated() { tensors["carry.\(i)"] = t.detached().contiguous() }
        meta["format"] = format
        meta["model"] = model.modelName
        meta["architecture"] = Self.encode(model.architecture)
        try Safetensors.write(tensors, metadata: meta, to: url)
    }

    public var modelName: String { metadata["model"] ?? "?" }
    public var architecture: [String: String] { Self.decode(metadata["architecture"] ?? "{}") }
    public var configuration: [String: String] { Self.decode(metadata["config"] ?? "{}") }
    public var step: Int { metadata["step"].flatMap(Int.init) ?? 0 }
    public var vocabulary: Vocabulary? {
        metadata["vocabulary"].map { Vocabulary(symbols: $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)) }
    }

    /// Tensors under `prefix.`, with the prefix removed.
    public func tensors(under prefix: String) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (k, t) in tensors where k.hasPrefix(prefix + ".") { out[String(k.dropFirst(prefix.count + 1))] = t }
        return out
    }

    /// The carried state, in order.
    public var carry: [Tensor] {
        let c = tensors(under: "carry")
        return (0..<c.count).compactMap { c["\($0)"] }
    }

    /// Builds the model the checkpoint holds and loads its weights. With `expectedModel`, a
    /// checkpoint of another model is an error that names both.
    public func makeModel(expectedModel: String? = nil) throws -> any LanguageModel {
        if let expectedModel, expectedModel != modelName {
            throw CheckpointError("\(url.path) holds a \(modelName) model, not \(expectedModel); pass --model \(modelName) or start a new run in another --work-dir")
        }
        guard let vocab = vocabulary else { throw CheckpointError("\(url.path) has no vocabulary in its metadata; it was not written by deq train") }
        let model = try ModelRegistry.make(modelName, vocabularySize: vocab.count, options: architecture)
        let weights = tensors(under: "model")
        // The model runs in the dtype its weights were saved in (float64 for an imported float64 reference).
        if let dtype = weights.values.first(where: { $0.dtype.isFloatingPoint })?.dtype { model.convert(to: dtype) }
        do { try model.load(weights) } catch let e {
            throw CheckpointError("\(url.path): \(e.message)")
        }
        return model
    }

    static func encode(_ dict: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: dict, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String] ?? [:]
    }
}
