import Testing
import Tensors
@testable import NN

/// Gradchecks a whole module in float64: the function's inputs and every parameter are checked.
/// Parameters are swapped in through the module's visitor, so the module is used exactly as in training.
func gradcheckModule(_ module: Module, inputs: [Tensor] = [], tolerance: Double = 1e-6,
                     _ forward: ([Tensor]) -> Tensor) throws -> GradcheckReport {
    module.convert(to: .float64)
    let params = module.parameters().map { $0.detached() }
    let xs = inputs.map { $0.to(.float64) }
    let report = try gradcheck({ all in
        var i = xs.count
        module.walk(parameter: { _, t in t = all[i]; i += 1 })
        return forward(Array(all[0..<xs.count]))
    }, inputs: xs + params, tolerance: tolerance)
    // A parameter the forward pass ignored would pass trivially (both gradients zero), so check
    // that perturbing each one changes the output.
    let all = xs + params
    func run(_ values: [Tensor]) -> Tensor {
        var i = xs.count
        module.walk(parameter: { _, t in t = values[i]; i += 1 })
        return withoutGradients { forward(Array(values[0..<xs.count])) }
    }
    let base = run(all)
    for i in xs.count..<all.count {
        var moved = all
        moved[i] = all[i] + randn64(all[i].shape, seed: UInt64(100 + i)) * 0.1
        #expect(maxAbsDiff(run(moved), base) > 1e-9, "parameter \(i - xs.count) does not affect the output")
    }
    _ = run(all)
    return report
}

func randn64(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
    Tensor.randn(shape, dtype: .float64, generator: RandomGenerator(seed: seed))
}

func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Double {
    (a.to(.float64) - b.to(.float64)).abs().max().item
}
