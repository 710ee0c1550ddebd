import Foundation
import NN
import Models

/// Everything a training run needs, read from flat string key/values so that command-line flags,
/// presets and config files share one set of keys (the flag names without dashes; `_` and `-`
/// are interchangeable). Later layers override earlier ones: defaults < preset < `--config` file
/// < flags.
public struct TrainingConfiguration: Equatable, Sendable {
    public var model = "lstm-lm"
    public var dataset = "wikitext-2"
    public var data: String?
    public var trainSplit = "train"
    public var evalSplit: String?
    /// "all": one vocabulary over every split (the reference code); "train": the training split's
    /// words only, other words read as `<unk>`; "auto": "all" when training on the real training
    /// split, "train" when another split stands in for it.
    public var vocabFrom = "auto"

    /// The split whose words make the vocabulary, or nil for every split.
    public var vocabularySplit: String? { Self.vocabularySplit(vocabFrom: vocabFrom, trainSplit: trainSplit) }

    /// Why "auto" picks the training split when it is a stand-in: on WikiText and PTB the real
    /// training split holds every word of the other splits, so the reference's vocabulary over all
    /// splits equals the training split's. Training on `valid` with a vocabulary over valid and
    /// test would instead score the test-only words (4.8% of WikiText-2's test tokens) with rows
    /// that training only ever pushed down, which no amount of training can fix.
    public static func vocabularySplit(vocabFrom: String, trainSplit: String) -> String? {
        switch vocabFrom {
        case "train": return trainSplit
        case "auto": return trainSplit == "train" ? nil : trainSplit
        default: return nil
        }
    }
    public var batchSize = 20
    public var evalBatchSize = 10
    public var batchSplit = 1
    public var bptt = 35
    public var variableLength = false
    public var lr = 20.0
    public var clip = 0.25
    public var optim = "sgd"
    public var momentum = 0.0
    public var weightDecay = 0.0
    public var scheduler = "constant"
    public var warmup = 0
    public var decayFactor = 0.25
    public var seed: UInt64 = 1111
    public var maxStep = 1000
    public var maxTime: Double?
    public var evalInterval = 200
    public var evalMaxTokens: Int?
    /// Whether the evaluation at the end of a run reads the whole split (else it keeps the
    /// `eval-max-tokens` limit of the intermediate ones).
    public var finalEvalFull = true
    public var logInterval = 20
    public var workDir = "runs/default"
    /// Options of the deep-equilibrium and Transformer-XL models (kept for their configs; the
    /// LSTM ignores them and says so).
    public var memLen = 0
    public var fThres = 30
    public var bThres = 40
    public var pretrainSteps = 0
    /// Model-specific options (`emsize`, `nhid`, …), passed to the model registry.
    public var modelOptions: [String: String] = [:]

    public init() {}

