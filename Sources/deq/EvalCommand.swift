import ArgumentParser
import Datasets
import Foundation
import Training

/// `deq eval`: the loss and perplexity (or bits per character) of a checkpoint on a split.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Evaluate a checkpoint on a split.")

    @Argument(help: "A checkpoint written by deq train (best.safetensors or last.safetensors).") var checkpoint: String
    @Option(help: "Data directory (else EQ_DATA).") var data: String?
    @Option(help: "Split to evaluate.") var split = "test"
    @Option(name: .customLong("batch-size")) var batchSize = 10
    @Option(help: "Window length (default: the run's).") var bptt: Int?
    @Option(help: "Model the checkpoint must hold.") var model: String?

    func run() throws {
        let ckpt = try RunCheckpoint.read(URL(fileURLWithPath: checkpoint))
        let lm = try ckpt.makeModel(expectedModel: model)
        let config = ckpt.configuration
        let corpus = try loadCorpus(dataset: ckpt.metadata["dataset"] ?? config["dataset"] ?? "wikitext-2", data: data ?? config["data"],
                                    vocabularySplit: config["vocab-from"] == "train" ? config["train-split"] : nil)
        guard corpus.vocabulary == ckpt.vocabulary else {
            throw TrainingError("the vocabulary of \(corpus.name) in this data directory differs from the one \(checkpoint) was trained with; evaluate with the same data files")
        }
        let streams = try batchify(corpus.splits[split] ?? corpus.tensor(split).toArray(Int64.self).map(Int.init), batchSize: batchSize)
        let window = bptt ?? config["bptt"].flatMap(Int.init) ?? 35
        let start = Date()
        let (loss, tokens) = try evaluateLanguageModel(lm, streams: streams, bptt: window)
        let metric = MetricKind(corpus: corpus)
        print(String(format: "%@ %@: %d tokens, loss %.4f, %@ %.3f (%.1f s)", corpus.name, split, tokens, loss,
                     metric.rawValue, metric.value(loss: loss), Date().timeIntervalSince(start)))
    }
}
