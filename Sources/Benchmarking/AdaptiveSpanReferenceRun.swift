import Foundation
import NN
import DEQ
import Models
import Solvers
import Tensors

/// What `Benchmarks/peers/adaptive_span_reference.py` asks of our model: given the reference
/// `TransformerSeq`'s weights, two blocks of ids and the first caches (float64, in one safetensors
/// file), run both blocks as the reference's training step does and write the losses, the logits,
/// the next caches and the gradients of Σ(loss + span loss) for the script to compare.
public enum AdaptiveSpanReferenceRun {
    /// Input tensors: `param.<reference name>`, `x0`, `y0`, `x1`, `y1` ([B, M] ids),
    /// `cache.<layer>`; metadata `options` (the model's option keys as JSON). The vocabulary size
    /// is read from `param.in_emb.weight`.
    public static func run(input: URL, output: URL) throws {
        let (tensors, metadata) = try Safetensors.read(input)
        let options = try JSONDecoder().decode([String: String].self, from: Data((metadata["options"] ?? "{}").utf8))
        guard let embedding = tensors["param.in_emb.weight"] else { throw ModelError("\(input.path) has no param.in_emb.weight") }
        let model = AdaptiveSpanTransformer(try .init(vocabularySize: embedding.shape[0], options: options), dtype: .float64)
        var weights: [String: Tensor] = [:]
        for (name, t) in tensors where name.hasPrefix("param.") { weights[String(name.dropFirst(6))] = t }
        try model.load(weights)
        model.train()
        var caches = (0..<model.layers.count).map { tensors["cache.\($0)"]! }
        var results: [String: Tensor] = [:]
        var objective: Tensor?
        for block in 0..<2 {
            let (logits, next) = model.forward(tensors["x\(block)"]!, caches: caches)
            let v = model.vocabularySize
            let loss = nllLoss(logits.reshaped([-1, v]).logSoftmax(axis: -1), tensors["y\(block)"]!.flattened())
            results["loss\(block)"] = loss.detached()
            results["logits\(block)"] = logits.detached()
            let term = model.auxiliaryLoss.map { loss + $0 } ?? loss
            objective = objective.map { $0 + term } ?? term
            caches = next
        }
        for (l, c) in caches.enumerated() { results["next.\(l)"] = c }
        try objective!.backward()
        for (name, p) in model.namedParameters() {
            results["grad.\(name)"] = p.grad ?? p.zerosLike()
        }
        results["trim"] = Tensor(model.layers.map { Double($0.attn.trimLength) }, shape: [model.layers.count])
        try Safetensors.write(results, to: output)
    }
}
