import Foundation
import Tensors

/// A training checkpoint in one safetensors file: the model's parameters and buffers under
/// `model.`, the optimizer's state under `optimizer.`, and the step, the random generator's state
/// and any extra strings in the metadata.
///
/// ```swift
/// try Checkpoint.save(model: net, optimizer: opt, step: 1000, to: url)
/// let info = try Checkpoint.load(into: net, optimizer: opt, from: url)   // info.step == 1000
/// ```
public enum Checkpoint {
    /// What a checkpoint restores besides tensors.
    public struct Info: Sendable {
        public var step: Int
        public var randomState: RandomGenerator.State?
        public var metadata: [String: String]
    }

    public static func save(model: Module, optimizer: Optimizer? = nil, step: Int,
                            generator: RandomGenerator = .global, extra: [String: String] = [:],
                            to url: URL) throws(CheckpointError) {
        var tensors: [String: Tensor] = [:]
        for (k, t) in model.stateDict() { tensors["model." + k] = t }
        var metadata = extra
        if let optimizer {
            let (ts, meta) = optimizer.exportState()
            for (k, t) in ts { tensors["optimizer." + k] = t }
            metadata.merge(meta) { _, new in new }
        }
        metadata["step"] = "\(step)"
        metadata["rng_seed"] = "\(generator.state.seed)"
        metadata["rng_offset"] = "\(generator.state.offset)"
        metadata["format"] = "equilibrium-checkpoint-1"
        try Safetensors.write(tensors, metadata: metadata, to: url)
    }

    /// Loads into `model` (and `optimizer`), restoring `generator`'s state when one was saved.
    /// The model must match exactly: the error names every missing, unexpected or mismatched tensor.
    @discardableResult
    public static func load(into model: Module, optimizer: Optimizer? = nil, generator: RandomGenerator? = .global,
                            from url: URL) throws(CheckpointError) -> Info {
        let (tensors, metadata) = try Safetensors.read(url)
        var modelState: [String: Tensor] = [:], optimizerState: [String: Tensor] = [:]
        var stray: [String] = []
        for (k, t) in tensors {
            if k.hasPrefix("model.") { modelState[String(k.dropFirst(6))] = t }
            else if k.hasPrefix("optimizer.") { optimizerState[String(k.dropFirst(10))] = t }
            else { stray.append(k) }
        }
        if !stray.isEmpty {
            throw CheckpointError("\(url.path) has tensors outside model. and optimizer.: \(stray.sorted().joined(separator: ", ")); it was not written by Checkpoint.save")
        }
        do { try model.load(modelState) } catch {
            throw CheckpointError("\(url.path): \(error.message)")
        }
        if let optimizer { try optimizer.importState(tensors: optimizerState, metadata: metadata) }
        var rng: RandomGenerator.State?
        if let s = metadata["rng_seed"].flatMap(UInt64.init), let o = metadata["rng_offset"].flatMap(UInt64.init) {
            var restored = RandomGenerator(seed: s).state   // State's memberwise init is internal to Tensors
            restored.offset = o
            rng = restored
            if let generator { generator.state = restored }
        }
        return Info(step: metadata["step"].flatMap(Int.init) ?? 0, randomState: rng, metadata: metadata)
    }
}
