import CMPI
import Tensors

/// Averages the gradients of a model's parameters over the ranks of a data-parallel run, in
/// buckets, as PyTorch's DistributedDataParallel does.
///
/// Parameters are taken in reverse declaration order (the order a backward pass finishes them)
/// and packed into buckets of about ``bucketBytes``; each bucket's non-blocking all-reduce
/// (`MPI_Iallreduce`) is started as soon as it is packed, so the network works on one bucket while
/// the next is packed. Our backward pass has no per-parameter hook yet, so the first bucket starts
/// after backward, not during it.
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
        let trainable = parameters.filter(\.requiresGrad).reversed()
        var buckets: [[Tensor]] = [[]]
        var bytes = 0
        for p in trainable {
            let size = p.count * p.dtype.byteSize
            if bytes > 0 && (bytes + size > bucketBytes || buckets[buckets.count - 1].last?.dtype != p.dtype) {
                buckets.append([])
                bytes = 0
            }
            buckets[buckets.count - 1].append(p)
            bytes += size
        }
        var flights: [(params: [Tensor], buffer: Tensor, request: MPI_Request?)] = []
        for bucket in buckets where !bucket.isEmpty {
            let buffer = Tensor.concat(bucket.map { ($0.grad ?? $0.zerosLike()).detached().flattened() }, axis: 0).contiguous()
            var request: MPI_Request? = eq_mpi_request_null()
            let type = buffer.dtype == .float64 ? eq_mpi_double() : eq_mpi_float()
            try communicator.check(MPI_Iallreduce(eq_mpi_in_place(), buffer.baseAddress, Int32(buffer.count), type, eq_mpi_sum(),
                                                  eq_mpi_comm_world(), &request), "MPI_Iallreduce")
            flights.append((bucket, buffer, request))
        }
        let scale = 1.0 / Double(communicator.size)
        for var flight in flights {
            try communicator.check(MPI_Wait(&flight.request, eq_mpi_status_ignore()), "MPI_Wait")
            var offset = 0
            for p in flight.params {
                p.grad = (flight.buffer.narrow(0, start: offset, length: p.count).reshaped(p.shape) * scale).contiguous()
                offset += p.count
            }
        }
    }
}
