import Foundation

/// What a model of the zoo will hold, computed from its options before anything is allocated, so
/// that a size typed by mistake (`--nhid 1000000`) is refused naming the flag instead of filling
/// the machine's memory.
///
/// Both figures are lower bounds: they count the terms that grow with the sizes (embedding and
/// decoder matrices, projections, recurrent and feed-forward weights) and leave out biases, norms
/// and other small terms. `ModelSizeEstimateTests` checks that each model's real parameter count
/// lies between the estimate and three times it.
public struct ModelSizeEstimate: Sendable, Equatable {
    /// A lower bound of the parameter count.
    public var parameters: Double
    /// A lower bound of the values one token of a training window keeps for the backward pass
    /// (the logits are counted apart: they depend on the vocabulary, not the model).
    public var activationsPerToken: Double
}

extension ModelRegistry {
    /// The size of the model `name` with these options, without building it; the options are
    /// checked as ``make(_:vocabularySize:options:)`` checks them.
    public static func estimate(_ name: String, vocabularySize: Int, options: [String: String]) throws(ModelError) -> ModelSizeEstimate {
        let v = Double(vocabularySize)
        switch name {
        case "lstm-lm":
            let c = try LSTMLanguageModel.Configuration(vocabularySize: vocabularySize, options: options)
            let (e, h, l) = (Double(c.embeddingSize), Double(c.hiddenSize), Double(c.layers))
            let recurrent = 4 * h * (e + h) + (l - 1) * 4 * h * (2 * h)
            return .init(parameters: v * e + recurrent + (c.tied ? 0 : v * h), activationsPerToken: e + l * 6 * h)
        case "deq-transformer":
            let c = try DEQTransformerLM.configuration(vocabularySize: vocabularySize, options: options)
            let (d, ff) = (Double(c.modelSize), Double(c.feedForward))
            let e = Double(c.embeddingSize ?? c.modelSize)
            let bounds = [0] + c.cutoffs + [vocabularySize]
            let embedding = (0..<(bounds.count - 1)).map { i in
                Double(bounds[i + 1] - bounds[i]) * max(1, (e / pow(Double(c.divisor), Double(i))).rounded(.down))
            }.reduce(0, +)
            let block = 4 * d * d + 2 * d * ff
            return .init(parameters: embedding * (c.tied ? 1 : 2) + block, activationsPerToken: 6 * d + ff)
        case "deq-trellisnet":
            let c = try DEQTrellisNetLM.Configuration(vocabularySize: vocabularySize, reader: OptionReader(model: name, options: options))
            let (e, w, out) = (Double(c.embeddingSize), Double(c.hiddenSize + (c.outputSize ?? 0)), Double(c.outputWidth))
            return .init(parameters: v * e + 2 * (e + w) * 4 * w + (c.tied ? 0 : v * out), activationsPerToken: e + 5 * w)
        case "adaptive-span":
            let c = try AdaptiveSpanTransformer.Configuration(vocabularySize: vocabularySize, options: options)
            let (d, inner, l) = (Double(c.hiddenSize), Double(c.innerHiddenSize), Double(c.layers))
            return .init(parameters: v * d + l * (4 * d * d + 2 * d * inner), activationsPerToken: l * (6 * d + inner))
        case "rmc-lm":
            let c = try RMCLanguageModel.Configuration(vocabularySize: vocabularySize, options: options)
            let memory = Double(c.headSize * c.heads), slots = Double(c.memorySlots)
            let attention = memory * Double(c.heads) * Double(2 * c.keySize + c.headSize) + memory * memory
            return .init(parameters: v * Double(c.embeddingSize) + Double(c.embeddingSize) * memory + attention,
                         activationsPerToken: Double(c.blocks) * slots * memory * Double(c.attentionMLPLayers + 4))
        case CharTransformerLM.name:
            let c = try CharTransformerLM.Configuration(vocabulary: vocabularySize, options: options)
            let (d, ff, l) = (Double(c.modelSize), Double(c.feedForward), Double(c.layers))
            return .init(parameters: v * d + l * (4 * d * d + 2 * d * ff), activationsPerToken: l * (6 * d + ff))
        default:
            _ = try make(name, vocabularySize: vocabularySize, options: options)   // the unknown-name error
            return .init(parameters: 0, activationsPerToken: 0)
        }
    }
}
