import Foundation
import Datasets
import Models
import NN
import Tensors

/// How a run reports its loss: perplexity for words, bits per character for characters and
/// bytes, accuracy for classification.
public enum MetricKind: String, Sendable {
    case perplexity = "ppl", bitsPerCharacter = "bpc", accuracy = "accuracy"

    public init(corpus: Corpus) { self = corpus.isCharacterLevel ? .bitsPerCharacter : .perplexity }

    /// The metric of a mean cross-entropy in nats.
    public func value(loss: Double) -> Double {
        switch self {
        case .perplexity: return exp(loss)
        case .bitsPerCharacter: return loss / log(2)
        case .accuracy: return loss
        }
    }
}

/// Evaluates a language model over a batchified split with fixed windows, carrying the state,
/// in evaluation mode and without gradients. Returns the mean loss per token (nats).
public func evaluateLanguageModel(_ model: any LanguageModel, streams: Tensor, bptt: Int,
                                  maxTokens: Int? = nil) throws -> (loss: Double, tokens: Int) {
    if let maxTokens, maxTokens < 1 {
        throw TrainingError("the token limit (--max-tokens, eval-max-tokens) must be positive, got \(maxTokens); leave it out to evaluate the whole split")
    }
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    let it = try BPTTIterator(streams: streams, bptt: bptt)
    var state = model.initialState(batch: streams.shape[1])
    var total = 0.0
    var count = 0
    withoutGradients {
        for window in it.fixedWindows() {
            let (logits, next) = model(window.input, state: state)
            let n = window.target.count
            total += tokenCrossEntropy(logits, window.target.flattened()).item * Double(n)
            count += n
            state = next
            if let maxTokens, count >= maxTokens { break }
        }
    }
    return (total / Double(max(count, 1)), count)
}
