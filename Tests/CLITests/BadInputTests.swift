import Foundation
import Testing

/// One bad input: the arguments of a `deq` run and the words its message must contain (the flag,
/// file or value at fault). Every case must exit non-zero, not on a signal, naming the problem.
struct BadInput: Sendable, CustomTestStringConvertible {
    let arguments: [String]
    let mentions: [String]

    init(_ arguments: [String], _ mentions: String...) {
        self.arguments = arguments
        self.mentions = mentions
    }

    /// A one-step LSTM training run with `extra` flags added (later flags win).
    static func train(_ extra: String..., mentions: String...) -> BadInput {
        BadInput(Workspace.tinyTraining + extra, mentions: mentions)
    }

    private init(_ arguments: [String], mentions: [String]) {
        self.arguments = arguments
        self.mentions = mentions
    }

    /// The command and what the case adds to the shared training flags.
    var testDescription: String {
        let training = Workspace.tinyTraining
        let shown = arguments.starts(with: training) ? ["train"] + arguments.dropFirst(training.count) : arguments
        return "deq " + shown.joined(separator: " ")
    }
}

extension BadInput {
    /// Flags: values out of range, negative numbers in both spellings, unknown names.
    static let flags: [BadInput] = [
        .train("--lr", "-1", mentions: "--lr", "positive", "-1"),
        .train("--lr=-1", mentions: "--lr", "positive"),
        .train("--lr", "0", mentions: "--lr", "positive"),
        .train("--lr", "fast", mentions: "--lr", "number", "fast"),
        .train("--lr", "nan", mentions: "--lr", "number"),
        .train("--lr", mentions: "--lr"),
        .train("--clip", "-0.5", mentions: "--clip"),
        .train("--momentum", "-1", mentions: "--momentum"),
        .train("--weight-decay", "-1", mentions: "--weight-decay"),
        .train("--warmup", "-3", mentions: "--warmup"),
        .train("--decay-factor", "0", mentions: "--decay-factor"),
        .train("--max-time", "-1", mentions: "--max-time"),
        .train("--seed", "-1", mentions: "--seed"),
        .train("--optim", "lbfgs", mentions: "optim", "lbfgs"),
        .train("--scheduler", "linear", mentions: "scheduler", "linear"),
        .train("--model", "gpt", mentions: "model", "gpt"),
        .train("--dataset", "imagenet", mentions: "dataset", "imagenet"),
        .train("--vocab-from", "test", mentions: "vocab-from"),
        .train("--varlen", "maybe", mentions: "varlen", "maybe"),
        .train("--preset", "huge", mentions: "lstm-lm-huge"),
        .train("--batch-size", "4", "--batch-split", "3", mentions: "batch-split"),
        .train("--train-split", "train", mentions: "train"),
        .train("--eval-split", "dev", mentions: "dev", "split"),
        .train("--dropout", "1.5", mentions: "dropout"),
        .train("--tied", "yes", mentions: "tied"),
        .train("--work-dir", "/proc/no-such-run", mentions: "/proc/no-such-run"),
    ]

