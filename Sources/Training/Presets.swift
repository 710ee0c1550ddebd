import Foundation

/// The presets, compiled into the library so that a `deq` binary copied anywhere has them
/// (`deq train --preset small` reads `<model>-small`). Each is the flat JSON a `--config` file
/// holds; `deq presets` prints them. Adding one is one entry here.
public enum Presets {
    public static let json: [String: String] = [
        "adaptive-span-enwik8": """
        {
          "model": "adaptive-span",
          "dataset": "enwik8",
          "nlayers": 8,
          "hid-sz": 256,
          "inner-hid-sz": 1024,
          "nheads": 4,
          "attn-span": 1024,
          "dropout": 0.0,
          "adapt-span": true,
          "adapt-span-loss": 2e-06,
          "adapt-span-ramp": 32,
          "adapt-span-cache": true,
          "batch-size": 64,
          "bptt": 256,
          "optim": "adagrad",
          "lr": 0.07,
          "clip": 0.03,
          "warmup": 8000,
          "scheduler": "constant",
          "max-step": 150000,
          "eval-interval": 1000,
          "eval-max-tokens": 500000,
          "log-interval": 100
        }
        """,
        "adaptive-span-small": """
        {
          "model": "adaptive-span",
          "dataset": "ptb-char",
          "nlayers": 4,
          "hid-sz": 128,
          "inner-hid-sz": 512,
          "nheads": 4,
          "attn-span": 512,
          "dropout": 0.1,
          "adapt-span": true,
          "adapt-span-loss": 2e-6,
          "adapt-span-ramp": 32,
          "adapt-span-cache": true,
          "batch-size": 16,
          "bptt": 128,
          "optim": "adagrad",
          "lr": 0.07,
          "clip": 0.03,
          "warmup": 200,
          "scheduler": "constant",
          "max-step": 100000,
          "max-time": 540,
          "eval-interval": 100,
          "eval-max-tokens": 50000,
          "log-interval": 10
        }
        """,
        "adaptive-span-text8": """
        {
          "model": "adaptive-span",
          "dataset": "text8",
          "nlayers": 12,
          "hid-sz": 512,
          "inner-hid-sz": 2048,
          "nheads": 8,
          "attn-span": 8192,
          "dropout": 0.3,
          "adapt-span": true,
          "adapt-span-loss": 5e-07,
          "adapt-span-ramp": 32,
          "adapt-span-cache": true,
          "batch-size": 64,
          "bptt": 512,
          "optim": "adagrad",
          "lr": 0.07,
          "clip": 0.03,
          "warmup": 32000,
          "scheduler": "constant",
          "max-step": 900000,
          "eval-interval": 1000,
          "eval-max-tokens": 500000,
          "log-interval": 100
        }
        """,
        "char-transformer-post12": """
        {
          "model": "char-transformer",
          "dataset": "ptb-char",
          "norm": "post",
          "nlayers": 12,
          "d-model": 128,
          "n-head": 4,
          "d-inner": 512,
          "dropout": 0.1,
          "activation": "relu",
          "batch-size": 16,
          "bptt": 128,
          "optim": "adam",
          "lr": 0.0005,
          "clip": 0.5,
          "scheduler": "cosine",
          "warmup": 200,
          "max-step": 4000,
          "eval-interval": 200,
          "eval-max-tokens": 20000,
          "final-eval-full": false
        }
        """,
        "char-transformer-post128": """
        {
          "model": "char-transformer",
          "dataset": "ptb-char",
          "norm": "post",
          "nlayers": 128,
          "d-model": 64,
          "n-head": 2,
          "d-inner": 256,
          "dropout": 0.1,
          "activation": "relu",
          "batch-size": 8,
          "bptt": 128,
          "optim": "adam",
          "lr": 0.0005,
          "clip": 0.5,
          "scheduler": "cosine",
          "warmup": 200,
          "max-step": 4000,
          "eval-interval": 200,
          "eval-max-tokens": 20000,
          "final-eval-full": false
        }
        """,
        "char-transformer-pre12": """
        {
          "model": "char-transformer",
          "dataset": "ptb-char",
          "norm": "pre",
          "nlayers": 12,
          "d-model": 128,
          "n-head": 4,
          "d-inner": 512,
          "dropout": 0.1,
          "activation": "relu",
          "batch-size": 16,
          "bptt": 128,
          "optim": "adam",
          "lr": 0.0005,
          "clip": 0.5,
          "scheduler": "cosine",
          "warmup": 200,
          "max-step": 4000,
          "eval-interval": 200,
          "eval-max-tokens": 20000,
          "final-eval-full": false
        }
        """,
        "char-transformer-rezero12": """
        {
          "model": "char-transformer",
          "dataset": "ptb-char",
          "norm": "rezero",
          "nlayers": 12,
          "d-model": 128,
          "n-head": 4,
          "d-inner": 512,
          "dropout": 0.1,
          "activation": "relu",
          "batch-size": 16,
          "bptt": 128,
          "optim": "adam",
          "lr": 0.0005,
          "clip": 0.5,
          "scheduler": "cosine",
          "warmup": 200,
          "max-step": 4000,
          "eval-interval": 200,
          "eval-max-tokens": 20000,
          "final-eval-full": false
        }
        """,
        "char-transformer-rezero128": """
        {
          "model": "char-transformer",
          "dataset": "ptb-char",
          "norm": "rezero",
          "nlayers": 128,
          "d-model": 64,
          "n-head": 2,
          "d-inner": 256,
          "dropout": 0.1,
          "activation": "relu",
          "batch-size": 8,
          "bptt": 128,
          "optim": "adam",
          "lr": 0.0005,
          "clip": 0.5,
          "scheduler": "cosine",
          "warmup": 200,
          "max-step": 4000,
          "eval-interval": 200,
          "eval-max-tokens": 20000,
          "final-eval-full": false
        }
        """,
        "char-transformer-rezero64": """
        {
          "model": "char-transformer",
          "dataset": "ptb-char",
          "norm": "rezero",
          "nlayers": 64,
          "d-model": 64,
          "n-head": 2,
          "d-inner": 256,
          "dropout": 0.1,
          "activation": "relu",
          "batch-size": 8,
          "bptt": 128,
          "optim": "adam",
          "lr": 0.0005,
          "clip": 0.5,
          "scheduler": "cosine",
          "warmup": 200,
          "max-step": 4000,
          "eval-interval": 200,
          "eval-max-tokens": 20000,
          "final-eval-full": false
        }
        """,
        "deq-transformer-paper": """
        {
          "model": "deq-transformer",
          "dataset": "wikitext-103",
          "d-model": 700,
          "n-head": 10,
          "d-inner": 48000,
          "mem-len": 300,
          "dropout": 0.06,
          "cutoffs": "20000,40000,200000",
          "div-val": 4,
          "solver": "anderson",
          "tolerance": 0.001,
          "f-thres": 12,
          "b-thres": 13,
          "jac-loss-weight": 1.9,
          "pretrain-steps": 32000,
          "batch-size": 56,
          "bptt": 150,
          "optim": "adam",
          "lr": 0.00025,
          "clip": 0.25,
          "scheduler": "cosine",
          "warmup": 16000,
          "max-step": 300000,
          "eval-interval": 5000
        }
        """,
        "deq-transformer-small": """
        {
          "model": "deq-transformer",
          "d-model": 128,
          "n-head": 4,
          "d-inner": 512,
          "mem-len": 48,
          "dropout": 0.1,
          "cutoffs": "2000,10000",
          "div-val": 4,
          "solver": "anderson",
          "tolerance": 0.01,
          "f-thres": 12,
          "b-thres": 12,
          "jac-loss-weight": 0.5,
          "pretrain-steps": 100,
          "batch-size": 16,
          "bptt": 48,
          "optim": "adam",
          "lr": 0.001,
          "clip": 0.25,
          "scheduler": "cosine",
          "warmup": 100,
          "max-step": 2000,
          "eval-interval": 250,
          "eval-max-tokens": 20000
        }
        """,
        "deq-trellisnet-paper": """
        {
          "model": "deq-trellisnet",
          "dataset": "ptb",
          "emsize": 400,
          "nhid": 1000,
          "dropout": 0.45,
          "tied": false,
          "solver": "anderson",
          "tolerance": 0.001,
          "f-thres": 45,
          "b-thres": 45,
          "pretrain-steps": 30000,
          "batch-size": 20,
          "bptt": 110,
          "optim": "adam",
          "lr": 0.001,
          "clip": 0.007,
          "weight-decay": 1.2e-6,
          "scheduler": "cosine",
          "max-step": 60000,
          "eval-interval": 1000
        }
        """,
        "deq-trellisnet-small": """
        {
          "model": "deq-trellisnet",
          "dataset": "ptb",
          "emsize": 200,
          "nhid": 200,
          "dropout": 0.1,
          "tied": true,
          "solver": "anderson",
          "tolerance": 0.01,
          "f-thres": 15,
          "b-thres": 15,
          "jac-loss-weight": 0.5,
          "pretrain-steps": 100,
          "batch-size": 16,
          "bptt": 60,
          "optim": "adam",
          "lr": 0.002,
          "clip": 0.25,
          "scheduler": "cosine",
          "warmup": 100,
          "max-step": 1500,
          "eval-interval": 250,
          "eval-max-tokens": 20000
        }
        """,
        "lstm-lm-small": """
        {
          "model": "lstm-lm",
          "emsize": 200,
          "nhid": 200,
          "nlayers": 2,
          "dropout": 0.2,
          "tied": true,
          "batch-size": 20,
          "bptt": 35,
          "optim": "adam",
          "lr": 0.003,
          "clip": 0.25,
          "scheduler": "constant",
          "max-step": 5000,
          "max-time": 540,
          "eval-interval": 100,
          "eval-max-tokens": 20000,
          "log-interval": 25
        }
        """,
        "lstm-lm-tiny": """
        {
          "model": "lstm-lm",
          "emsize": 32,
          "nhid": 32,
          "nlayers": 2,
          "dropout": 0.2,
          "tied": false,
          "batch-size": 8,
          "bptt": 16,
          "optim": "adam",
          "lr": 0.003,
          "clip": 0.25,
          "max-step": 50,
          "eval-interval": 25
        }
        """,
        "rmc-lm-paper": """
        {
          "model": "rmc-lm",
          "emsize": 192,
          "memslots": 1,
          "headsize": 192,
          "numheads": 4,
          "numblocks": 1,
          "attmlplayers": 3,
          "keysize": 64,
          "gatestyle": "unit",
          "forgetbias": 1,
          "inputbias": 0,
          "dropout": 0.5,
          "cutoffs": "none",
          "batch-size": 64,
          "eval-batch-size": 32,
          "bptt": 100,
          "optim": "adam",
          "lr": 0.001,
          "clip": 0.1,
          "scheduler": "constant",
          "max-step": 32600,
          "eval-interval": 326,
          "log-interval": 25
        }
        """,
        "rmc-lm-small": """
        {
          "model": "rmc-lm",
          "emsize": 128,
          "memslots": 1,
          "headsize": 64,
          "numheads": 2,
          "numblocks": 1,
          "attmlplayers": 2,
          "keysize": 32,
          "gatestyle": "unit",
          "dropout": 0.3,
          "cutoffs": "none",
          "batch-size": 20,
          "bptt": 35,
          "optim": "adam",
          "lr": 0.002,
          "clip": 0.25,
          "scheduler": "constant",
          "max-step": 5000,
          "max-time": 540,
          "eval-interval": 100,
          "eval-max-tokens": 20000,
          "log-interval": 25
        }
        """,
    ]

    /// Every preset's name, sorted.
    public static var names: [String] { json.keys.sorted() }

    /// The settings of the preset `name` (for instance "lstm-lm-tiny").
    public static func settings(_ name: String) throws(ConfigurationError) -> [String: String] {
        guard let text = json[name] else {
            throw ConfigurationError("no preset \(name); available: \(names.joined(separator: ", ")) (or give your own file with --config)")
        }
        return try ConfigFile.parseJSON(Data(text.utf8), source: "the preset \(name)")
    }
}
