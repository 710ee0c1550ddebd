import CMPI
import Foundation
import Tensors

/// A distributed run could not go on: MPI failed, or the ranks disagree. The message names the
/// rank and the call.
public struct DistributedError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The processes of one data-parallel run, over MPI's world communicator.
///
/// MPI is started only when the process was launched by `mpirun`/`mpiexec` or `srun` (their
/// environment variables say so); otherwise ``world`` is `nil` and nothing changes: one process,
/// no MPI call at all. All calls come from the thread that runs the training loop, which is
/// what `MPI_THREAD_FUNNELED` promises the library.
public final class Communicator: @unchecked Sendable {
    // Sendable: `rank` and `size` never change, and every MPI call is made from the one training
    // thread (MPI_THREAD_FUNNELED), which alone touches `sharedSum`.
    public let rank: Int
    public let size: Int
    /// The node-local all-reduce, made on first use when every rank is on this machine (and
    /// `EQ_SHARED_SUM` is not 0); `.some(nil)` once found unavailable.
    var sharedSum: SharedMemorySum??
    public var isRoot: Bool { rank == 0 }

    /// The world communicator when this process was launched by an MPI launcher, else `nil`.
    /// The first access starts MPI.
    public static let world: Communicator? = launchedByLauncher ? try? Communicator() : nil

    /// The variables Open MPI's `mpirun`, MPICH/Hydra and Slurm (PMI, PMIx) set in each rank.
    public static var launchedByLauncher: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"].contains { env[$0] != nil }
    }

    private init() throws(DistributedError) {
        var provided: Int32 = 0
        var argc: Int32 = 0
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            let code = MPI_Init_thread(&argc, nil, eq_mpi_thread_funneled(), &provided)
            guard code == eq_mpi_success() else { throw DistributedError("MPI_Init_thread failed (code \(code)): check the MPI installation (Debian: libopenmpi-dev openmpi-bin)") }
            // MPI must be finalised before the process ends, or the launcher reports an abnormal exit.
            atexit { Communicator.finalizeIfNeeded() }
        }
        // Errors come back as codes, so a failure is reported with its call instead of aborting.
        MPI_Comm_set_errhandler(eq_mpi_comm_world(), eq_mpi_errors_return())
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(eq_mpi_comm_world(), &r)
        MPI_Comm_size(eq_mpi_comm_world(), &s)
        rank = Int(r)
        size = Int(s)
    }

    /// Ends MPI (also done at exit); the last collective must be behind every rank.
    public static func finalizeIfNeeded() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    /// Stops every rank of the run (a rank that cannot go on must not leave the others waiting in
    /// a collective).
    public func abort(code: Int32 = 1) -> Never {
        MPI_Abort(eq_mpi_comm_world(), code)
        exit(code)
    }

    /// Waits until every rank gets here.
    public func barrier() throws(DistributedError) { try check(MPI_Barrier(eq_mpi_comm_world()), "MPI_Barrier") }

    func check(_ code: Int32, _ call: String) throws(DistributedError) {
        guard code != eq_mpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(eq_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        let reason = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw DistributedError("rank \(rank) of \(size): \(call) failed: \(reason) — another rank may have stopped; the last checkpoint on rank 0 is intact")
    }
}
