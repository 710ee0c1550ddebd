import Tensors
import Training

/// MPI's world communicator as the trainer's group of ranks: `deq train` under `mpirun` hands
/// ``Communicator/world`` to the ``Trainer``.
extension Communicator: DataParallelGroup {
    public func averageGradients(_ parameters: [Tensor]) throws {
        try GradientAverager(communicator: self).average(parameters)
    }

    public func broadcastFromRoot(_ tensors: [Tensor]) throws -> [Tensor] {
        try broadcast(tensors, root: 0)
    }

    public func sum(_ values: [Double]) throws -> [Double] {
        try allReduce(values, op: .sum)
    }

    public func gather(_ tensor: Tensor, axis: Int) throws -> Tensor {
        try allGather(tensor, axis: axis)
    }
}
