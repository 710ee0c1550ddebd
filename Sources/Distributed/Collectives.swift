import CMPI
import Tensors

extension Communicator {
    /// Sums (or takes the max/min of) `values` over all ranks; every rank gets the result.
    public func allReduce(_ values: [Double], op: ReduceOperation = .sum) throws(DistributedError) -> [Double] {
        var buffer = values
        let count = Int32(buffer.count)
        try check(buffer.withUnsafeMutableBytes { MPI_Allreduce(eq_mpi_in_place(), $0.baseAddress, count, eq_mpi_double(), op.handle, eq_mpi_comm_world()) },
                  "MPI_Allreduce")
        return buffer
    }

    /// Root's `values`, on every rank.
    public func broadcast(_ values: [UInt64], root: Int = 0) throws(DistributedError) -> [UInt64] {
        var buffer = values
        let bytes = Int32(buffer.count * 8)
        try check(buffer.withUnsafeMutableBytes { MPI_Bcast($0.baseAddress, bytes, eq_mpi_byte(), Int32(root), eq_mpi_comm_world()) }, "MPI_Bcast")
        return buffer
    }

    /// Root's tensors (same shapes and dtypes on every rank), on every rank.
    public func broadcast(_ tensors: [Tensor], root: Int = 0) throws(DistributedError) -> [Tensor] {
        var out: [Tensor] = []
        for t in tensors {
            var bytes = t.contiguousBytes()
            let n = Int32(bytes.count)
            try check(bytes.withUnsafeMutableBytes { MPI_Bcast($0.baseAddress, n, eq_mpi_byte(), Int32(root), eq_mpi_comm_world()) }, "MPI_Bcast")
            out.append(Tensor(bytes: bytes, shape: t.shape, dtype: t.dtype))
        }
        return out
    }

    /// Every rank's slice of a tensor, concatenated in rank order along `axis`, on every rank
    /// (the slices must have the same shape, as equal shares of a batch do).
    public func allGather(_ tensor: Tensor, axis: Int) throws(DistributedError) -> Tensor {
        let part = tensor.contiguousBytes()
        var all = [UInt8](repeating: 0, count: part.count * size)
        let n = Int32(part.count)
        try check(part.withUnsafeBytes { p in all.withUnsafeMutableBytes { a in
            MPI_Allgather(p.baseAddress, n, eq_mpi_byte(), a.baseAddress, n, eq_mpi_byte(), eq_mpi_comm_world())
        } }, "MPI_Allgather")
        let stacked = Tensor(bytes: all, shape: [size] + tensor.shape, dtype: tensor.dtype)
        return Tensor.concat((0..<size).map { stacked.select(0, $0) }, axis: axis)
    }
}

/// How ``Communicator/allReduce(_:op:)`` combines the ranks' values.
public enum ReduceOperation: Sendable {
    case sum, max, min
    var handle: MPI_Op {
        switch self {
        case .sum: eq_mpi_sum()
        case .max: eq_mpi_max()
        case .min: eq_mpi_min()
        }
    }
}
