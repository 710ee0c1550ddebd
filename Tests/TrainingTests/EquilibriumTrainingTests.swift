import Foundation
import Testing
import Datasets
import Models
import NN
import Tensors
@testable import Training

/// The zoo's DEQ language models run through the same trainer as the LSTM: pre-training steps,
/// then the equilibrium solve, the solver statistics in the log, and a checkpoint that rebuilds
/// the model.
@Suite(.serialized) struct EquilibriumTrainingTests {
    func configuration(_ model: String, _ dir: URL, extra: [String: String]) throws -> TrainingConfiguration {
        var c = TrainingConfiguration()
        try c.apply(["model": model, "batch-size": "4", "bptt": "8", "optim": "adam", "lr": "0.01", "clip": "0.5",
                     "max-step": "6", "eval-interval": "3", "eval-max-tokens": "200", "train-split": "valid",
                     "work-dir": dir.path, "seed": "3", "pretrain-steps": "2", "f-thres": "8", "b-thres": "8",
                     "jac-loss-weight": "0.1"].merging(extra) { $1 }, source: "test")
        return c
    }

    @Test(arguments: [
        ("deq-transformer", ["d-model": "16", "n-head": "2", "d-inner": "32", "mem-len": "8", "cutoffs": "10,20"]),
        ("deq-trellisnet", ["emsize": "12", "nhid": "12", "tied": "true"]),
    ])
    func trainsLogsStatisticsAndReloads(model: String, options: [String: String]) throws {
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = Trainer(configuration: try configuration(model, dir, extra: options), corpus: syntheticCorpus(), say: { _ in })
        trainer.showsProgress = false
        let r = try trainer.run()
        #expect(r.step == 6)
        #expect(r.losses.values.allSatisfy { $0.isFinite })
        let steps = try MetricsLog.read(dir.appendingPathComponent("log.jsonl")).filter { $0["type"] as? String == "train" }
        // Pre-training unrolls two layers; afterwards the solver reports its iterations.
        #expect((steps.first?["fwd_iters"] as? Int) == Trainer.pretrainingDepth)
        let solved = steps.filter { ($0["step"] as? Int ?? 0) > 2 }
        #expect(solved.allSatisfy { ($0["fwd_iters"] as? Int ?? 0) >= 1 && ($0["bwd_iters"] as? Int ?? 0) >= 1 })
        let ckpt = try RunCheckpoint.read(dir.appendingPathComponent("last.safetensors"))
        #expect(ckpt.modelName == model)
        let rebuilt = try ckpt.makeModel()
        #expect(rebuilt.parameterCount() > 0)
    }
}