    /// The keys a config file or preset may use, with what they set.
    public static let keys: [String: String] = [
        "model": "model name (\(ModelRegistry.names.joined(separator: ", ")))",
        "dataset": "corpus (wikitext-2, wikitext-103, ptb, ptb-char, enwik8, text8)",
        "data": "data directory (else EQ_DATA)",
        "train-split": "split to train on (train; valid where only valid/test exist)",
        "eval-split": "split to evaluate on (default valid, or test when training on valid)",
        "vocab-from": "auto (default: all on the real training split, train when another split stands in), all (vocabulary over every split, as the reference code) or train (the training split's words; others become <unk>)",
        "batch-size": "parallel streams", "eval-batch-size": "streams when evaluating",
        "batch-split": "gradient-accumulation chunks per batch",
        "bptt": "window length (alias tgt-len)", "tgt-len": "window length (alias of bptt)",
        "varlen": "draw window lengths around bptt (true/false)",
        "lr": "learning rate", "clip": "gradient-norm clip (0 = off)",
        "optim": "sgd, adam, adamw, radam, adagrad", "momentum": "SGD momentum",
        "weight-decay": "L2 / decoupled weight decay",
        "scheduler": "constant, cosine, inv_sqrt, step, plateau", "warmup": "warm-up steps",
        "decay-factor": "factor of the step and plateau schedules",
        "seed": "random seed", "max-step": "optimizer steps", "max-time": "stop training after this many seconds",
        "eval-interval": "steps between evaluations", "eval-max-tokens": "tokens per intermediate evaluation (all when absent)",
        "final-eval-full": "evaluate the whole split at the end (true/false)",
        "log-interval": "steps between plain progress lines",
        "work-dir": "run directory (alias run-dir)", "run-dir": "run directory (alias of work-dir)",
        "mem-len": "Transformer-XL memory length", "f-thres": "forward solver iterations",
        "b-thres": "backward solver iterations", "pretrain-steps": "unrolled steps before the equilibrium solver",
        "emsize": "embedding size", "nhid": "hidden size", "nlayers": "layers", "dropout": "dropout",
        "tied": "tie embedding and decoder (true/false)",
        "nout": "DEQ-TrellisNet output channels (the state is nhid + nout wide)",
        "dropouti": "input (embedding) variational dropout", "dropouth": "hidden-to-hidden variational dropout",
        "emb-dropout": "whole-word dropout on the embedding matrix", "wdrop": "DropConnect on the convolution weights",
        "dropoutl": "mixture-of-softmaxes dropout (only 0: no mixture here)",
        "d-model": "DEQ-Transformer width", "n-head": "attention heads", "d-inner": "feed-forward width",
        "cutoffs": "adaptive softmax cutoffs, e.g. 2000,10000 (none for a plain softmax)",
        "div-val": "adaptive embedding/softmax shrink factor",
        "solver": "DEQ solver (anderson, broyden, fixed-point)", "tolerance": "DEQ relative stopping tolerance",
        "jac-loss-weight": "weight of the DEQ Jacobian regularisation",
        "hid-sz": "adaptive-span hidden size", "inner-hid-sz": "adaptive-span feed-forward size", "nheads": "adaptive-span heads",
        "attn-span": "adaptive-span maximum attention span", "adapt-span": "learn the span of each head (true/false)",
        "adapt-span-loss": "weight of the span loss", "adapt-span-ramp": "length of the span mask's ramp",
        "adapt-span-init": "initial span ratio in [0, 1]", "adapt-span-cache": "shrink the cache with the learned spans (true/false)",
        "pers-mem-size": "all-attention persistent memory vectors per head (0: none; > 0 removes the feed-forward layers)",
        "memslots": "RMC memory slots", "headsize": "RMC attention head size", "numheads": "RMC attention heads",
        "numblocks": "RMC attention blocks per step", "attmlplayers": "RMC attention-MLP layers",
        "keysize": "RMC query and key size", "gatestyle": "RMC gates: unit, memory or none",
        "forgetbias": "RMC forget-gate bias", "inputbias": "RMC input-gate bias",
        "shared-mlp": "RMC attention-MLP layers share one weight, as the reference (true/false)",
        "norm": "char-transformer residuals: post, pre (LayerNorm) or rezero", "activation": "feed-forward nonlinearity: relu or gelu",
    ]

    /// The source name ``apply(_:source:)`` gets for command-line flags (errors then name `--key`).
    public static let commandLine = "the command line"

    /// The canonical spelling of a key (`tgt_len` → `tgt-len`).
    public static func canonical(_ key: String) -> String { key.replacingOccurrences(of: "_", with: "-").lowercased() }

