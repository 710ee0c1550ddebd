// Bring your own equilibrium model: a cell of your own inside the library's DEQ layer, a task of
// your own, and the library's training loop for checkpoints, exact resume, the log and the NaN stop.
//
//     swift run CustomDEQ runs/custom --steps 200          # then again with --resume and more steps
import DEQ
import Foundation
import NN
import Tensors
import Training

/// z* = tanh(W₂ relu(W₁ z*) + U x): a two-layer cell, solved to its fixed point; a linear read-out.
final class TwoLayerDEQ: Module {
    let inject = Linear(2, 32), first = Linear(32, 64), second = Linear(64, 32, bias: false), readout = Linear(32, 1)
    let deq = DEQLayer(name: "two-layer", options: DEQOptions(forwardSolver: .anderson(window: 5), forwardIterations: 40,
        forwardTolerance: 1e-5, backward: .implicit(solver: .anderson(window: 5), iterations: 40, tolerance: 1e-6)))

    func visit(_ v: inout ModuleVisitor) {
        v.child("inject", inject); v.child("first", first); v.child("second", second); v.child("readout", readout)
    }
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let z0 = Tensor.zeros([x.shape[0], 32], dtype: x.dtype)
        let z = try deq({ [first, second] z, u in (second(first(z).relu()) * 0.5 + u).tanh() }, input: inject(x), initial: z0)
        return readout(z).squeezed(-1)
    }
}

/// The task: y = sin(3 x₀) cos(2 x₁) for x uniform in [-1, 1]², a fresh batch each step.
func batch(_ n: Int, _ generator: RandomGenerator) -> (x: Tensor, y: Tensor) {
    let x = Tensor.rand([n, 2], generator: generator) * 2 - 1
    return (x, (x.select(1, 0) * 3).sin() * (x.select(1, 1) * 2).cos())
}

let arguments = Array(CommandLine.arguments.dropFirst())
let workDirectory = arguments.first { !$0.hasPrefix("--") } ?? "runs/custom-deq"
let steps = arguments.firstIndex(of: "--steps").flatMap { Int(arguments[$0 + 1]) } ?? 200
RandomGenerator.manualSeed(0)
let model = TwoLayerDEQ(), data = RandomGenerator(seed: 1), test = batch(1024, RandomGenerator(seed: 2))
let trainer = TaskTrainer(model: model, optimizer: try Adam(model, learningRate: 3e-3), workDirectory: workDirectory)
trainer.generators["data"] = data
(trainer.checkpointInterval, trainer.evaluationInterval) = (20, 20)
trainer.evaluate = { _ in ["test_mse": try mseLoss(model(test.x), test.y).item] }
do {
    let result = try trainer.run(steps: steps, resume: arguments.contains("--resume")) { _ in
        let (x, y) = batch(64, data)
        return mseLoss(try model(x), y)
    }
    if let (step, figures) = result.evaluations.last { print("step \(step): test MSE \(figures["test_mse"]!)") }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
