import Datasets
import Models
import NN
import Tensors

/// The copy-memory task for the zoo's sequence models: which models it trains and at what sizes,
/// the batches, the loss and the accuracy on the copied symbols (what `deq copy-memory` reports).
public struct CopyMemoryTask: Sendable {
    public var length: Int
    public var delay: Int
    public var alphabet: Int
    /// Blank, the symbols and the delimiter.
    public var classes: Int { alphabet + 2 }
    public var sequenceLength: Int { 2 * length + delay }

    public init(length: Int, delay: Int, alphabet: Int) {
        (self.length, self.delay, self.alphabet) = (length, delay, alphabet)
    }

    /// The models the task trains, with their sizes for it (small: the task needs memory, not width).
    public static let modelOptions: [String: [String: String]] = [
        "deq-transformer": ["d-model": "64", "n-head": "4", "d-inner": "128", "cutoffs": "none", "dropout": "0", "mem-len": "1"],
        "deq-trellisnet": ["emsize": "32", "nhid": "64", "dropout": "0"],
        "lstm-lm": ["emsize": "32", "nhid": "64", "nlayers": "1", "dropout": "0"],
    ]

    /// Forward solver iterations for an equilibrium model: 20, and for the TrellisNet the sequence
    /// length plus 10 (its kernel-2 convolution moves information one position per iteration).
    public func defaultForwardIterations(model: String) -> Int {
        model == "deq-trellisnet" ? length + delay + 10 : 20
    }

    /// The model `name` at the task's sizes, its solvers limited to the given iterations.
    public func makeModel(_ name: String, forwardIterations: Int? = nil, backwardIterations: Int? = nil) throws -> any LanguageModel {
        guard let options = Self.modelOptions[name] else {
            throw ConfigurationError("unknown --model \(name) for copy memory; choose \(Self.modelOptions.keys.sorted().joined(separator: ", "))")
        }
        let net = try ModelRegistry.make(name, vocabularySize: classes, options: options)
        let forward = forwardIterations ?? defaultForwardIterations(model: name)
        try (net as? any EquilibriumLanguageModel)?.configureSolvers(forwardIterations: forward, backwardIterations: backwardIterations ?? forward)
        return net
    }

    public func batch(_ n: Int, generator: RandomGenerator) throws(DatasetError) -> SyntheticTask.Batch {
        try SyntheticTask.copyMemory(batch: n, length: length, delay: delay, alphabet: alphabet, generator: generator)
    }

    /// Cross entropy over every position (the blanks included, as the task is usually scored).
    public func loss(_ net: any LanguageModel, _ batch: SyntheticTask.Batch) -> Tensor {
        let (logits, _) = net(batch.input, state: net.initialState(batch: batch.input.shape[1]))
        return crossEntropy(logits, batch.target.flattened())
    }

    /// Accuracy of the argmax prediction on the last `length` positions (the copied symbols).
    public func accuracy(_ net: any LanguageModel, _ batch: SyntheticTask.Batch) -> Double {
        let wasTraining = net.isTraining
        net.eval()
        defer { net.train(wasTraining) }
        let (logits, _) = withoutGradients { net(batch.input, state: net.initialState(batch: batch.input.shape[1])) }
        let total = batch.input.shape[0], b = batch.input.shape[1]
        let predicted = logits.argmax(axis: 1).reshaped([total, b]).sliced(0, total - length)
        let expected = batch.target.sliced(0, total - length)
        return (predicted .== expected).to(.float64).mean().item
    }
}
