import ArgumentParser
import Datasets
import Foundation
import Training

/// The training flags, named after the reference scripts. Values are taken as given, even when
/// they start with a dash (`--lr -1`), so that the configuration check names the flag and the
/// range instead of the parser reporting a missing value. Each one, when given, overrides the
/// same key of the preset and the `--config` file (see ``TrainingConfiguration/keys``).
struct RunOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Model name (lstm-lm).") var model: String?
    @Option(parsing: .unconditional, help: "Built-in preset <model>-<preset>, e.g. small (`deq presets` lists them).") var preset: String?
    @Option(parsing: .unconditional, help: "YAML or JSON file with the same keys as these flags.") var config: String?
    @Option(parsing: .unconditional, help: "Data directory holding <dataset>/ (else EQ_DATA).") var data: String?
    @Option(parsing: .unconditional, help: "wikitext-2, wikitext-103, ptb, ptb-char, enwik8, text8.") var dataset: String?
    @Option(name: .customLong("train-split"), parsing: .unconditional, help: "Split to train on (valid where only valid/test exist).") var trainSplit: String?
    @Option(name: .customLong("eval-split"), parsing: .unconditional, help: "Split evaluated during training.") var evalSplit: String?
    @Option(name: .customLong("vocab-from"), parsing: .unconditional, help: "auto (default: all, or train when another split stands in for train), all (every split, as the reference code) or train (others read as <unk>).") var vocabFrom: String?
    @Option(name: .customLong("batch-size"), parsing: .unconditional) var batchSize: String?
    @Option(name: .customLong("eval-batch-size"), parsing: .unconditional) var evalBatchSize: String?
    @Option(name: .customLong("batch-split"), parsing: .unconditional, help: "Gradient-accumulation chunks per batch.") var batchSplit: String?
    @Option(parsing: .unconditional, help: "BPTT window length.") var bptt: String?
    @Option(name: .customLong("tgt-len"), parsing: .unconditional, help: "Alias of --bptt (Transformer-XL's name).") var tgtLen: String?
    @Option(parsing: .unconditional, help: "Vary window lengths around --bptt (true/false).") var varlen: String?
    @Option(parsing: .unconditional, help: "Learning rate.") var lr: String?
    @Option(parsing: .unconditional, help: "Gradient-norm clip (0 = off).") var clip: String?
    @Option(parsing: .unconditional, help: "sgd, adam, adamw, radam, adagrad.") var optim: String?
    @Option(parsing: .unconditional) var momentum: String?
    @Option(name: .customLong("weight-decay"), parsing: .unconditional) var weightDecay: String?
    @Option(parsing: .unconditional, help: "constant, cosine, inv_sqrt, step, plateau.") var scheduler: String?
    @Option(parsing: .unconditional) var warmup: String?
    @Option(name: .customLong("decay-factor"), parsing: .unconditional) var decayFactor: String?
    @Option(parsing: .unconditional) var seed: String?
    @Option(name: .customLong("max-step"), parsing: .unconditional) var maxStep: String?
    @Option(name: .customLong("max-time"), parsing: .unconditional, help: "Stop training after this many seconds.") var maxTime: String?
    @Option(name: .customLong("eval-interval"), parsing: .unconditional) var evalInterval: String?
    @Option(name: .customLong("eval-max-tokens"), parsing: .unconditional, help: "Tokens per intermediate evaluation.") var evalMaxTokens: String?
    @Option(name: .customLong("log-interval"), parsing: .unconditional) var logInterval: String?
    @Option(name: .customLong("final-eval-full"), parsing: .unconditional, help: "Evaluate the whole split at the end (true/false).") var finalEvalFull: String?
    @Option(name: [.customLong("work-dir"), .customLong("run-dir")], parsing: .unconditional, help: "Run directory.") var workDir: String?
    @Option(name: .customLong("mem-len"), parsing: .unconditional) var memLen: String?
    @Option(name: .customLong("f-thres"), parsing: .unconditional) var fThres: String?
    @Option(name: .customLong("b-thres"), parsing: .unconditional) var bThres: String?
    @Option(name: .customLong("pretrain-steps"), parsing: .unconditional) var pretrainSteps: String?
    @Option(parsing: .unconditional) var emsize: String?
    @Option(parsing: .unconditional) var nhid: String?
    @Option(parsing: .unconditional) var nlayers: String?
    @Option(parsing: .unconditional) var dropout: String?
    @Option(parsing: .unconditional) var tied: String?

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
            let name = "\(model ?? c.model)-\(preset)"
            try c.apply(Presets.settings(name), source: "the preset \(name)")
        }
        if let config { try c.apply(ConfigFile.read(config), source: config) }
        try c.apply(given, source: TrainingConfiguration.commandLine)
        return c
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
