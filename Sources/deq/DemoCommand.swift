import ArgumentParser
import DEQ
import Datasets
import Foundation
import Models
import NN
import Tensors
import Training

/// `deq demo` (what `make demo` runs): trains a small DEQ on the adding problem, a synthetic
/// sequence task made in code, printing the loss and both solvers' iterations and residuals as it
/// goes, then checks the implicit gradient against finite differences of the solved loss.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train a small DEQ on a synthetic sequence task and check its implicit gradient.")

    @Option(help: "Training steps.") var steps = 6000
    @Option(help: "Stop after this many seconds even if steps remain.") var seconds = 110.0
    @Option(help: "Sequence length of the adding problem.") var length = 10
    @Option(help: "Width of the equilibrium state.") var width = 64
    @Option(help: "Print a line every this many steps.") var every = 500
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(name: .customLong("jac-weight"), help: "Weight of the Jacobian regularisation term (keeps the solves short).")
    var jacobianWeight = 1.0

    func validate() throws {
        try requireAtLeast(1, ["steps": steps, "width": width, "every": every])
        try requireAtLeast(2, ["length": length])
        try requireAbove(0, "seconds", seconds)
        guard jacobianWeight.isFinite, jacobianWeight >= 0 else { throw ValidationError("--jac-weight must be 0 or a positive number, got \(jacobianWeight)") }
    }

    func run() throws {
        StandardOutput.makeLineBuffered()
        RandomGenerator.manualSeed(seed)
        print("""
        Equilibrium demo: a deep equilibrium model z* = tanh(W z* + U x + b) on the adding problem
        (a sequence of \(length) (value, marker) pairs; the target is the sum of the two marked values).
        Forward: Anderson (window 5, f_thres 30); backward: implicit, Anderson (b_thres 30);
        Jacobian regularisation weight \(jacobianWeight).
        Threads: \(Threading.threadCount). A constant predictor scores MSE ≈ 0.167.

        """)
        let model = AddingDEQ(inputs: 2 * length, width: width)
        model.deq.options.jacobianRegularization = jacobianWeight
        let data = RandomGenerator(seed: seed &+ 1)
        let test = try addingBatch(512, generator: data)
        let trainer = TaskTrainer(model: model, optimizer: try Adam(model, learningRate: 3e-3))
        trainer.generators["data"] = data
        trainer.maxTime = seconds
        trainer.progressInterval = 0
        trainer.regularizer = { model.deq.jacobianLoss }
        var trainLoss = 0.0
        trainer.afterStep = { _, loss in
            trainLoss = loss
            try model.deq.checkBackward()
        }
        trainer.evaluationInterval = every
        trainer.evaluatesFirstStep = true
        trainer.evaluate = { step in
            let stats = model.deq.lastStats!   // the training step's solves, before the test batch's
            let testMSE = try mseLoss(model(test.input), test.target).item
            print(String(format: "%5d   %9.5f  %9.5f   %6d   %12.2e   %6d   %12.2e",
                         step, trainLoss, testMSE, stats.forwardIterations, stats.forwardRelativeResidual,
                         stats.backwardIterations, stats.backwardRelativeResidual))
            return ["test_mse": testMSE]
        }
        print(" step   train MSE   test MSE   fwd it   fwd residual   bwd it   bwd residual")
        try trainer.run(steps: steps) { _ in
            let batch = try addingBatch(64, generator: data)
            return mseLoss(try model(batch.input), batch.target)
        }

        print("\nImplicit gradient against finite differences (float64, tolerances 1e-12):")
        model.convert(to: .float64)
        model.deq.options = DEQOptions(forwardSolver: .anderson(window: 5), forwardIterations: 200, forwardTolerance: 1e-12,
                                       stopMode: .absolute,
                                       backward: .implicit(solver: .anderson(window: 5), iterations: 200, tolerance: 1e-12),
                                       onFailure: .warn)
        let batch = try addingBatch(16, dtype: .float64, generator: data)
        let check = try DirectionalGradcheck(model) { mseLoss(try model(batch.input), batch.target) }
        print(String(format: "  directional derivative: implicit %.10e, finite differences %.10e, relative error %.1e",
                     check.analytic, check.numeric, check.relativeError))
        print(check.relativeError < 1e-5 ? "  gradient check passed" : "  gradient check FAILED")
        if check.relativeError >= 1e-5 { throw ExitCode.failure }
    }

    /// The adding problem with each example's (value, marker) pairs flattened: input [n, 2 × length].
    private func addingBatch(_ n: Int, dtype: DType = .float32, generator: RandomGenerator) throws -> SyntheticTask.Batch {
        let b = try SyntheticTask.adding(batch: n, length: length, dtype: dtype, generator: generator)
        return .init(input: b.input.permuted([1, 0, 2]).reshaped([n, 2 * length]), target: b.target)
    }
}
