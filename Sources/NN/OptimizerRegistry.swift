/// The optimizers a configuration names, declared once: a flag or config value is checked
/// against ``names`` and built by ``make(_:model:settings:)`` from the same table.
public enum OptimizerRegistry {
    /// What a configuration sets for any optimizer (each reads the fields it has).
    public struct Settings: Sendable {
        public var learningRate: Double
        public var momentum = 0.0
        public var weightDecay = 0.0
        public init(learningRate: Double, momentum: Double = 0, weightDecay: Double = 0) {
            (self.learningRate, self.momentum, self.weightDecay) = (learningRate, momentum, weightDecay)
        }
    }

    public typealias Maker = @Sendable (Module, Settings) throws(NNError) -> Optimizer

    /// Name → constructor, in the order help texts list them.
    public static let makers: [(name: String, make: Maker)] = [
        ("sgd", { m, s throws(NNError) in try SGD(m, learningRate: s.learningRate, momentum: s.momentum, weightDecay: s.weightDecay) }),
        ("adam", { m, s throws(NNError) in try Adam(m, learningRate: s.learningRate, weightDecay: s.weightDecay) }),
        ("adamw", { m, s throws(NNError) in try AdamW(m, learningRate: s.learningRate, weightDecay: s.weightDecay) }),
        ("radam", { m, s throws(NNError) in try RAdam(m, learningRate: s.learningRate, weightDecay: s.weightDecay) }),
        ("adagrad", { m, s throws(NNError) in try Adagrad(m, learningRate: s.learningRate, weightDecay: s.weightDecay) }),
    ]

    public static var names: [String] { makers.map(\.name) }

    /// The optimizer `name` over `model`'s parameters; an unknown name is an error listing the known ones.
    public static func make(_ name: String, model: Module, settings: Settings) throws(NNError) -> Optimizer {
        guard let maker = makers.first(where: { $0.name == name }) else {
            throw NNError("unknown optimizer \"\(name)\"; choose one of \(names.joined(separator: ", "))")
        }
        return try maker.make(model, settings)
    }
}
