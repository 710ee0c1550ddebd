import Foundation

/// A learning rate as a function of the step number (steps count from 0).
public protocol LearningRateSchedule {
    func learningRate(at step: Int) -> Double
}

extension LearningRateSchedule {
    /// Sets the optimizer's rate for `step`.
    public func apply(to optimizer: Optimizer, step: Int) { optimizer.learningRate = learningRate(at: step) }
}

/// η₀ · γ^⌊step / stepSize⌋.
public struct StepDecay: LearningRateSchedule {
    public var base: Double, stepSize: Int, gamma: Double
    public init(base: Double, stepSize: Int, gamma: Double = 0.1) throws(NNError) {
        guard stepSize > 0 else { throw NNError("StepDecay: the step size must be positive, got \(stepSize)") }
        guard gamma.isFinite && gamma > 0 else { throw NNError("StepDecay: the decay factor gamma must be a positive number, got \(gamma)") }
        self.base = base; self.stepSize = stepSize; self.gamma = gamma
    }
    public func learningRate(at step: Int) -> Double { base * pow(gamma, Double(step / stepSize)) }
}

/// η₀ · γ^step.
public struct ExponentialDecay: LearningRateSchedule {
    public var base: Double, gamma: Double
    public init(base: Double, gamma: Double) { self.base = base; self.gamma = gamma }
    public func learningRate(at step: Int) -> Double { base * pow(gamma, Double(step)) }
}

/// η₀ · (step + 1) / warmup during warm-up, then η₀.
public struct LinearWarmup: LearningRateSchedule {
    public var base: Double, warmup: Int
    public init(base: Double, warmup: Int) throws(NNError) {
        guard warmup >= 0 else { throw NNError("LinearWarmup: the warm-up must be 0 or more steps, got \(warmup)") }
        self.base = base; self.warmup = warmup
    }
    public func learningRate(at step: Int) -> Double {
        step < warmup ? base * Double(step + 1) / Double(warmup) : base
    }
}

/// Linear warm-up to η₀, then a half cosine from η₀ down to `minimum` at `total` steps
/// (Transformer-XL's schedule): η = min + (η₀ − min)(1 + cos(π (s − w)/(T − w)))/2.
public struct CosineWithWarmup: LearningRateSchedule {
    public var base: Double, warmup: Int, total: Int, minimum: Double
    /// A `total` at or below `warmup` (a short run of a long preset, `--max-step 5`) leaves only
    /// the warm-up, and the rate stays at `minimum` after it.
    public init(base: Double, warmup: Int = 0, total: Int, minimum: Double = 0) throws(NNError) {
        guard warmup >= 0 else { throw NNError("CosineWithWarmup: the warm-up must be 0 or more steps, got \(warmup)") }
        guard total > 0 else { throw NNError("CosineWithWarmup: the total must be a positive number of steps, got \(total)") }
        self.base = base; self.warmup = warmup; self.total = total; self.minimum = minimum
    }
    public func learningRate(at step: Int) -> Double {
        if step < warmup { return base * Double(step + 1) / Double(warmup) }
        let progress = total > warmup ? Swift.min(1, Double(step - warmup) / Double(total - warmup)) : 1
        return minimum + (base - minimum) * (1 + cos(Double.pi * progress)) / 2
    }
}

/// Linear warm-up, then decay with the inverse square root of the step:
/// η₀ · (s+1)/w before w, η₀ · √(w / (s+1)) after (continuous at s + 1 = w).
public struct InverseSquareRoot: LearningRateSchedule {
    public var base: Double, warmup: Int
    public init(base: Double, warmup: Int) throws(NNError) {
        guard warmup > 0 else { throw NNError("InverseSquareRoot: the warm-up must be a positive number of steps, got \(warmup)") }
        self.base = base; self.warmup = warmup
    }
    public func learningRate(at step: Int) -> Double {
        let s = Double(step + 1), w = Double(warmup)
        return s < w ? base * s / w : base * (w / s).squareRoot()
    }
}

/// Multiplies the rate by `factor` when a monitored metric (lower is better) has not improved by
/// more than a relative `threshold` for `patience` consecutive reports; then waits `cooldown` reports.
public final class ReduceOnPlateau {
    public private(set) var learningRate: Double
    public let factor: Double, patience: Int, threshold: Double, cooldown: Int, minimum: Double
    public private(set) var best = Double.infinity
    var badReports = 0
    var cooldownLeft = 0

    public init(base: Double, factor: Double = 0.1, patience: Int = 10, threshold: Double = 1e-4,
                cooldown: Int = 0, minimum: Double = 0) throws(NNError) {
        guard factor > 0 && factor < 1 else { throw NNError("ReduceOnPlateau: the factor must be in (0, 1), got \(factor)") }
        guard patience >= 0 && cooldown >= 0 else {
            throw NNError("ReduceOnPlateau: patience and cooldown must be 0 or more reports, got \(patience) and \(cooldown)")
        }
        learningRate = base
        self.factor = factor; self.patience = patience; self.threshold = threshold
        self.cooldown = cooldown; self.minimum = minimum
    }

    /// Reports a metric value and returns the (possibly reduced) rate.
    @discardableResult
    public func report(_ metric: Double) -> Double {
        if metric < best * (1 - threshold) {
            best = metric
            badReports = 0
        } else {
            badReports += 1
        }
        if cooldownLeft > 0 {
            cooldownLeft -= 1
            badReports = 0
        }
        if badReports > patience {
            learningRate = Swift.max(learningRate * factor, minimum)
            cooldownLeft = cooldown
            badReports = 0
        }
        return learningRate
    }
}
