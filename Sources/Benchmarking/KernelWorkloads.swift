import DEQ
import Models
import NN
import Solvers
import Tensors

/// One micro-benchmark of the kernel layer: a name, the work it does and the operation to time.
///
/// The same list drives `deq bench kernels`, the package-benchmark targets in `Benchmarks/`
/// and, by name, the C and PyTorch peers in `Benchmarks/peers/`, so every tool times the
/// same shapes.
public struct KernelWorkload: Sendable {
    /// Stable identifier, e.g. `sgemm_256`; peers report under the same names.
    public let name: String
    /// One line saying what is timed.
    public let summary: String
    /// Floating-point operations per call, for GFLOP/s; nil where that figure means little.
    public let flops: Double?
    /// Builds the inputs once (outside the timed region) and returns the call to time.
    /// The call returns its result so callers can keep it alive and the work cannot be dropped.
    public let prepare: @Sendable () -> () -> Tensor

    public init(name: String, summary: String, flops: Double?,
                prepare: @escaping @Sendable () -> () -> Tensor) {
        self.name = name
        self.summary = summary
        self.flops = flops
        self.prepare = prepare
    }
}

extension KernelWorkload {
    /// Element count of the large elementwise and reduction workloads (2^22).
    public static let largeCount = 1 << 22

    /// Every kernel workload, in report order.
    public static let all: [KernelWorkload] = [
        sgemm(64), sgemm(256), sgemm(1024),
        elementwise("add_4M", "a + b, float32, 2^22 elements", flops: Double(largeCount)) { a, b in a + b },
        elementwise("tanh_4M", "tanh(a), float32, 2^22 elements", flops: nil) { a, _ in a.tanh() },
        elementwise("sum_4M", "sum of all elements, float32, 2^22 elements", flops: Double(largeCount)) { a, _ in a.sum() },
        rowwise("softmax_4096x1024", "softmax over the last axis of [4096, 1024], float32") { $0.softmax(axis: -1) },
        rowwise("layernorm_4096x1024", "layer norm over the last axis of [4096, 1024], float32, no affine") { $0.layerNorm() },
        KernelWorkload(name: "add_8x8_overhead", summary: "one 8x8 float32 add: the fixed cost of an op",
                       flops: nil) {
            let a = Tensor.randn([8, 8], generator: RandomGenerator(seed: 3))
            let b = Tensor.randn([8, 8], generator: RandomGenerator(seed: 4))
            return { a + b }
        },
    ]

    /// The workload with this name, or nil.
    public static func named(_ name: String) -> KernelWorkload? { all.first { $0.name == name } }

    /// Square float32 matrix product n x n times n x n (2 n^3 flops).
    static func sgemm(_ n: Int) -> KernelWorkload {
        KernelWorkload(name: "sgemm_\(n)", summary: "[\(n), \(n)] x [\(n), \(n)] float32 matmul",
                       flops: 2 * Double(n) * Double(n) * Double(n)) {
            let a = Tensor.randn([n, n], generator: RandomGenerator(seed: 1))
            let b = Tensor.randn([n, n], generator: RandomGenerator(seed: 2))
            return { a.matmul(b) }
        }
    }

    static func elementwise(_ name: String, _ summary: String, flops: Double?,
                            _ op: @escaping @Sendable (Tensor, Tensor) -> Tensor) -> KernelWorkload {
        KernelWorkload(name: name, summary: summary, flops: flops) {
            let a = Tensor.randn([largeCount], generator: RandomGenerator(seed: 1))
            let b = Tensor.randn([largeCount], generator: RandomGenerator(seed: 2))
            return { op(a, b) }
        }
    }

    static func rowwise(_ name: String, _ summary: String,
                        _ op: @escaping @Sendable (Tensor) -> Tensor) -> KernelWorkload {
        KernelWorkload(name: name, summary: summary, flops: nil) {
            let x = Tensor.randn([4096, 1024], generator: RandomGenerator(seed: 1))
            return { op(x) }
        }
    }
}
