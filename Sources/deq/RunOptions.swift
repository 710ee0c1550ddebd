import ArgumentParser
import Datasets
import Foundation
import Training

/// The training flags, named after the reference scripts. Each one, when given, overrides the
/// same key of the preset and the `--config` file (see ``TrainingConfiguration/keys``).
struct RunOptions: ParsableArguments {
    @Option(help: "Model name (lstm-lm).") var model: String?
    @Option(help: "Preset under Configs/ (<model>-<preset>.json), e.g. small.") var preset: String?
    @Option(help: "YAML or JSON file with the same keys as these flags.") var config: String?
    @Option(help: "Data directory holding <dataset>/ (else EQ_DATA).") var data: String?
    @Option(help: "wikitext-2, wikitext-103, ptb, ptb-char, enwik8, text8.") var dataset: String?
    @Option(name: .customLong("train-split"), help: "Split to train on (valid where only valid/test exist).") var trainSplit: String?
    @Option(name: .customLong("eval-split"), help: "Split evaluated during training.") var evalSplit: String?
    @Option(name: .customLong("vocab-from"), help: "auto (default: all, or train when another split stands in for train), all (every split, as the reference code) or train (others read as <unk>).") var vocabFrom: String?
    @Option(name: .customLong("batch-size")) var batchSize: String?
    @Option(name: .customLong("eval-batch-size")) var evalBatchSize: String?
    @Option(name: .customLong("batch-split"), help: "Gradient-accumulation chunks per batch.") var batchSplit: String?
    @Option(help: "BPTT window length.") var bptt: String?
    @Option(name: .customLong("tgt-len"), help: "Alias of --bptt (Transformer-XL's name).") var tgtLen: String?
    @Option(help: "Vary window lengths around --bptt (true/false).") var varlen: String?
    @Option(help: "Learning rate.") var lr: String?
    @Option(help: "Gradient-norm clip (0 = off).") var clip: String?
    @Option(help: "sgd, adam, adamw, radam, adagrad.") var optim: String?
    @Option var momentum: String?
    @Option(name: .customLong("weight-decay")) var weightDecay: String?
    @Option(help: "constant, cosine, inv_sqrt, step, plateau.") var scheduler: String?
    @Option var warmup: String?
    @Option(name: .customLong("decay-factor")) var decayFactor: String?
    @Option var seed: String?
    @Option(name: .customLong("max-step")) var maxStep: String?
    @Option(name: .customLong("max-time"), help: "Stop training after this many seconds.") var maxTime: String?
    @Option(name: .customLong("eval-interval")) var evalInterval: String?
    @Option(name: .customLong("eval-max-tokens"), help: "Tokens per intermediate evaluation.") var evalMaxTokens: String?
    @Option(name: .customLong("log-interval")) var logInterval: String?
    @Option(name: .customLong("final-eval-full"), help: "Evaluate the whole split at the end (true/false).") var finalEvalFull: String?
    @Option(name: [.customLong("work-dir"), .customLong("run-dir")], help: "Run directory.") var workDir: String?
    @Option(name: .customLong("mem-len")) var memLen: String?
    @Option(name: .customLong("f-thres")) var fThres: String?
    @Option(name: .customLong("b-thres")) var bThres: String?
    @Option(name: .customLong("pretrain-steps")) var pretrainSteps: String?
    @Option var emsize: String?
    @Option var nhid: String?
    @Option var nlayers: String?
    @Option var dropout: String?
    @Option var tied: String?

    /// The flags that were given, as configuration keys.
    var given: [String: String] {
        let pairs: [(String, String?)] = [
            ("model", model), ("data", data), ("dataset", dataset), ("train-split", trainSplit), ("eval-split", evalSplit), ("vocab-from", vocabFrom),
            ("batch-size", batchSize), ("eval-batch-size", evalBatchSize), ("batch-split", batchSplit), ("bptt", bptt),
            ("tgt-len", tgtLen), ("varlen", varlen), ("lr", lr), ("clip", clip), ("optim", optim), ("momentum", momentum),
            ("weight-decay", weightDecay), ("scheduler", scheduler), ("warmup", warmup), ("decay-factor", decayFactor),
            ("seed", seed), ("max-step", maxStep), ("max-time", maxTime), ("eval-interval", evalInterval),
            ("eval-max-tokens", evalMaxTokens), ("log-interval", logInterval), ("final-eval-full", finalEvalFull), ("work-dir", workDir), ("mem-len", memLen),
            ("f-thres", fThres), ("b-thres", bThres), ("pretrain-steps", pretrainSteps), ("emsize", emsize), ("nhid", nhid),
            ("nlayers", nlayers), ("dropout", dropout), ("tied", tied),
        ]
        var out: [String: String] = [:]
        for (k, v) in pairs { if let v { out[k] = v } }
        return out
    }

    /// Defaults, then the preset, then the config file, then the flags.
    func configuration(base: [String: String]? = nil) throws -> TrainingConfiguration {
        var c = TrainingConfiguration()
        if let base { try c.apply(base, source: "the checkpoint's configuration") }
        if let preset {
            let name = "\(model ?? c.model)-\(preset).json"
            guard let url = Presets.locate(name) else {
                throw ConfigurationError("no preset \(name) under Configs/; available: \(Presets.available().joined(separator: ", "))")
            }
            try c.apply(ConfigFile.read(url.path), source: url.path)
        }
        if let config { try c.apply(ConfigFile.read(config), source: config) }
        try c.apply(given, source: "the command line")
        return c
    }
}

/// Presets are JSON files under `Configs/`, found from the working directory or the source tree.
enum Presets {
    static func directory(sourceFile: String = #filePath) -> URL? {
        let fm = FileManager.default
        let cwd = URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent("Configs")
        if fm.fileExists(atPath: cwd.path) { return cwd }
        let src = URL(fileURLWithPath: sourceFile).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Configs")
        return fm.fileExists(atPath: src.path) ? src : nil
    }

    static func locate(_ name: String) -> URL? {
        guard let dir = directory() else { return nil }
        let url = dir.appendingPathComponent(name)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    static func available() -> [String] {
        guard let dir = directory() else { return [] }
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    }
}

/// Loads the corpus a configuration names and checks its token counts against Data/manifest.json.
func loadCorpus(dataset: String, data: String?, vocabularySplit: String? = nil, say: (String) -> Void = { print($0) }) throws -> Corpus {
    let kind = try CorpusKind(argument: dataset)
    let dir = try DataDirectory.resolve(data)
    let corpus = try Corpus.load(kind, from: dir, vocabularySplit: vocabularySplit)
    if let vocabularySplit {
        say("vocabulary from the \(vocabularySplit) split only (\(corpus.vocabulary.count) symbols), as the real training split would give; words of other splits outside it read as <unk> (--vocab-from all keeps them)")
    }
    if let url = Manifest.locate() {
        let problems = try Manifest.load(url).mismatches(in: corpus, kind: kind)
        if problems.isEmpty {
            say("\(kind.rawValue): \(corpus.splits.keys.sorted().map { "\($0) \(corpus.splits[$0]!.count)" }.joined(separator: ", ")) tokens (match Data/manifest.json)")
        } else {
            for p in problems { say("warning: \(p)") }
        }
    }
    return corpus
}
