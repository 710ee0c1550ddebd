import NN
import Tensors

/// A model the trainer can run over BPTT windows: token ids [T, batch] in, logits [T·batch,
/// vocabulary] out, with a recurrent state carried from one window to the next (LSTM hidden
/// states, Transformer-XL memories). The state is a list of tensors that all hold the batch on
/// ``stateBatchAxis``, so the trainer can split it for gradient accumulation and save it to resume.
public protocol LanguageModel: Module {
    /// The registry name written into checkpoints, e.g. `"lstm-lm"`.
    var modelName: String { get }
    /// The architecture as flat key/value strings (rebuilds the model from a checkpoint).
    var architecture: [String: String] { get }
    var vocabularySize: Int { get }
    /// The axis of every state tensor that indexes the batch.
    var stateBatchAxis: Int { get }
    /// The state before the first window.
    func initialState(batch: Int) -> [Tensor]
    /// Logits [T·batch, vocabulary] (time-major rows) and the state after the window.
    func callAsFunction(_ tokens: Tensor, state: [Tensor]) -> (logits: Tensor, state: [Tensor])
}

/// A model could not be built from a name and its options.
public struct ModelError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Builds models by registry name from flat string options (what configs and checkpoints hold).
public enum ModelRegistry {
    /// Every model name `--model` accepts.
    public static let names = ["lstm-lm", "deq-transformer", "deq-trellisnet", "adaptive-span", "rmc-lm", CharTransformerLM.name]

    public static func make(_ name: String, vocabularySize: Int, options: [String: String]) throws(ModelError) -> any LanguageModel {
        switch name {
        case "lstm-lm":
            let c = try LSTMLanguageModel.Configuration(vocabularySize: vocabularySize, options: options)
            return LSTMLanguageModel(c)
        case "deq-transformer":
            return try DEQTransformerLM(vocabularySize: vocabularySize, options: options)
        case "deq-trellisnet":
            return try DEQTrellisNetLM(vocabularySize: vocabularySize, options: options)
        case "adaptive-span":
            return AdaptiveSpanTransformer(try AdaptiveSpanTransformer.Configuration(vocabularySize: vocabularySize, options: options))
        case "rmc-lm":
            return RMCLanguageModel(try RMCLanguageModel.Configuration(vocabularySize: vocabularySize, options: options))
        case CharTransformerLM.name:
            return CharTransformerLM(try .init(vocabulary: vocabularySize, options: options))
        default:
            throw ModelError("unknown model \"\(name)\"; choose one of \(names.joined(separator: ", "))")
        }
    }
}
