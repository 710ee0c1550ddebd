import NN
import Tensors

/// The DEQ-Transformer's weights under the names and layouts of the reference's
/// `DEQTransformerLM.state_dict()` (locuslab/deq, `DEQ-Sequence/models/deq_transformer.py`):
/// its 1×1 convolutions (`inject_conv`, `qkv_net`, `r_net`, `o_net`) keep a trailing kernel axis
/// of size 1, weight norm stores `weight_g`/`weight_v`, and tied tensors appear under both of
/// their names (`crit.out_layers.i.weight` is `word_emb.emb_layers.i.weight`, and a tied
/// `crit.out_projs.i.weight` is the embedding's projection), as PyTorch writes shared tensors.
extension DEQTransformerLM: ReferenceCheckpointConvertible {
    /// One reference entry and the parameter or buffer it is in ours; `convolution` marks the
    /// reference's trailing kernel axis.
    struct ReferenceName {
        let reference: String
        let ours: String
        let convolution: Bool
    }

    /// Every entry of the reference state dict but the tied duplicates, for this configuration.
    var referenceNames: [ReferenceName] {
        let c = configuration
        var names: [ReferenceName] = []
        func add(_ r: String, _ o: String, conv: Bool = false) { names.append(.init(reference: r, ours: o, convolution: conv)) }
        for i in embedding.embeddings.indices { add("word_emb.emb_layers.\(i).weight", "word_emb.emb_layers.\(i).weight") }
        for i in embedding.projections.indices { add("word_emb.emb_projs.\(i).weight", "word_emb.emb_projs.\(i).weight") }
        add("inject_conv.weight", "inject_conv.weight", conv: true)
        add("inject_conv.bias", "inject_conv.bias")
        add("pos_emb.inv_freq", "func.pos_emb.inverse_frequency")
        add("func.dec_attn.r_w_bias", "func.r_w_bias")
        add("func.dec_attn.r_r_bias", "func.r_r_bias")
        let projections: [(String, String, Bool, Bool)] = [
            ("func.dec_attn.qkv_net", "func.qkv_net", true, false), ("func.dec_attn.r_net", "func.r_net", true, false),
            ("func.dec_attn.o_net", "func.o_net", true, true),
            ("func.pos_ff.ff1_net", "func.ff1_net", false, true), ("func.pos_ff.ff2_net", "func.ff2_net", false, true),
        ]
        for (r, o, conv, bias) in projections {
            if c.weightNormed {
                add(r + ".weight_g", o + ".g", conv: conv)
                add(r + ".weight_v", o + ".v", conv: conv)
                if bias { add(r + ".bias", o + ".inner.bias") }
            } else {
                add(r + ".weight", o + ".weight", conv: conv)
                if bias { add(r + ".bias", o + ".bias") }
            }
        }
        if softmax.clusterWeight != nil {
            add("crit.cluster_weight", "crit.cluster_weight")
            add("crit.cluster_bias", "crit.cluster_bias")
        }
        for i in softmax.outWeights.indices {
            if softmax.outWeights[i] != nil { add("crit.out_layers.\(i).weight", "crit.out_layers.\(i).weight") }
            add("crit.out_layers.\(i).bias", "crit.out_layers.\(i).bias")
        }
        for i in softmax.outProjections.indices where softmax.outProjections[i] != nil {
            add("crit.out_projs.\(i).weight", "crit.out_projs.\(i).weight")
        }
        return names
    }

    /// The tied entries: the reference name of each and the reference name of the tensor it shares.
    var referenceTies: [(name: String, source: String)] {
        var ties: [(String, String)] = []
        for i in softmax.outWeights.indices where softmax.outWeights[i] == nil {
            ties.append(("crit.out_layers.\(i).weight", "word_emb.emb_layers.\(i).weight"))
        }
        for i in softmax.tiedProjections.indices where softmax.tiedProjections[i] {
            ties.append(("crit.out_projs.\(i).weight", "word_emb.emb_projs.\(configuration.divisor == 1 ? 0 : i).weight"))
        }
        return ties
    }