    /// Zero and negative sizes.
    static let sizes: [BadInput] = [
        .train("--batch-size", "0", mentions: "--batch-size", "positive"),
        .train("--batch-size", "-2", mentions: "--batch-size"),
        .train("--batch-size", "1000", mentions: "--batch-size"),
        .train("--bptt", "0", mentions: "--bptt"),
        .train("--max-step", "0", mentions: "--max-step"),
        .train("--eval-interval", "0", mentions: "--eval-interval"),
        .train("--eval-max-tokens", "-1", mentions: "--eval-max-tokens"),
        .train("--nhid", "0", mentions: "nhid"),
        .train("--nhid", "100000000", mentions: "--nhid 100000000", "available"),
        .train("--emsize", "-3", mentions: "emsize"),
        .train("--nlayers", "0", mentions: "nlayers"),
        .train("--mem-len", "-1", mentions: "--mem-len"),
        .train("--pretrain-steps", "-1", mentions: "--pretrain-steps"),
        BadInput(["eval", "lstm/last.safetensors", "--data", "data", "--split", "valid", "--batch-size", "0"], "batch size"),
        BadInput(["eval", "lstm/last.safetensors", "--data", "data", "--split", "valid", "--bptt", "0"], "BPTT"),
        BadInput(["eval", "lstm/last.safetensors", "--data", "data", "--split", "valid", "--max-tokens", "0"], "--max-tokens"),
        BadInput(["generate", "lstm/last.safetensors", "--length", "0"], "--length"),
        BadInput(["generate", "lstm/last.safetensors", "--temperature", "0"], "--temperature"),
        BadInput(["generate", "lstm/last.safetensors", "--top-k=-1"], "--top-k"),
        BadInput(["copy-memory", "--model", "lstm-lm", "--length", "0", "--steps", "1"], "length"),
        BadInput(["copy-memory", "--model", "lstm-lm", "--alphabet", "0", "--steps", "1"], "alphabet"),
        BadInput(["copy-memory", "--model", "lstm-lm", "--delay=-1", "--steps", "1"], "delay"),
        BadInput(["copy-memory", "--model", "lstm-lm", "--batch-size", "0", "--steps", "1"], "batch size"),
        BadInput(["copy-memory", "--model", "lstm-lm", "--steps", "0"], "--steps"),
        BadInput(["copy-memory", "--model", "lstm-lm", "--every", "0"], "--every"),
        BadInput(["copy-memory", "--model", "lstm-lm", "--lr=-1", "--steps", "1"], "learning rate", "-1"),
        BadInput(["bench", "layers", "--iterations", "0"], "--iterations"),
        BadInput(["bench", "autograd", "--repeats", "0"], "--repeats"),
        BadInput(["bench", "deq-memory", "--iterations", "0"], "--iterations"),
        BadInput(["demo", "--steps", "0"], "--steps"),
        BadInput(["plot", "lstm", "--smoothing", "0"], "--smoothing"),
    ]

    /// Solver limits of 0 and other solver settings.
    static let solvers: [BadInput] = [
        .train("--f-thres", "0", mentions: "--f-thres"),
        .train("--b-thres", "0", mentions: "--b-thres"),
        BadInput(["eval", "dt/last.safetensors", "--data", "data", "--split", "valid", "--f-thres", "0"], "f-thres", "0"),
        BadInput(["eval", "dt/last.safetensors", "--data", "data", "--split", "valid", "--f-thres", "4", "0"], "f-thres", "0"),
        BadInput(["eval", "dt/last.safetensors", "--data", "data", "--split", "valid", "--mem-len=-1"], "mem-len", "-1"),
        BadInput(["eval", "lstm/last.safetensors", "--data", "data", "--split", "valid", "--f-thres", "4"], "equilibrium", "lstm-lm"),
        BadInput(["copy-memory", "--model", "deq-transformer", "--f-thres", "0", "--steps", "1"], "f-thres"),
        BadInput(["copy-memory", "--model", "deq-trellisnet", "--b-thres", "0", "--steps", "1"], "b-thres"),
        BadInput(["bench", "solvers", "--max-iterations", "0"], "--max-iterations"),
        BadInput(["bench", "solvers", "--tolerance=-1"], "--tolerance"),
        BadInput(["bench", "deq-step", "--f-thres", "0"], "--f-thres"),
        BadInput(["bench", "deq-transformer", "--b-thres", "0"], "--b-thres"),
    ]

    /// Config files: missing, malformed, nested, non-UTF-8, unknown keys, bad values, bad model settings.
    static let configs: [BadInput] = [
        .train("--config", "missing.yaml", mentions: "missing.yaml"),
        .train("--config", "nested.yaml", mentions: "nested.yaml", "nested"),
        .train("--config", "truncated.json", mentions: "truncated.json"),
        .train("--config", "array.json", mentions: "array.json", "lr"),
        .train("--config", "unknown.yaml", mentions: "unknown.yaml", "bogus"),
        .train("--config", "zero.yaml", mentions: "zero.yaml", "batch-size"),
        .train("--config", "latin1.yaml", mentions: "latin1.yaml", "UTF-8"),
        .train("--config", "novalue.yaml", mentions: "novalue.yaml", "lr"),
        .train("--model", "deq-transformer", "--config", "cutoffs-order.yaml", mentions: "cutoffs", "5,3"),
        .train("--model", "deq-transformer", "--config", "cutoffs-repeated.yaml", mentions: "cutoffs", "3,3"),
        .train("--model", "deq-transformer", "--config", "heads.yaml", mentions: "n_head"),
        .train("--model", "deq-transformer", "--config", "tolerance.yaml", mentions: "tolerance"),
        .train("--model", "deq-transformer", "--config", "solver.yaml", mentions: "solver", "newton"),
    ]

