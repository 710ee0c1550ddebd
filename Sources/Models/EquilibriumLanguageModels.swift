import DEQ
import Foundation
import NN
import Solvers
import Tensors

/// A language model whose depth is an equilibrium: the trainer sets its solver limits from
/// `--f-thres` / `--b-thres`, switches it to shallow unrolled pre-training for the first
/// `--pretrain-steps` steps, adds its Jacobian regularisation to the loss and logs its solver
/// statistics.
public protocol EquilibriumLanguageModel: LanguageModel {
    var deq: DEQLayer { get }
}

extension EquilibriumLanguageModel {
    /// Forward and backward iteration limits (the reference's f_thres and b_thres).
    /// Limits below one iteration are refused with an error naming f_thres / b_thres.
    public func configureSolvers(forwardIterations: Int, backwardIterations: Int) throws(ModelError) {
        try checkIterations(forwardIterations, "f-thres (forward solver iterations)")
        try checkIterations(backwardIterations, "b-thres (backward solver iterations)")
        deq.options.forwardIterations = forwardIterations
        if case .implicit(let solver, _, let tolerance) = deq.options.backward {
            deq.options.backward = .implicit(solver: solver, iterations: backwardIterations, tolerance: tolerance)
        }
    }

    /// Sets the forward solver's iteration limit for evaluation (a sweep over f_thres) and leaves
    /// any unrolled pre-training.
    public func setInferenceIterations(_ forwardIterations: Int) throws(ModelError) {
        try checkIterations(forwardIterations, "f-thres (forward solver iterations)")
        deq.options.forwardIterations = forwardIterations
        deq.options.unrolledSteps = nil
    }

    func checkIterations(_ n: Int, _ what: String) throws(ModelError) {
        guard n >= 1 else { throw ModelError("\(modelName): \(what) must be at least 1, got \(n)") }
    }

    /// Shallow pre-training: `depth` unrolled applications of the cell instead of the solve
    /// (nil returns to the equilibrium).
    public func setPretraining(depth: Int?) { deq.options.unrolledSteps = depth }

    /// The weighted Jacobian regularisation term of the latest forward, if any.
    public var auxiliaryLoss: Tensor? { deq.jacobianLoss }
}

/// Parses the flat string options shared by the DEQ models.
struct OptionReader {
    let model: String
    let options: [String: String]

    func int(_ key: String, _ fallback: Int) throws(ModelError) -> Int {
        guard let s = options[key] else { return fallback }
        guard let v = Int(s), v > 0 else { throw ModelError("\(model): \(key) must be a positive integer, got \"\(s)\"") }
        return v
    }

    func count(_ key: String, _ fallback: Int) throws(ModelError) -> Int {
        guard let s = options[key] else { return fallback }
        guard let v = Int(s), v >= 0 else { throw ModelError("\(model): \(key) must be a non-negative integer, got \"\(s)\"") }
        return v
    }

    func fraction(_ key: String, _ fallback: Double) throws(ModelError) -> Double {
        guard let s = options[key] else { return fallback }
        guard let v = Double(s), v >= 0, v < 1 else { throw ModelError("\(model): \(key) must be in [0, 1), got \"\(s)\"") }
        return v
    }

    func number(_ key: String, _ fallback: Double) throws(ModelError) -> Double {
        guard let s = options[key] else { return fallback }
        guard let v = Double(s), v.isFinite, v >= 0 else { throw ModelError("\(model): \(key) must be a non-negative number, got \"\(s)\"") }
        return v
    }

    /// Any finite number (a bias).
    func real(_ key: String, _ fallback: Double) throws(ModelError) -> Double {
        guard let s = options[key] else { return fallback }
        guard let v = Double(s), v.isFinite else { throw ModelError("\(model): \(key) must be a number, got \"\(s)\"") }
        return v
    }

    func list(_ key: String, _ fallback: [Int]) throws(ModelError) -> [Int] {
        guard let s = options[key] else { return fallback }
        if s.isEmpty || s == "none" { return [] }
        let parts = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.allSatisfy({ $0 != nil && $0! > 0 }) else {
            throw ModelError("\(model): \(key) must be comma-separated positive integers like 2000,10000, got \"\(s)\"")
        }
        return parts.map { $0! }
    }

    func bool(_ key: String, _ fallback: Bool) throws(ModelError) -> Bool {
        guard let s = options[key] else { return fallback }
        guard let v = Bool(s) else { throw ModelError("\(model): \(key) must be true or false, got \"\(s)\"") }
        return v
    }

    /// The solver options every DEQ model reads: `solver`, `tolerance`, `jac-loss-weight`.
    func equilibriumOptions() throws(ModelError) -> DEQOptions {
        .languageModel(solver: try solver("solver"), tolerance: try number("tolerance", 1e-3),
                       jacobianWeight: try number("jac-loss-weight", 0))
    }

    func solver(_ key: String) throws(ModelError) -> SolverChoice {
        guard let s = options[key] else { return .anderson }
        guard let v = SolverChoice(rawValue: s) else {
            throw ModelError("\(model): \(key) must be one of anderson, broyden, fixed-point, got \"\(s)\"")
        }
        return v
    }
}

/// The solver a DEQ model's options name (`solver`: anderson, broyden, fixed-point).
enum SolverChoice: String {
    case anderson, broyden, fixedPoint = "fixed-point"

    var method: SolverMethod {
        switch self {
        case .anderson: return .anderson(window: 5)
        case .broyden: return .broyden()
        case .fixedPoint: return .fixedPoint(damping: 0.5)
        }
    }
}

extension DEQOptions {
    /// The training options of the zoo's DEQ models: relative stopping (the reference's default
    /// stop mode), implicit backward with the same solver, and no error on non-convergence (the
    /// statistics record it; the trainer logs them).
    static func languageModel(solver: SolverChoice, tolerance: Double, jacobianWeight: Double) -> DEQOptions {
        DEQOptions(forwardSolver: solver.method, forwardIterations: 30, forwardTolerance: tolerance,
                   stopMode: .relative, backward: .implicit(solver: solver.method, iterations: 40, tolerance: tolerance),
                   jacobianRegularization: jacobianWeight, onFailure: .ignore)
    }
}
