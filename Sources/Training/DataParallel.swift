import Models
import Tensors

/// The processes of a data-parallel run, as the ``Trainer`` sees them. `Training` knows nothing
/// of MPI: the `Distributed` target makes its `Communicator` one of these, and `deq train` hands
/// it to the trainer when the run was started by `mpirun` or `srun`.
///
/// Every rank runs the same loop on the same windows of the batched streams; rank r keeps
/// columns r·B/n ..< (r+1)·B/n of the global batch B, so n ranks with B/n streams each compute
/// the gradient of one process with all B streams (the mean of equal-sized means is the mean).
public protocol DataParallelGroup: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Replaces each parameter's gradient by its mean over the ranks.
    func averageGradients(_ parameters: [Tensor]) throws
    /// Rank 0's tensors (same shapes on every rank), on every rank.
    func broadcastFromRoot(_ tensors: [Tensor]) throws -> [Tensor]
    /// The element-wise sum over the ranks, on every rank.
    func sum(_ values: [Double]) throws -> [Double]
    /// Every rank's tensor concatenated in rank order along `axis`, on every rank.
    func gather(_ tensor: Tensor, axis: Int) throws -> Tensor
}

/// This rank's share of the global batch, and the moves between the two.
struct BatchShard {
    let rank: Int
    let ranks: Int
    let globalBatch: Int
    var localBatch: Int { globalBatch / ranks }
    var start: Int { rank * localBatch }

    init(group: (any DataParallelGroup)?, globalBatch: Int, batchSplit: Int) throws {
        rank = group?.rank ?? 0
        ranks = group?.size ?? 1
        self.globalBatch = globalBatch
        guard globalBatch % (ranks * batchSplit) == 0 else {
            throw TrainingError("--batch-size \(globalBatch) must split evenly over \(ranks) ranks × --batch-split \(batchSplit); pass a multiple of \(ranks * batchSplit)")
        }
    }

    /// This rank's columns of a time-major [T, B] window.
    func local(_ window: Tensor) -> Tensor {
        ranks == 1 ? window : window.narrow(1, start: start, length: localBatch).contiguous()
    }

    /// This rank's part of a full-batch carried state (as a checkpoint holds it).
    func local(state: [Tensor], axis: Int) -> [Tensor] {
        ranks == 1 ? state : state.map { $0.narrow(axis, start: start, length: localBatch).contiguous() }
    }

    /// The full-batch carried state, on every rank (a checkpoint holds the whole batch's state, so
    /// a run can resume on another number of ranks).
    func global(state: [Tensor], axis: Int, group: (any DataParallelGroup)?) throws -> [Tensor] {
        guard let group, ranks > 1 else { return state }
        return try state.map { try group.gather($0, axis: axis) }
    }
}

extension DataParallelGroup {
    /// Makes every rank's parameters rank 0's (they already agree when every rank seeded the same
    /// way; this also covers a model loaded from a file only rank 0 could read).
    func synchronizeParameters(of model: any LanguageModel) throws {
        let params = model.parameters()
        let root = try broadcastFromRoot(params.map { $0.detached() })
        withoutGradients { for (p, r) in zip(params, root) { p.assign(r) } }
    }

    /// Whether any rank saw `flag` (Ctrl-C, the time limit): all ranks then stop at the same step,
    /// so none is left waiting in a collective.
    func any(_ flags: [Bool]) throws -> [Bool] {
        try sum(flags.map { $0 ? 1 : 0 }).map { $0 > 0 }
    }
}