    /// Data files and directories: missing, empty, non-UTF-8, without the corpus, none given.
    static let data: [BadInput] = [
        .train("--data", "/nonexistent/eq-data", mentions: "/nonexistent/eq-data"),
        .train("--data", "empty", mentions: "valid.txt", "empty"),
        .train("--data", "binary", mentions: "valid.txt", "UTF-8"),
        .train("--data", "nocorpus", mentions: "wikitext-2"),
        .train("--data", "", mentions: "--data", "EQ_DATA"),
        .train("--data", "deq-tiny.yaml", mentions: "deq-tiny.yaml"),
        BadInput(["eval", "lstm/last.safetensors", "--data", "other", "--split", "valid"], "vocabulary"),
        BadInput(["eval", "lstm/last.safetensors", "--data", "data", "--split", "train"], "train", "split"),
    ]

    /// Checkpoints: missing, corrupt, hand-made, altered, and of another model or architecture.
    static let checkpoints: [BadInput] = [
        BadInput(["eval", "nowhere.safetensors", "--data", "data"], "nowhere.safetensors"),
        BadInput(["eval", "truncated.safetensors", "--data", "data"], "truncated.safetensors", "truncated"),
        BadInput(["eval", "tiny.safetensors", "--data", "data"], "tiny.safetensors", "8-byte"),
        BadInput(["eval", "huge-header.safetensors", "--data", "data"], "huge-header.safetensors", "header"),
        BadInput(["eval", "deq-tiny.yaml", "--data", "data"], "deq-tiny.yaml", "safetensors"),
        BadInput(["eval", "rank13.safetensors", "--data", "data"], "rank13.safetensors", "13 dimensions"),
        BadInput(["eval", "overflow.safetensors", "--data", "data"], "overflow.safetensors", "shape"),
        BadInput(["eval", "plain.safetensors", "--data", "data"], "plain.safetensors", "not a deq train checkpoint"),
        BadInput(["eval", "architecture.safetensors", "--data", "data"], "architecture.safetensors", "shape mismatch"),
        BadInput(["eval", "missing-tensor.safetensors", "--data", "data"], "missing", "decoder.bias"),
        BadInput(["eval", "half.safetensors", "--data", "data"], "half.safetensors", "F16"),
        BadInput(["eval", "config.safetensors", "--data", "data"], "config.safetensors", "config"),
        BadInput(["eval", "lstm/last.safetensors", "--data", "data", "--model", "deq-transformer"], "lstm-lm", "deq-transformer"),
        BadInput(["info", "truncated.safetensors"], "truncated.safetensors"),
        BadInput(["info", "rank13.safetensors"], "13 dimensions"),
        BadInput(["generate", "architecture.safetensors"], "shape mismatch"),
        BadInput(["generate", "huge-architecture.safetensors"], "nhid 100000000", "does not match the weights"),
        .train("--work-dir", "resume-position", "--resume", mentions: "data position"),
        .train("--work-dir", "resume-step", "--resume", mentions: "step", "-5"),
        .train("--work-dir", "lstm-copy-missing", "--resume", mentions: "no checkpoint"),
        .train("--work-dir", "lstm", "--resume", "--model", "deq-transformer", mentions: "lstm-lm", "deq-transformer"),
        .train("--work-dir", "lstm", "--resume", "--nhid", "16", mentions: "shape mismatch", "--nhid"),
    ]

    /// Run safety: a run directory holds one run, checkpoints are checked on every load, and
    /// sizes against the data before allocating.
    static let safety: [BadInput] = [
        .train("--work-dir", "existing-run", mentions: "existing-run", "--resume", "--work-dir", "--overwrite"),
        .train("--work-dir", "resume-overwrite", "--resume", "--overwrite", mentions: "--resume", "--overwrite"),
        .train("--bptt", "100000000", mentions: "--bptt", "100000000"),
        .train("--bptt", "300", mentions: "--bptt", "260"),
        BadInput(["eval", "flipped.safetensors", "--data", "data"], "flipped.safetensors", "checksum"),
        BadInput(["info", "flipped.safetensors"], "flipped.safetensors", "checksum"),
        BadInput(["eval", "nan-weights.safetensors", "--data", "data"], "nan-weights.safetensors", "NaN", "--allow-non-finite"),
        BadInput(["generate", "nan-weights.safetensors"], "NaN", "--allow-non-finite"),
        .train("--work-dir", "resume-nan", "--resume", mentions: "NaN"),
        .train("--work-dir", "resume-optimizer", "--resume", mentions: "optimizer state"),
        .train("--work-dir", "resume-vocab", "--resume", "--data", "other", mentions: "vocabulary", "--data"),
    ]