    public static func fromReference(stateDict: [String: Tensor], vocabularySize: Int,
                                     options: [String: String]) throws(ModelError) -> DEQTransformerLM {
        var options = options
        // What the state dict tells, it decides: weight norm, the model and embedding sizes.
        if options["wnorm"] == nil { options["wnorm"] = "\(stateDict["func.dec_attn.qkv_net.weight_v"] != nil)" }
        if options["d-model"] == nil, let w = stateDict["inject_conv.weight"] { options["d-model"] = "\(w.shape[1])" }
        if options["d-inner"] == nil, let b = stateDict["func.pos_ff.ff1_net.bias"] { options["d-inner"] = "\(b.shape[0])" }
        guard let dtype = stateDict["inject_conv.weight"]?.dtype else {
            throw ModelError("deq-transformer: the reference state dict has no inject_conv.weight; it must be the state_dict() of locuslab/deq's DEQTransformerLM")
        }
        let model = try DEQTransformerLM(vocabularySize: vocabularySize, options: options)
        model.convert(to: dtype)
        let ours = Dictionary(uniqueKeysWithValues: (model.namedParameters() + model.namedBuffers()).map { ($0.name, $0.tensor) })
        var state: [String: Tensor] = [:]
        let names = model.referenceNames
        for entry in names {
            guard let t = stateDict[entry.reference] else {
                throw ModelError("deq-transformer: the reference state dict lacks \(entry.reference), which this architecture (\(model.architectureSummary)) needs; set the options that match the checkpoint")
            }
            guard let target = ours[entry.ours] else { fatalError("deq-transformer: no parameter \(entry.ours)") }
            guard t.count == target.count, t.shape.filter({ $0 != 1 }) == target.shape.filter({ $0 != 1 }) else {
                throw ModelError("deq-transformer: the reference's \(entry.reference) is \(t.shape) but this architecture (\(model.architectureSummary)) needs \(target.shape); set the options that match the checkpoint")
            }
            state[entry.ours] = t.to(target.dtype).reshaped(target.shape)
        }
        let known = Set(names.map(\.reference) + model.referenceTies.map(\.name))
        if let extra = stateDict.keys.sorted().first(where: { !known.contains($0) }) {
            throw ModelError("deq-transformer: the reference state dict has \(extra), which this architecture (\(model.architectureSummary)) has no place for; set the options that match the checkpoint (cutoffs, div-val, d-embed, tied, tie-projs)")
        }
        for tie in model.referenceTies {
            guard let a = stateDict[tie.name], let b = stateDict[tie.source] else {
                throw ModelError("deq-transformer: the reference state dict lacks \(tie.name) or \(tie.source)")
            }
            guard a.shape == b.shape, a.toArray(Double.self) == b.toArray(Double.self) else {
                throw ModelError("deq-transformer: \(tie.name) differs from \(tie.source), so the checkpoint is not tied as this architecture is; set tied: false or tie-projs to match")
            }
        }
        do { try model.load(state) } catch {
            throw ModelError("deq-transformer: the reference weights do not load: \(error)")
        }
        return model
    }

    public func referenceStateDict() -> [String: Tensor] {
        let ours = Dictionary(uniqueKeysWithValues: (namedParameters() + namedBuffers()).map { ($0.name, $0.tensor) })
        var out: [String: Tensor] = [:]
        for entry in referenceNames {
            guard let t = ours[entry.ours] else { fatalError("deq-transformer: no parameter \(entry.ours)") }
            let d = t.detached()
            out[entry.reference] = entry.convolution ? d.reshaped(d.shape + [1]) : d
        }
        for tie in referenceTies { out[tie.name] = out[tie.source] }
        return out
    }

    /// The architecture in a line, for errors.
    var architectureSummary: String {
        let c = configuration
        return "d-model \(c.modelSize), d-inner \(c.feedForward), d-embed \(c.embeddingSize ?? c.modelSize), cutoffs \(c.cutoffs), div-val \(c.divisor), tied \(c.tied), tie-projs \(c.projectionTies), wnorm \(c.weightNormed)"
    }
}
