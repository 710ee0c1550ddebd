import DEQ
import NN
import Tensors

/// The demo's deep equilibrium model: inputs [B, n] are injected into z* = tanh(W z* + U x + b),
/// solved by the DEQ layer, and a linear read-out of z* predicts one number per example.
public final class AddingDEQ: Module {
    public let inject: Linear
    public let cell: Linear
    public let readout: Linear
    public let deq = DEQLayer(name: "adding", options: DEQOptions(
        forwardSolver: .anderson(window: 5), forwardIterations: 30, forwardTolerance: 1e-4,
        backward: .implicit(solver: .anderson(window: 5), iterations: 30, tolerance: 1e-5), onFailure: .warn))

    public init(inputs: Int, width: Int) {
        inject = Linear(inputs, width)
        cell = Linear(width, width, bias: false)
        readout = Linear(width, 1)
        // A small recurrent weight starts f well inside the contractive regime.
        cell.weight = (cell.weight.detached() * 0.5).requiringGrad()
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("inject", inject)
        v.child("cell", cell)
        v.child("readout", readout)
    }

    /// Predictions [B] for inputs [B, inputs].
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let injected = inject(x)
        let z0 = Tensor.zeros([x.shape[0], cell.outputSize], dtype: x.dtype)
        let z = try deq({ [cell] z, u in (cell(z) + u).tanh() }, input: injected, initial: z0)
        return readout(z).squeezed(-1)
    }
}