    /// The ReZero depth race: unknown variants, malformed caps and depths, no digits table.
    static let rezeroMLP: [BadInput] = [
        BadInput(["rezero-mlp", "--data", "data", "--variants", "rezero,postnorm"], "postnorm", "--variants"),
        BadInput(["rezero-mlp", "--data", "data", "--caps", "1000:30"], "--caps", "DEPTH=STEPS"),
        BadInput(["rezero-mlp", "--data", "data", "--depths", "32,0"], "--depths"),
        BadInput(["rezero-mlp", "--data", "data", "--depths", "4"], "digits.csv.gz"),
        BadInput(["rezero-mlp", "--data", "data", "--optimizer", "lamb"], "--optimizer", "lamb"),
    ]

    /// File-system errors: one sentence naming the path (or flag) and the fix.
    static let files: [BadInput] = [
        BadInput(["plot", "lstm", "--output", "/nonexistent/curves.svg"], "--output", "/nonexistent/curves.svg", "writable"),
        BadInput(["bench", "solvers", "--problem", "linear-0.9", "--method", "anderson", "--export", "/proc/nope"], "--export", "/proc/nope", "writable"),
        BadInput(["copy-memory", "--model", "lstm-lm", "--steps", "1", "--work-dir", "/proc/nope"], "/proc/nope", "--work-dir"),
        BadInput(["copy-memory", "--model", "lstm-lm", "--steps", "1", "--work-dir", "never-trained", "--resume"], "no checkpoint to resume", "without resume"),
        BadInput(["info", "lstm"], "is a folder", ".safetensors"),
    ]

    static let all = flags + sizes + solvers + configs + data + checkpoints + safety + rezeroMLP + files
}

extension BadInput {
    /// The key of a case's outcome.
    var key: String { arguments.joined(separator: "\u{1F}") }

    /// Every case's outcome, run once, four processes at a time: a run is mostly process start-up
    /// (about 0.3 s for the debug build), and one at a time the 110 cases took 33 s on the shared
    /// 2-core machine.
    static let outcomes: Result<[String: DeqProcess.Outcome], CLITestError> = {
        let workspace: Workspace
        switch Workspace.shared {
        case .success(let w): workspace = w
        case .failure(let e): return .failure(e)
        }
        let results = OutcomeTable()
        let group = DispatchGroup()
        let workers = 4
        for w in 0..<workers {
            DispatchQueue.global().async(group: group) {
                for i in stride(from: w, to: all.count, by: workers) {
                    let c = all[i]
                    results.set(c.key, Result { try workspace.deq.run(c.arguments, in: workspace.root) }
                        .mapError { CLITestError("cannot run deq \(c.arguments.joined(separator: " ")): \($0)") })
                }
            }
        }
        group.wait()
        return results.collect()
    }()
}

/// Outcomes written by the worker threads.
// @unchecked Sendable: `values` is read and written only under `lock`.
private final class OutcomeTable: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: Result<DeqProcess.Outcome, CLITestError>] = [:]

    func set(_ key: String, _ value: Result<DeqProcess.Outcome, CLITestError>) {
        lock.lock(); defer { lock.unlock() }
        values[key] = value
    }

    func collect() -> Result<[String: DeqProcess.Outcome], CLITestError> {
        lock.lock(); defer { lock.unlock() }
        var out: [String: DeqProcess.Outcome] = [:]
        for (k, v) in values {
            switch v {
            case .success(let o): out[k] = o
            case .failure(let e): return .failure(e)
            }
        }
        return .success(out)
    }
}

@Suite(.serialized) struct BadInputTests {
    @Test func theSuiteCoversAtLeastFortyDistinctBadInputs() {
        #expect(BadInput.all.count >= 40)
        #expect(Set(BadInput.all.map(\.key)).count == BadInput.all.count, "two cases run the same arguments")
    }

    @Test(arguments: BadInput.all) func isRefusedWithAMessageNamingTheProblem(_ input: BadInput) throws {
        let out = try #require(try BadInput.outcomes.get()[input.key])
        #expect(!out.signaled, "deq ended on a signal (a trap):\n\(out.output)")
        #expect(out.status != 0, "deq accepted the bad input:\n\(out.output)")
        for word in input.mentions {
            #expect(out.output.localizedCaseInsensitiveContains(word), "the message does not mention \"\(word)\":\n\(out.output)")
        }
    }
}
