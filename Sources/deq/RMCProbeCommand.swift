import Benchmarking
import ArgumentParser
import Foundation
import NN
import Tensors
import Training

/// `deq rmc-probe IN OUT` (hidden): one RelationalMemory forward and backward in float64 from a
/// safetensors file, for `Benchmarks/peers/rmc_reference.py`.
///
/// `deq rmc-probe --nth-farthest SETUP OUT`: a few N-th farthest training steps of the whole
/// classifier (initial weights and batches written to SETUP, losses, gradients and parameters to
/// OUT), for `Benchmarks/peers/nth_farthest_reference.py`.
struct RMCProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rmc-probe",
        abstract: "Run RelationalMemory on weights and inputs from a safetensors file, or a few N-th farthest training steps (for the reference checks).",
        shouldDisplay: false)

    @Argument(help: "Parameters, input, memory and loss weights (written by rmc_reference.py); with --nth-farthest, where to write the initial weights and batches.") var input: String
    @Argument(help: "Where to write the outputs, final memory and gradients; with --nth-farthest, the losses, gradients and parameters.") var output: String
    @Flag(name: .customLong("nth-farthest"), help: "Run N-th farthest training steps instead of the core check.") var nthFarthest = false
    @Option(help: "N-th farthest preset: paper or small.") var preset = "paper"
    @Option(help: "float32 or float64.") var dtype = "float64"
    @Option(help: "Random seed (initial weights and batches, as deq nth-farthest draws them).") var seed: UInt64 = 0
    @Option(help: "Training steps.") var steps = 3
    @Option(help: "Examples per batch.") var batch = 64
    @Option(help: "Gradient-norm clip (default: the preset's, 0.1); lower it to make the clip act.") var clip: Double?

    func validate() throws {
        guard nthFarthest else { return }
        if steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if let clip, !(clip > 0) { throw ValidationError("--clip must be positive, got \(clip)") }
        if !["float32", "float64"].contains(dtype) { throw ValidationError("--dtype must be float32 or float64, got \(dtype)") }
    }

    func run() throws {
        guard nthFarthest else {
            return try RelationalMemoryProbe.run(reading: URL(fileURLWithPath: input), writingTo: URL(fileURLWithPath: output))
        }
        var s = try NthFarthestSettings.preset(preset)
        (s.seed, s.batchSize) = (seed, batch)
        if let clip { s.clip = clip }
        let r = try NthFarthestStepProbe.run(s, dtype: dtype == "float64" ? .float64 : .float32, steps: steps,
                                             writingSetupTo: URL(fileURLWithPath: input), resultsTo: URL(fileURLWithPath: output))
        print("N-th farthest, preset \(preset), \(dtype), seed \(seed), batch \(batch), clip \(s.clip), \(r.parameterCount) parameters, \(Threading.threadCount) threads")
        for (k, (loss, norm)) in zip(r.losses, r.gradientNorms).enumerated() {
            print("step \(k + 1): loss \(loss), gradient norm before clipping \(norm)")
        }
    }
}
