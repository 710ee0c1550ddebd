import ArgumentParser
import DEQ
import Foundation
import NN
import Solvers
import Tensors

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
        RandomGenerator.manualSeed(seed)
        print("""
        Equilibrium demo: a deep equilibrium model z* = tanh(W z* + U x + b) on the adding problem
        (a sequence of \(length) (value, marker) pairs; the target is the sum of the two marked values).
        Forward: Anderson (window 5, f_thres 30); backward: implicit, Anderson (b_thres 30);
        Jacobian regularisation weight \(jacobianWeight).
        Threads: \(Threading.threadCount). A constant predictor scores MSE ≈ 0.167.

        """)
        let model = AddingDEQ(length: length, width: width)
        model.deq.options.jacobianRegularization = jacobianWeight
        let optimizer = try Adam(model, learningRate: 3e-3)
        let data = AddingProblem(length: length, generator: RandomGenerator(seed: seed &+ 1))
        let test = data.batch(512)
        let start = Date()
        print(" step   train MSE   test MSE   fwd it   fwd residual   bwd it   bwd residual   s")
        var step = 0
        while step < steps && Date().timeIntervalSince(start) < seconds {
            step += 1
            let (x, y) = data.batch(64)
            optimizer.zeroGrad()
            let loss = try mseLoss(model(x), y)
            try (loss + (model.deq.jacobianLoss ?? Tensor(0))).backward()
            try model.deq.checkBackward()
            optimizer.step()
            if step % every == 0 || step == 1 {
                let stats = model.deq.lastStats!
                let testMSE = try withoutGradients { try mseLoss(model(test.0), test.1).item }
                print(String(format: "%5d   %9.5f  %9.5f   %6d   %12.2e   %6d   %12.2e   %4.0f",
                             step, loss.item, testMSE, stats.forwardIterations, stats.forwardRelativeResidual,
                             stats.backwardIterations, stats.backwardRelativeResidual,
                             Date().timeIntervalSince(start)))
                fflush(nil)   // nil: every output stream (Swift 6 cannot name the C global stdout)
            }
        }
        try checkGradient(model, data)
    }

    /// Compares the implicit gradient with central differences of the solved loss along a random
    /// direction of all parameters, in float64 with tight solver tolerances.
    private func checkGradient(_ model: AddingDEQ, _ data: AddingProblem) throws {
        print("\nImplicit gradient against finite differences (float64, tolerances 1e-12):")
        model.convert(to: .float64)
        model.deq.options = DEQOptions(forwardSolver: .anderson(window: 5), forwardIterations: 200, forwardTolerance: 1e-12,
                                       stopMode: .absolute,
                                       backward: .implicit(solver: .anderson(window: 5), iterations: 200, tolerance: 1e-12),
                                       onFailure: .warn)
        let (x0, y0) = data.batch(16)
        let x = x0.to(.float64), y = y0.to(.float64)
        model.zeroGrad()
        try mseLoss(model(x), y).backward()
        let params = model.parameters()
        let gen = RandomGenerator(seed: 99)
        let direction = params.map { Tensor.randn($0.shape, dtype: .float64, generator: gen) }
        let analytic = zip(params, direction).map { p, d in (p.grad! * d).sum().item }.reduce(0, +)
        let eps = 1e-6
        func loss(shift: Double) throws -> Double {
            for (p, d) in zip(params, direction) { p.addScaled(d, shift) }
            defer { for (p, d) in zip(params, direction) { p.addScaled(d, -shift) } }
            return try withoutGradients { try mseLoss(model(x), y).item }
        }
        let numeric = (try loss(shift: eps) - loss(shift: -eps)) / (2 * eps)
        let relative = abs(analytic - numeric) / max(abs(numeric), 1e-12)
        print(String(format: "  directional derivative: implicit %.10e, finite differences %.10e, relative error %.1e",
                     analytic, numeric, relative))
        print(relative < 1e-5 ? "  gradient check passed" : "  gradient check FAILED")
        if relative >= 1e-5 { throw ExitCode.failure }
    }
}

/// The demo's model: inputs [B, 2T] are injected into z* = tanh(W z* + U x + b); a linear
/// read-out of z* predicts the sum.
final class AddingDEQ: Module {
    let inject: Linear
    let cell: Linear
    let readout: Linear
    let deq = DEQLayer(name: "adding", options: DEQOptions(
        forwardSolver: .anderson(window: 5), forwardIterations: 30, forwardTolerance: 1e-4,
        backward: .implicit(solver: .anderson(window: 5), iterations: 30, tolerance: 1e-5), onFailure: .warn))

    init(length: Int, width: Int) {
        inject = Linear(2 * length, width)
        cell = Linear(width, width, bias: false)
        readout = Linear(width, 1)
        // A small recurrent weight starts f well inside the contractive regime.
        cell.weight = (cell.weight.detached() * 0.5).requiringGrad()
    }

    func visit(_ v: inout ModuleVisitor) {
        v.child("inject", inject)
        v.child("cell", cell)
        v.child("readout", readout)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let injected = inject(x)
        let z0 = Tensor.zeros([x.shape[0], cell.outputSize], dtype: x.dtype)
        let z = try deq({ [cell] z, u in (cell(z) + u).tanh() }, input: injected, initial: z0)
        return readout(z).squeezed(-1)
    }
}

/// The adding problem (Hochreiter & Schmidhuber, 1997): T pairs (value in [0, 1), marker), two
/// markers set; the target is the sum of the two marked values.
struct AddingProblem {
    let length: Int
    let generator: RandomGenerator

    init(length: Int, generator: RandomGenerator) {
        self.length = length
        self.generator = generator
    }

    /// Inputs [n, 2T] (values then markers) and targets [n].
    func batch(_ n: Int) -> (Tensor, Tensor) {
        let values = Tensor.rand([n, length], generator: generator)
        let u = Tensor.rand([n, length], generator: generator).toArray(Float.self)
        var markers = [Float](repeating: 0, count: n * length)
        for i in 0..<n {
            // Two distinct positions from the uniform draws of this row.
            let row = Array(u[(i * length)..<((i + 1) * length)])
            let order = row.indices.sorted { row[$0] < row[$1] }
            markers[i * length + order[0]] = 1
            markers[i * length + order[1]] = 1
        }
        let m = Tensor(markers, shape: [n, length])
        return (Tensor.concat([values, m], axis: 1), (values * m).sum(axis: 1))
    }
}
