import Foundation
import DEQ
import Models
import NN
import Solvers
import Tensors

/// The `deq bench optimizer` workload: one optimizer step over a stack of Linear layers with
/// fixed random gradients, timed fused (one kernel call per dtype, the optimizers' `step()`) and
/// per parameter (the rule applied tensor by tensor with tensor ops, as before fusion), in
/// nanoseconds per parameter. Rounds interleave the two forms and keep each one's best sample.
public enum OptimizerBenchmark {
    /// One row of the table.
    public struct Row: Sendable {
        public var optimizer: String
        public var parameters: Int
        public var fusedNsPerParameter: Double
        public var perParameterNsPerParameter: Double
    }

    /// Times Adam, AdamW and SGD with momentum on `layers` Linear(width, width) layers (float32).
    public static func run(layers: Int, width: Int, rounds: Int) throws -> [Row] {
        let net = Sequential((0..<layers).map { _ in Linear(width, width) as any Layer })
        let rng = RandomGenerator(seed: 5)
        for p in net.parameters() { p.grad = Tensor.randn(p.shape, std: 1e-2, generator: rng) }
        let count = net.parameterCount()
        let optimizers: [(String, Optimizer)] = [
            ("adam", try Adam(net, learningRate: 1e-4)),
            ("adamw", try AdamW(net, learningRate: 1e-4)),
            ("sgd-momentum", try SGD(net, learningRate: 1e-4, momentum: 0.9)),
        ]
        var rows: [Row] = []
        for (name, optimizer) in optimizers {
            var fused = Double.infinity, single = Double.infinity
            optimizer.step()   // warm-up: creates the state
            for _ in 0..<rounds {
                fused = Swift.min(fused, seconds { optimizer.step() })
                single = Swift.min(single, seconds { perParameterStep(optimizer) })
            }
            rows.append(Row(optimizer: name, parameters: count, fusedNsPerParameter: fused * 1e9 / Double(count),
                            perParameterNsPerParameter: single * 1e9 / Double(count)))
        }
        return rows
    }

    /// The step as the unfused rule takes it: ``Optimizer/update(name:parameter:gradient:)`` per tensor.
    static func perParameterStep(_ optimizer: Optimizer) {
        optimizer.stepCount += 1
        withoutGradients {
            for (name, p) in optimizer.model.namedParameters() {
                guard p.requiresGrad, let g = p.grad else { continue }
                optimizer.update(name: name, parameter: p, gradient: g.detached())
            }
        }
    }

    private static func seconds(_ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
}
