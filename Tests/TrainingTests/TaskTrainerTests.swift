import Foundation
import NN
import Tensors
import Testing
@testable import Training

/// The generic loop: a plain module and a per-step loss get checkpoints, the NaN stop and resume.
@Suite(.serialized) struct TaskTrainerTests {
    private func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("task-trainer-\(UUID().uuidString)").path
    }

    private func regression(_ model: Linear, _ data: RandomGenerator) -> Tensor {
        let x = Tensor.randn([16, 3], generator: data)
        return mseLoss(model(x), x.sum(axis: 1, keepDim: true))
    }

    @Test func runsInMemoryWithoutAWorkDirectory() throws {
        RandomGenerator.manualSeed(0)
        let model = Linear(3, 1), data = RandomGenerator(seed: 1)
        let trainer = TaskTrainer(model: model, optimizer: try Adam(model, learningRate: 0.05), say: { _ in })
        trainer.progressInterval = 0
        trainer.evaluationInterval = 10
        trainer.evaluatesFirstStep = true
        trainer.evaluate = { _ in ["weight_norm": model.weight.square().sum().item] }
        let result = try trainer.run(steps: 30) { _ in regression(model, data) }
        #expect(result.step == 30 && result.losses.count == 30)
        #expect(result.evaluations.map(\.step) == [1, 10, 20, 30])
        #expect(result.losses[30]! < result.losses[1]! / 4)
        #expect(throws: TrainingError.self) { try trainer.run(steps: 30, resume: true) { _ in regression(model, data) } }
    }

    @Test func afterBackwardSeesTheGradientsBeforeClipping() throws {
        RandomGenerator.manualSeed(0)
        let model = Linear(3, 1), data = RandomGenerator(seed: 1)
        let trainer = TaskTrainer(model: model, optimizer: try SGD(model, learningRate: 0.01), say: { _ in })
        (trainer.progressInterval, trainer.clip) = (0, 1e-3)
        func norm() -> Double { model.parameters().reduce(0.0) { $0 + $1.grad!.square().sum().item }.squareRoot() }
        var raw: [Int: Double] = [:], clipped: [Int: Double] = [:]
        trainer.afterBackward = { step in raw[step] = norm() }
        trainer.afterStep = { step, _ in clipped[step] = norm() }
        try trainer.run(steps: 2) { _ in regression(model, data) }
        #expect(raw.keys.sorted() == [1, 2])
        for step in [1, 2] {
            #expect(raw[step]! > 1e-2)
            #expect(abs(clipped[step]! - 1e-3) < 1e-6)
        }
    }

    @Test func divergingRunStopsNamingTheStepAndWritesNoNonFiniteWeights() throws {
        RandomGenerator.manualSeed(0)
        let model = Linear(3, 1), data = RandomGenerator(seed: 1), dir = directory()
        let trainer = TaskTrainer(model: model, optimizer: try SGD(model, learningRate: 0.01), workDirectory: dir, say: { _ in })
        trainer.progressInterval = 0
        trainer.checkpointInterval = 5
        do {
            try trainer.run(steps: 20) { step in regression(model, data) * (step > 7 ? Double.infinity : 1) }
            Issue.record("a non-finite loss must stop the run")
        } catch let error as TrainingError {
            #expect(error.message.contains("step 8") && error.message.contains("(step 5)"), "\(error.message)")
        }
        let saved = try Checkpoint.load(into: Linear(3, 1), from: URL(fileURLWithPath: dir).appendingPathComponent("last.safetensors"))
        #expect(saved.step == 5)
    }

    @Test func resumeRestoresTheDataGeneratorAndContinuesExactly() throws {
        func train(_ steps: Int, resume: Bool, in dir: String) throws -> [Int: Double] {
            RandomGenerator.manualSeed(0)
            let model = Linear(3, 1), data = RandomGenerator(seed: 1)
            let trainer = TaskTrainer(model: model, optimizer: try Adam(model, learningRate: 0.05), workDirectory: dir, say: { _ in })
            trainer.progressInterval = 0
            trainer.generators["data"] = data
            trainer.schedule = try CosineWithWarmup(base: 0.05, warmup: 2, total: 12)
            return try trainer.run(steps: steps, resume: resume) { _ in regression(model, data) }.losses
        }
        let whole = try train(12, resume: false, in: directory())
        let dir = directory()
        _ = try train(5, resume: false, in: dir)
        let rest = try train(12, resume: true, in: dir)
        #expect(rest.keys.sorted() == Array(6...12))
        for step in 6...12 { #expect(rest[step] == whole[step]) }
    }
}
