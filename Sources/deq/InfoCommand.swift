import ArgumentParser
import Foundation
import Training

/// `deq info`: what a checkpoint holds.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe a checkpoint.")

    @Argument(help: "A checkpoint written by deq train.") var checkpoint: String
    @Flag(help: "List every tensor.") var tensors = false

    func run() throws {
        let ckpt = try RunCheckpoint.read(URL(fileURLWithPath: checkpoint))
        let m = ckpt.metadata
        let model = ckpt.tensors(under: "model")
        let params = model.values.reduce(0) { $0 + $1.count }
        print("checkpoint   \(checkpoint)")
        print("model        \(ckpt.modelName)  \(ckpt.architecture.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        print("parameters   \(params) in \(model.count) tensors")
        print("dataset      \(m["dataset"] ?? "?")  vocabulary \(ckpt.vocabulary?.count ?? 0)")
        print("step         \(ckpt.step)  (data epoch \(m["data_epoch"] ?? "?"), position \(m["data_position"] ?? "?"))")
        if let best = m["best_loss"].flatMap(Double.init) {
            let metric = MetricKind(rawValue: m["metric"] ?? "ppl") ?? .perplexity
            print(String(format: "best eval    loss %.4f  %@ %.3f", best, metric.rawValue, metric.value(loss: best)))
        }
        print("optimizer    \(m["optimizer"] ?? "none")  lr \(m["learning_rate"] ?? "?")  \(ckpt.tensors(under: "optimizer").count) state tensors")
        print("random       seed \(m["rng_seed"] ?? "?") offset \(m["rng_offset"] ?? "?")")
        let config = ckpt.configuration
        print("config       " + config.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        if tensors {
            for (name, t) in ckpt.tensors.sorted(by: { $0.key < $1.key }) where name != "" {
                print("  \(name)  \(t.dtype) \(t.shape)")
            }
        }
    }
}
