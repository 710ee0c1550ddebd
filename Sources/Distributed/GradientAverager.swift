import CMPI
import Tensors

/// Averages the gradients of a model's parameters over the ranks of a data-parallel run, in
/// buckets, as PyTorch's DistributedDataParallel does.
///
/// Parameters are taken in reverse declaration order (the order a backward pass finishes them)
/// and copied into buckets of about ``bucketBytes``, divided by the number of ranks on the way in
/// (as DDP does); each bucket is summed over the ranks in place and its parameters' gradients
/// become views of it (no copy back).
///
/// The sum is a blocking `MPI_Allreduce`: our backward pass has no per-parameter hook, so a bucket
/// could only overlap the packing of the next one, and Open MPI's non-blocking `MPI_Iallreduce`
/// (libnbc) took 5.2–6.9 ms where the blocking call took 2.6–3.1 ms for the 13.6 MB of the small
/// LSTM preset (2 ranks on one machine, best of 20, two runs).
public struct GradientAverager {
    public let communicator: Communicator
    /// 25 MiB, PyTorch DDP's default bucket size.
    public var bucketBytes: Int

    public init(communicator: Communicator, bucketBytes: Int = 25 << 20) {
        self.communicator = communicator
        self.bucketBytes = bucketBytes
    }

    /// Replaces each parameter's gradient by its mean over the ranks. A parameter without a
    /// gradient on this rank counts as zero (every rank must list the same parameters).
    public func average(_ parameters: [Tensor]) throws(DistributedError) {
        let scale = 1.0 / Double(communicator.size)
        for bucket in buckets(parameters.filter(\.requiresGrad).reversed()) {
            let buffer = Tensor(empty: [bucket.reduce(0) { $0 + $1.count }], dtype: bucket[0].dtype)
            var offset = 0
            let windows = bucket.map { p in
                defer { offset += p.count }
                return buffer.narrow(0, start: offset, length: p.count).reshaped(p.shape)
            }
            for (p, window) in zip(bucket, windows) {
                window.assign(p.grad?.detached() ?? p.zerosLike(), scaledBy: scale)
            }
            let type = buffer.dtype == .float64 ? eq_mpi_double() : eq_mpi_float()
            try communicator.check(MPI_Allreduce(eq_mpi_in_place(), buffer.baseAddress, Int32(buffer.count), type, eq_mpi_sum(),
                                                 eq_mpi_comm_world()), "MPI_Allreduce")
            for (p, window) in zip(bucket, windows) { p.grad = window }
        }
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
