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
        for key in ["optimizer_tensors", "optimizer_steps", "data_position", "data_epoch"] {
            if let text = metadata[key], (Int(text) ?? -1) < 0 {
                throw CheckpointError("\(url.path) has \(key) \"\(text)\" in its metadata, not a count; the file was altered — use a checkpoint written by deq train")
            }
        }
        let checkpoint = RunCheckpoint(tensors: tensors, metadata: metadata, url: url)
        // Checkpoints since the checksum record how many optimizer slots they hold.
        if let expected = metadata["optimizer_tensors"].flatMap(Int.init) {
            let found = checkpoint.tensors(under: "optimizer").count
            guard found == expected else {
                throw CheckpointError("\(url.path) lacks optimizer state (\(found) of its \(expected) optimizer tensors are present); the file was altered — resume from the run's other checkpoint, or load only its weights with deq eval")
            }
        }
        return checkpoint
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
        meta["optimizer_tensors"] = "\(tensors.keys.filter { $0.hasPrefix("optimizer.") }.count)"
        for (i, t) in carry.enumerated() { tensors["carry.\(i)"] = t.detached().contiguous() }
        meta["format"] = format
        meta["model"] = model.modelName
        meta["architecture"] = Self.encode(model.architecture)
        // The last line of defence: non-finite weights are never written (the trainer stops first).
        if let bad = nonFinite(tensors).first {
            throw CheckpointError("not writing \(url.path): \(bad) holds NaN or infinite values; the run diverged — lower --lr or --clip and resume from the last checkpoint")
        }
        try Safetensors.write(tensors, metadata: meta, checksum: true, to: url)
    }

    /// The names of floating-point tensors holding a NaN or an infinity, sorted.
    static func nonFinite(_ tensors: [String: Tensor]) -> [String] {
        tensors.filter { $0.value.dtype.isFloatingPoint && !$0.value.to(.float64).isFinite }.keys.sorted()
    }

    /// Refuses weights (or, with `includingState`, optimizer slots and carried state too) that
    /// hold NaN or infinities. `allowNonFinite` lets a weights-only load through (`deq eval
    /// --allow-non-finite` inspects a diverged run).
    public func checkFinite(includingState: Bool = false, allowNonFinite: Bool = false) throws(CheckpointError) {
        guard !allowNonFinite else { return }
        let bad = Self.nonFinite(includingState ? tensors : tensors.filter { $0.key.hasPrefix("model.") })
        guard bad.isEmpty else {
            let shown = bad.prefix(3).joined(separator: ", ") + (bad.count > 3 ? " and \(bad.count - 3) more" : "")
            let fix = includingState ? "resume from an earlier checkpoint (the run's best.safetensors, copied to last.safetensors) or start a new run in another --work-dir"
                : "use an earlier checkpoint, or pass --allow-non-finite to load its weights anyway"
            throw CheckpointError("\(url.path) holds NaN or infinite values in \(shown); it comes from a diverged run — \(fix)")
        }
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
    public func makeModel(expectedModel: String? = nil, allowNonFinite: Bool = false) throws -> any LanguageModel {
        try checkFinite(allowNonFinite: allowNonFinite)
        if let expectedModel, expectedModel != modelName {
            throw CheckpointError("\(url.path) holds a \(modelName) model, not \(expectedModel); pass --model \(modelName) or start a new run in another --work-dir")
        }
        guard let vocab = vocabulary else { throw CheckpointError("\(url.path) has no vocabulary in its metadata; it was not written by deq train") }
        let weights = tensors(under: "model")
        // A checkpoint holds every parameter, so an architecture larger than its tensors is
        // metadata that does not belong to them. When building it would take a real share of the
        // memory it is refused here, before allocating; a small one is built and the load names
        // each mismatched tensor.
        let stored = Double(weights.values.reduce(0) { $0 + $1.count })
        let size = try ModelRegistry.estimate(modelName, vocabularySize: vocab.count, options: architecture)
        guard size.parameters <= stored || size.parameters * 4 < SizeCheck.availableMemory / 8 else {
            throw CheckpointError("\(url.path): its architecture (\(architecture.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))) needs at least \(Int(min(size.parameters, 1e18))) parameters but the file holds \(Int(stored)) values; the metadata does not match the weights — use the checkpoint deq train wrote")
        }
        let model = try ModelRegistry.make(modelName, vocabularySize: vocab.count, options: architecture)
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
