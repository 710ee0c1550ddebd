import Datasets
import Foundation
import Models
import NN

/// What `--resume` may and may not change. Model sizes, the dataset and the vocabulary are fixed
/// by the weights (refused, naming the flag); the batch size, learning rate, schedule and the
/// other loop settings may change (applied, and reported).
enum ResumeCheck {
    /// Settings whose change the resumed run reports (they take effect from the next step).
    static let reported = ["batch-size", "lr", "scheduler", "warmup", "decay-factor", "max-step", "clip", "bptt",
                           "eval-interval", "eval-batch-size", "batch-split", "weight-decay", "momentum", "dropout", "varlen"]

    /// Refuses a checkpoint trained on another dataset or vocabulary.
    static func sameData(_ ckpt: RunCheckpoint, corpus: Corpus) throws(CheckpointError) {
        if let dataset = ckpt.metadata["dataset"], dataset != corpus.name {
            throw CheckpointError("\(ckpt.url.path) was trained on \(dataset), not \(corpus.name); resume with --dataset \(dataset) (the dataset cannot change on resume) or start a new run in another --work-dir")
        }
        if let vocab = ckpt.vocabulary, vocab.symbols != corpus.vocabulary.symbols {
            throw CheckpointError("\(ckpt.url.path) has a vocabulary of \(vocab.count) symbols, the corpus now gives \(corpus.vocabulary.count) (another --data or --vocab-from); resume with the data and --vocab-from the run was started with, or start a new run in another --work-dir")
        }
    }

    /// The error for weights that do not fit the model: the architecture settings that differ,
    /// as flags, when the checkpoint records them.
    static func sizeRefusal(_ ckpt: RunCheckpoint, model: any LanguageModel, error: NNError) -> CheckpointError {
        let saved = ckpt.architecture, now = model.architecture
        let changed = Set(saved.keys).union(now.keys).sorted().filter { saved[$0] != now[$0] && $0 != "dropout" }
        guard !changed.isEmpty else { return CheckpointError("\(ckpt.url.path): \(error.message)") }
        let list = changed.map { "--\($0) \(now[$0] ?? "unset") (the run has \(saved[$0] ?? "unset"))" }.joined(separator: ", ")
        return CheckpointError("\(ckpt.url.path) holds weights of another size: \(list) — a shape mismatch, model sizes cannot change on resume; drop \(changed.map { "--\($0)" }.joined(separator: ", ")) or start a new run in another --work-dir")
    }

    /// The resumed run's settings that differ from the checkpoint's, as "key old → new".
    static func changes(_ ckpt: RunCheckpoint, configuration: TrainingConfiguration) -> [String] {
        let saved = ckpt.configuration, now = configuration.values
        return reported.compactMap { k in
            guard let old = saved[k], let new = now[k], old != new, Double(old) == nil || Double(old) != Double(new) else { return nil }
            return "--\(k) \(old) → \(new)"
        }
    }

    /// The data position for another batch size: the same share of the epoch, in the new streams.
    static func position(_ position: Int, savedSteps: Int, steps: Int) -> Int {
        guard savedSteps > 0, position >= 0, position <= savedSteps else { return position }
        return min(steps, Int((Double(position) / Double(savedSteps) * Double(steps)).rounded(.down)))
    }
}