    /// Applies key/value pairs from `source` (named in errors, e.g. the config file's path).
    public mutating func apply(_ values: [String: String], source: String) throws(ConfigurationError) {
        for (rawKey, value) in values.sorted(by: { $0.key < $1.key }) {
            let key = Self.canonical(rawKey)
            // A flag is named as typed (--lr); a file's key with the file (lr in run.yaml).
            let named = source == Self.commandLine ? "--\(key)" : "\(key) in \(source)"
            guard Self.keys[key] != nil else {
                throw ConfigurationError("unknown key \"\(rawKey)\" in \(source); valid keys: \(Self.keys.keys.sorted().joined(separator: ", "))")
            }
            func int() throws(ConfigurationError) -> Int {
                guard let v = Int(value) else { throw ConfigurationError("\(named) must be an integer, got \"\(value)\"") }
                return v
            }
            func positive() throws(ConfigurationError) -> Int {
                let v = try int()
                guard v > 0 else { throw ConfigurationError("\(named) must be positive, got \(v)") }
                return v
            }
            func nonNegative() throws(ConfigurationError) -> Int {
                let v = try int()
                guard v >= 0 else { throw ConfigurationError("\(named) must be 0 or more, got \(v)") }
                return v
            }
            func double() throws(ConfigurationError) -> Double {
                guard let v = Double(value), v.isFinite else { throw ConfigurationError("\(named) must be a number, got \"\(value)\"") }
                return v
            }
            /// A number in a range, e.g. `number(">", 0)` for a learning rate.
            func number(_ lower: String, _ bound: Double, below upper: Double? = nil) throws(ConfigurationError) -> Double {
                let v = try double()
                let above = lower == ">" ? v > bound : v >= bound
                guard above, upper.map({ v <= $0 }) ?? true else {
                    let range = upper.map { "in \(lower == ">" ? "(" : "[")\(bound), \($0)]" }
                        ?? (lower == ">" ? (bound == 0 ? "a positive number" : "above \(bound)") : (bound == 0 ? "0 or more" : "at least \(bound)"))
                    throw ConfigurationError("\(named) must be \(range), got \(value)")
                }
                return v
            }
            switch key {
            case "model": model = value
            case "dataset": dataset = value
            case "data": data = value
            case "train-split": trainSplit = value
            case "eval-split": evalSplit = value
            case "vocab-from":
                guard ["all", "train", "auto"].contains(value) else {
                    throw ConfigurationError("\(named) must be all, train or auto, got \"\(value)\"")
                }
                vocabFrom = value
            case "batch-size": batchSize = try positive()
            case "eval-batch-size": evalBatchSize = try positive()
            case "batch-split": batchSplit = try positive()
            case "bptt", "tgt-len": bptt = try positive()
            case "varlen":
                guard let v = Bool(value.lowercased()) else { throw ConfigurationError("\(named) must be true or false, got \"\(value)\"") }
                variableLength = v
            case "lr": lr = try number(">", 0)
            case "clip": clip = try number(">=", 0)
            case "optim": optim = value.lowercased()
            case "momentum": momentum = try number(">=", 0)
            case "weight-decay": weightDecay = try number(">=", 0)
            case "scheduler": scheduler = value.lowercased()
            case "warmup": warmup = try nonNegative()
            case "decay-factor": decayFactor = try number(">", 0, below: 1)
            case "seed":
                guard let v = UInt64(value) else { throw ConfigurationError("\(named) must be a non-negative integer, got \"\(value)\"") }
                seed = v
            case "max-step": maxStep = try positive()
            case "max-time": maxTime = try number(">", 0)
            case "eval-interval": evalInterval = try positive()
            case "eval-max-tokens": evalMaxTokens = try positive()
            case "final-eval-full":
                guard let v = Bool(value.lowercased()) else { throw ConfigurationError("\(named) must be true or false, got \"\(value)\"") }
                finalEvalFull = v
            case "log-interval": logInterval = try positive()
            case "work-dir", "run-dir": workDir = value
            case "mem-len": memLen = try nonNegative()
            case "f-thres": fThres = try positive()
            case "b-thres": bThres = try positive()
            case "pretrain-steps": pretrainSteps = try nonNegative()
            default: modelOptions[key] = value
            }
        }
        guard batchSize % batchSplit == 0 else {
            throw ConfigurationError("batch-size \(batchSize) is not divisible by batch-split \(batchSplit); pick a batch-split that divides the batch size")
        }
        guard OptimizerRegistry.names.contains(optim) else {
            throw ConfigurationError("unknown optim \"\(optim)\" in \(source); choose one of \(OptimizerRegistry.names.joined(separator: ", "))")
        }
        let schedulers = ["constant", "cosine", "inv_sqrt", "step", "plateau"]
        guard schedulers.contains(scheduler) else {
            throw ConfigurationError("unknown scheduler \"\(scheduler)\" in \(source); choose one of \(schedulers.joined(separator: ", "))")
        }
    }

    /// The flat key/values that rebuild this configuration (saved in checkpoints and config.json).
    public var values: [String: String] {
        var v: [String: String] = [
            "model": model, "dataset": dataset, "train-split": trainSplit, "vocab-from": vocabFrom, "batch-size": "\(batchSize)",
            "eval-batch-size": "\(evalBatchSize)", "batch-split": "\(batchSplit)", "bptt": "\(bptt)",
            "varlen": "\(variableLength)", "lr": "\(lr)", "clip": "\(clip)", "optim": optim, "momentum": "\(momentum)",
            "weight-decay": "\(weightDecay)", "scheduler": scheduler, "warmup": "\(warmup)", "decay-factor": "\(decayFactor)",
            "seed": "\(seed)", "max-step": "\(maxStep)", "eval-interval": "\(evalInterval)", "log-interval": "\(logInterval)", "final-eval-full": "\(finalEvalFull)",
            "work-dir": workDir, "mem-len": "\(memLen)", "f-thres": "\(fThres)", "b-thres": "\(bThres)",
            "pretrain-steps": "\(pretrainSteps)",
        ]
        if let data { v["data"] = data }
        if let evalSplit { v["eval-split"] = evalSplit }
        if let maxTime { v["max-time"] = "\(maxTime)" }
        if let evalMaxTokens { v["eval-max-tokens"] = "\(evalMaxTokens)" }
        v.merge(modelOptions) { a, _ in a }
        return v
    }

    /// The split evaluated during training: valid, or test when training on valid.
    public var resolvedEvalSplit: String { evalSplit ?? (trainSplit == "valid" ? "test" : "valid") }
}

/// A configuration could not be read or is invalid. The message names the key and the fix.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
