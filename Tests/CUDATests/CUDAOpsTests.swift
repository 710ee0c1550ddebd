import Foundation
import Testing
import Tensors
@testable import CUDA

/// GPU checks: each CUDA op against the CPU op in float64 (to 1e-10) and float32. Where there is
/// no GPU the suite is skipped with this message (CUDAAvailabilityTests prints the reason), and
/// Benchmarks/gpu_check.sh runs it on a GPU machine.
let gpuAvailable: Bool = {
    guard let reason = CUDARuntime.unavailableReason else { return true }
    print("CUDAOpsTests skipped: \(reason.replacingOccurrences(of: "\n", with: " "))")
    return false
}()

func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Double {
    #expect(a.shape == b.shape)
    return zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
}

@Suite(.serialized, .enabled("needs a CUDA GPU and driver: run Benchmarks/gpu_check.sh on one") { gpuAvailable })
struct CUDAOpsTests {
    let tol64 = 1e-10

    @Test func roundTripKeepsValues() throws {
        for dtype in [DType.float32, .float64] {
            let x = Tensor.randn([3, 5], dtype: dtype)
            let back = try x.to(device: .cuda(0)).cpu()
            #expect(back.dtype == dtype)
            #expect(maxAbsDiff(back, x) == 0)
        }
        // A transposed (strided) view goes up in its logical order.
        let t = Tensor.randn([4, 3], dtype: .float64).transposed(0, 1)
        #expect(maxAbsDiff(try t.to(device: .cuda(0)).cpu(), t) == 0)
    }

    @Test func gemmMatchesCPU() throws {
        for (m, k, n) in [(1, 1, 1), (3, 5, 7), (64, 33, 17), (256, 256, 256)] {
            let a = Tensor.randn([m, k], dtype: .float64), b = Tensor.randn([k, n], dtype: .float64)
            let g = try CUDATensor(a).matmul(CUDATensor(b)).toHost()
            #expect(maxAbsDiff(g, a.matmul(b)) < tol64 * Double(k), "dgemm \(m)x\(k)x\(n)")
            let a32 = a.to(.float32), b32 = b.to(.float32)
            let g32 = try CUDATensor(a32).matmul(CUDATensor(b32)).toHost()
            #expect(maxAbsDiff(g32, a32.matmul(b32)) < 1e-4 * Double(k), "sgemm \(m)x\(k)x\(n)")
        }
    }

    @Test func elementwiseMatchCPU() throws {
        let x = Tensor.randn([7, 300], dtype: .float64), y = Tensor.randn([7, 300], dtype: .float64)
        let pos = x.abs() + 0.1
        let (gx, gy, gp) = (try CUDATensor(x), try CUDATensor(y), try CUDATensor(pos))
        let cases: [(String, Tensor, CUDATensor)] = [
            ("add", x + y, try gx + gy), ("sub", x - y, try gx - gy), ("mul", x * y, try gx * gy),
            ("div", x / pos, try gx / gp), ("maximum", Tensor.maximum(x, y), try gx.maximum(gy)),
            ("neg", -x, try gx.neg()), ("exp", x.exp(), try gx.exp()), ("log", pos.log(), try gp.log()),
            ("tanh", x.tanh(), try gx.tanh()), ("sqrt", pos.sqrt(), try gp.sqrt()),
            ("relu", x.relu(), try gx.relu()), ("sigmoid", x.sigmoid(), try gx.sigmoid()),
            ("scaled", x * 2.5, try gx.scaled(by: 2.5)),
        ]
        for (name, cpu, cuda) in cases {
            let d = maxAbsDiff(try cuda.toHost(), cpu)
            #expect(d < tol64, "\(name): max |cuda - cpu| = \(d)")
        }
    }

    @Test func reductionsAndRowOpsMatchCPU() throws {
        for cols in [1, 5, 256, 1000] {
            let x = Tensor.randn([9, cols], dtype: .float64)
            let g = try CUDATensor(x)
            #expect(maxAbsDiff(try g.sumLastAxis().toHost(), x.sum(axes: [1])) < tol64 * Double(cols))
            #expect(Swift.abs(try g.sum().toHost().item - x.sum().item) < tol64 * Double(x.count))
            #expect(maxAbsDiff(try g.softmax().toHost(), x.softmax(axis: -1)) < tol64)
            #expect(maxAbsDiff(try g.layerNorm(eps: 1e-5).toHost(), x.layerNorm(eps: 1e-5)) < tol64)
        }
        let big = Tensor.randn([10_000], dtype: .float64)          // three 4096-element chunks, then one
        #expect(Swift.abs(try CUDATensor(big).sum().toHost().item - big.sum().item) < 1e-9)
    }

    @Test func mixedDevicesThrow() throws {
        let a = try Tensor.randn([2, 2]).to(device: .cuda(0))
        let b = try Tensor.randn([2, 2]).to(device: .cpu)
        #expect(throws: CUDAError.deviceMismatch(op: "matmul", lhs: .cuda(0), rhs: .cpu)) { try a.matmul(b) }
        #expect(throws: CUDAError.self) { try a.adding(try Tensor.randn([3, 2]).to(device: .cuda(0))) }
        let n = try CUDARuntime.shared().devices.count
        #expect(throws: CUDAError.noDevice(ordinal: n, count: n)) { try Tensor.randn([2]).to(device: .cuda(n)) }
    }
}
