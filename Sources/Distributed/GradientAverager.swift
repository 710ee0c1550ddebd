import CMPI
import Foundation
import Tensors

/// Averages the gradients of a model's parameters over the ranks of a data-parallel run, in
/// buckets, as PyTorch's DistributedDataParallel does.
///
/// Parameters are taken in reverse declaration order (the order a backward pass finishes them)
/// and copied into buckets of about ``bucketBytes``, divided by the number of ranks on the way in
/// (as DDP does); each bucket is summed over the ranks in place and its parameters' gradients
/// become views of it (no copy back).
///
/// When every rank is on this machine the sum runs over a shared-memory window
/// (``SharedMemorySum``: the pack goes straight into the window, and the gradients become views of
/// each rank's result segment); across machines it is a blocking `MPI_Allreduce`. Our backward pass
/// has no per-parameter hook, so a bucket could only overlap the packing of the next one, and Open
/// MPI's non-blocking `MPI_Iallreduce` (libnbc) took 5.2–6.9 ms where the blocking call took
/// 2.6–3.1 ms for the 13.6 MB of the small LSTM preset (2 ranks on one machine, best of 20, two runs).
public struct GradientAverager {
    public let communicator: Communicator
    /// 25 MiB, PyTorch DDP's default bucket size.
    public var bucketBytes: Int

    /// Whether ranks on one machine may sum over shared memory (`MPI_Allreduce` when false, or
    /// when `EQ_SHARED_SUM=0`).
    public var sharedMemory: Bool

    public init(communicator: Communicator, bucketBytes: Int = 25 << 20, sharedMemory: Bool = true) {
        self.communicator = communicator
        self.bucketBytes = bucketBytes
        self.sharedMemory = sharedMemory
    }

    /// Replaces each parameter's gradient by its mean over the ranks. A parameter without a
    /// gradient on this rank counts as zero (every rank must list the same parameters). Over
    /// shared memory the new gradients are views of a window that the next call overwrites.
    public func average(_ parameters: [Tensor]) throws(DistributedError) {
        let scale = 1.0 / Double(communicator.size)
        let buckets = buckets(parameters.filter(\.requiresGrad).reversed())
        // Each bucket's place in the shared window, 64-byte aligned for the vector kernels.
        let spans = buckets.map { b in (b.reduce(0) { $0 + $1.count * $1.dtype.byteSize } + 63) / 64 * 64 }
        let shared = try sharedSum(bytes: spans.reduce(0, +))
        var byteOffset = 0
        for (bucket, span) in zip(buckets, spans) {
            let (count, dtype) = (bucket.reduce(0) { $0 + $1.count }, bucket[0].dtype)
            let buffer = shared?.inputWindow(offset: byteOffset, count: count, dtype: dtype) ?? Tensor(empty: [count], dtype: dtype)
            for (p, window) in zip(bucket, windows(of: buffer, for: bucket)) {
                window.assign(p.grad?.detached() ?? p.zerosLike(), scaledBy: scale)
            }
            let result: Tensor
            if let shared {
                try shared.sum(offset: byteOffset, count: count, dtype: dtype)
                result = shared.outputWindow(offset: byteOffset, count: count, dtype: dtype)
            } else {
                let type = dtype == .float64 ? eq_mpi_double() : eq_mpi_float()
                try communicator.check(MPI_Allreduce(eq_mpi_in_place(), buffer.baseAddress, Int32(count), type, eq_mpi_sum(),
                                                     eq_mpi_comm_world()), "MPI_Allreduce")
                result = buffer
            }
            for (p, window) in zip(bucket, windows(of: result, for: bucket)) { p.grad = window }
            byteOffset += span
        }
    }

    /// Each parameter's place in a flat bucket buffer, shaped like the parameter.
    func windows(of buffer: Tensor, for bucket: [Tensor]) -> [Tensor] {
        var offset = 0
        return bucket.map { p in
            defer { offset += p.count }
            return buffer.narrow(0, start: offset, length: p.count).reshaped(p.shape)
        }
    }

    /// The node-local sum with room for `bytes`, or nil where the
    /// ranks span machines or `EQ_SHARED_SUM=0` asks for `MPI_Allreduce`.
    func sharedSum(bytes: Int) throws(DistributedError) -> SharedMemorySum? {
        guard sharedMemory else { return nil }
        if communicator.sharedSum == nil {
            let off = ProcessInfo.processInfo.environment["EQ_SHARED_SUM"] == "0"
            communicator.sharedSum = .some(off ? nil : SharedMemorySum.make(world: communicator))
        }
        guard case let shared?? = communicator.sharedSum else { return nil }
        try shared.reserve(bytes)
        return shared
    }

    /// Consecutive parameters of one dtype, about ``bucketBytes`` a bucket.
    func buckets(_ parameters: some Sequence<Tensor>) -> [[Tensor]] {
        var buckets: [[Tensor]] = []
        var bytes = 0
        for p in parameters {
            let size = p.count * p.dtype.byteSize
            if buckets.isEmpty || bytes > 0 && (bytes + size > bucketBytes || buckets[buckets.count - 1][0].dtype != p.dtype) {
                buckets.append([])
                bytes = 0
            }
            buckets[buckets.count - 1].append(p)
            bytes += size
        }
        return buckets
    }
}
