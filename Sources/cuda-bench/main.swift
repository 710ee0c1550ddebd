// The GPU figures of Benchmarks/gpu_check.sh (built only with EQ_CUDA=1):
//   cuda-bench agree           worst |cuda - cpu| of each CUDA op in float64, one line each
//   cuda-bench sgemm [N ...]   sgemm N x N through the CUDA target, one JSON object per size,
//                              timed as Benchmarks/peers/cublas_sgemm.c times cuBLAS from C
import CUDA
import Foundation
import Tensors

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("cuda-bench: \(message)\n".utf8))
    exit(1)
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + 1e-9 * Double(ts.tv_nsec)
}

func worst(_ a: Tensor, _ b: Tensor) -> Double {
    zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
}

func agree() throws {
    let x = Tensor.randn([64, 1000], dtype: .float64), y = Tensor.randn([64, 1000], dtype: .float64)
    let pos = x.abs() + 0.1
    let (gx, gy, gp) = (try CUDATensor(x), try CUDATensor(y), try CUDATensor(pos))
    let w = Tensor.randn([1000, 300], dtype: .float64)
    let rows: [(String, Tensor, CUDATensor)] = [
        ("dgemm 64x1000x300", x.matmul(w), try gx.matmul(CUDATensor(w))),
        ("add", x + y, try gx + gy), ("sub", x - y, try gx - gy), ("mul", x * y, try gx * gy),
        ("div", x / pos, try gx / gp), ("maximum", Tensor.maximum(x, y), try gx.maximum(gy)),
        ("neg", -x, try gx.neg()), ("exp", x.exp(), try gx.exp()), ("log", pos.log(), try gp.log()),
        ("tanh", x.tanh(), try gx.tanh()), ("sqrt", pos.sqrt(), try gp.sqrt()), ("relu", x.relu(), try gx.relu()),
        ("sigmoid", x.sigmoid(), try gx.sigmoid()), ("scaled", x * 2.5, try gx.scaled(by: 2.5)),
        ("sum(last axis)", x.sum(axes: [1]), try gx.sumLastAxis()), ("sum", x.sum(), try gx.sum()),
        ("softmax", x.softmax(axis: -1), try gx.softmax()), ("layerNorm", x.layerNorm(eps: 1e-5), try gx.layerNorm(eps: 1e-5)),
    ]
    var bad = 0
    for (name, cpu, cuda) in rows {
        let d = worst(try cuda.toHost(), cpu)
        let ok = d <= 1e-10
        if !ok { bad += 1 }
        print(String(format: "%-20@ %.3e %@", name as NSString, d, ok ? "ok" : "ABOVE 1e-10"))
    }
    if bad > 0 { fail("\(bad) ops differ from the CPU by more than 1e-10 in float64") }
}

func sgemm(_ n: Int) throws {
    let a = try CUDATensor(Tensor.randn([n, n])), b = try CUDATensor(Tensor.randn([n, n]))
    let c = try CUDATensor(Tensor.zeros([n, n]))
    for _ in 0..<3 { try CUDATensor.gemm(m: n, n: n, k: n, a: a, b: b, into: c) }
    try c.synchronize()
    // Samples of `reps` calls each, at least 5 ms; the median per call.
    var reps = 1
    while true {
        let t0 = now()
        for _ in 0..<reps { try CUDATensor.gemm(m: n, n: n, k: n, a: a, b: b, into: c) }
        try c.synchronize()
        if now() - t0 >= 0.005 { break }
        reps *= 2
    }
    var samples: [Double] = []
    for _ in 0..<21 {
        let t0 = now()
        for _ in 0..<reps { try CUDATensor.gemm(m: n, n: n, k: n, a: a, b: b, into: c) }
        try c.synchronize()
        samples.append((now() - t0) / Double(reps))
    }
    let median = samples.sorted()[samples.count / 2]
    let gflops = 2 * Double(n) * Double(n) * Double(n) / median / 1e9
    print("{\"name\": \"sgemm_\(n)\", \"tool\": \"equilibrium-cuda\", \"median_ns\": \(Int(median * 1e9)), \"gflops\": \(String(format: "%.1f", gflops))}")
}

do {
    let args = Array(CommandLine.arguments.dropFirst())
    switch args.first {
    case "agree":
        let rt = try CUDARuntime.shared()
        print("devices: \(rt.devices.map(\.description).joined(separator: "; "))")
        try agree()
    case "sgemm":
        let sizes = args.dropFirst().map { a -> Int in
            guard let n = Int(a), n > 0 else { fail("sgemm takes positive sizes, got '\(a)'") }
            return n
        }
        for n in sizes.isEmpty ? [4096] : sizes { try sgemm(n) }
    default:
        fail("use 'cuda-bench agree' or 'cuda-bench sgemm [N ...]'")
    }
} catch {
    fail("\(error)")
}
