import NN
import Tensors

/// DEQ-TrellisNet ⇄ the DEQ v1 reference's `DEQTrellisNetLM` state dict (locuslab/deq, first
/// commit, `models/trellisnets/deq_trellisnet.py`, weight-normalised as its default `wnorm=True`).
///
/// | reference | here |
/// | --- | --- |
/// | `encoder.weight` | `embedding.weight` |
/// | `decoder.weight` (tied: equal to `encoder.weight`), `decoder.bias` | `decoder.weight` (untied only), `decoder.bias` |
/// | `trellisnet.inject_conv.weight_g` / `weight_v` / `bias` | `injection.g` / `v` / `inner.bias` (+ the conv bias) |
/// | `trellisnet.func.full_conv.weight_g` / `weight_v` / `bias` | `convolution.g` / `v` (bias folded into the injection's) |
///
/// - Gate blocks (axis 0 of every weight and bias) are [i, o, g, f] there and [i, f, o, g] here.
/// - The reference adds the convolution's bias and the injection's at every position, so here their
///   sum is the injection's bias; an export writes it there and zeros as the convolution's bias.
/// - The reference also saves `func` again under `trellisnet.deq.` and `trellisnet.deqback.`
///   (the same module) and `func_copy` (a detached copy the backward pass uses, recomputed from
///   `func` at every forward); those are read from `func` and written from it.
/// - With `wdrop` > 0 the reference wraps the network in `WeightDrop`: keys gain `trellisnet.module.`
///   and `weight_v` becomes `weight_v_raw`. A reference trained with `wnorm=False` has plain
///   `weight`s, imported as g = ‖w‖, v = w.
extension DEQTrellisNetLM: ReferenceCheckpointConvertible {
    /// Our gate block k is the reference's block `fromReference[k]`, and vice versa.
    static let gatesFromReference = [0, 3, 1, 2]
    static let gatesToReference = [0, 2, 3, 1]

    static func permuteGates(_ t: Tensor, _ order: [Int]) -> Tensor {
        let blocks = t.chunked(4, axis: 0)
        return Tensor.concat(order.map { blocks[$0] }, axis: 0)
    }

    /// The options a state dict decides: they may be given only with the values it implies.
    static let stateDictKeys = ["emsize", "nhid", "nout"]

    public static func fromReference(stateDict sd: [String: Tensor], vocabularySize: Int,
                                     options: [String: String]) throws(ModelError) -> DEQTrellisNetLM {
        let unknown = options.keys.filter { !optionKeys.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw ModelError("deq-trellisnet: unknown option \(unknown.joined(separator: ", ")); options are \(optionKeys.joined(separator: ", "))")
        }
        if sd.keys.contains(where: { $0.hasPrefix("mixsoft.") }) {
            throw ModelError("deq-trellisnet: the reference state dict has a mixture of softmaxes (mixsoft.*, n_experts > 0), which this model does not have")
        }
        let net = sd["trellisnet.module.inject_conv.bias"] != nil ? "trellisnet.module." : "trellisnet."
        func get(_ name: String) throws(ModelError) -> Tensor {
            guard let t = sd[name] else {
                throw ModelError("deq-trellisnet: the reference state dict lacks \(name); it is not a DEQ v1 DEQTrellisNetLM state dict (keys: \(sd.keys.sorted().prefix(8).joined(separator: ", "))…)")
            }
            return t.detached()
        }
        /// (g, v) of a weight-normalised convolution, or of a plain one (g = ‖w‖, v = w).
        func normalised(_ layer: String) throws(ModelError) -> (g: Tensor, v: Tensor) {
            if let v = sd[net + layer + ".weight_v"] ?? sd[net + layer + ".weight_v_raw"] {
                return (try get(net + layer + ".weight_g"), v.detached())
            }
            let w = try get(net + layer + ".weight")
            return (w.square().sum(axes: [1, 2], keepDim: true).sqrt(), w)
        }
        let encoder = try get("encoder.weight"), decoderWeight = try get("decoder.weight"), decoderBias = try get("decoder.bias")
        let injection = try normalised("inject_conv"), convolution = try normalised("func.full_conv")
        let injectionBias = try get(net + "inject_conv.bias"), convolutionBias = try get(net + "func.full_conv.bias")
        guard encoder.rank == 2, encoder.shape[0] == vocabularySize else {
            throw ModelError("deq-trellisnet: the reference's encoder.weight is \(encoder.shape) but the vocabulary has \(vocabularySize) symbols; pass the corpus the reference model was trained with")
        }
        let width = convolution.v.shape[1], nout = decoderWeight.shape[1]
        guard convolution.v.rank == 3, convolution.v.shape[2] == 2, injection.v.shape[2] == 2 else {
            throw ModelError("deq-trellisnet: the reference's convolutions have kernel size \(convolution.v.shape.last ?? 0); only ksize 2 (the reference's default) is supported")
        }
        guard width > nout else {
            throw ModelError("deq-trellisnet: the reference's state width \(width) must exceed nout \(nout) (it is nhid + nout)")
        }
        let derived = ["emsize": "\(encoder.shape[1])", "nhid": "\(width - nout)", "nout": "\(nout)"]
        for key in stateDictKeys {
            if let given = options[key], given != derived[key] {
                throw ModelError("deq-trellisnet: \(key) \(given) was given but the reference state dict has \(key) \(derived[key]!); leave it out")
            }
        }
        var all = options.merging(derived) { _, d in d }
        let sameMatrix = decoderWeight.shape == encoder.shape && decoderWeight.scalars == encoder.scalars
        if all["tied"] == nil { all["tied"] = "\(sameMatrix)" }
        if all["tied"] == "true" && !sameMatrix {
            throw ModelError("deq-trellisnet: tied: true was given but the reference's decoder.weight differs from encoder.weight; leave tied out or set it to false")
        }
        let model = try DEQTrellisNetLM(vocabularySize: vocabularySize, options: all)
        model.convert(to: encoder.dtype)
        var ours: [String: Tensor] = [
            "embedding.weight": encoder,
            "injection.g": permuteGates(injection.g, gatesFromReference),
            "injection.v": permuteGates(injection.v, gatesFromReference),
            "injection.inner.bias": permuteGates(injectionBias + convolutionBias, gatesFromReference),
            "convolution.g": permuteGates(convolution.g, gatesFromReference),
            "convolution.v": permuteGates(convolution.v, gatesFromReference),
            "decoder.bias": decoderBias,
        ]
        if !model.configuration.tied { ours["decoder.weight"] = decoderWeight }
        do { try model.load(ours) } catch {
            throw ModelError("deq-trellisnet: the reference weights do not fit the model built from them: \(error.message)")
        }
        return model
    }

    public func referenceStateDict() -> [String: Tensor] {
        let order = Self.gatesToReference
        let net = configuration.weightDropout > 0 ? "trellisnet.module." : "trellisnet."
        let direction = configuration.weightDropout > 0 ? "weight_v_raw" : "weight_v"
        let injectionBias = injection.inner.bias!.detached()
        let zeros = injectionBias.zerosLike()
        let convolutionWeight = convolution.g * convolution.v / convolution.v.square().sum(axes: [1, 2], keepDim: true).sqrt()
        var sd: [String: Tensor] = [
            "encoder.weight": embedding.weight,
            "decoder.weight": configuration.tied ? embedding.weight : decoder.weight,
            "decoder.bias": decoder.bias!,
            net + "inject_conv.bias": Self.permuteGates(injectionBias, order),
            net + "inject_conv.weight_g": Self.permuteGates(injection.g, order),
            net + "inject_conv." + direction: Self.permuteGates(injection.v, order),
        ]
        for function in ["func", "deq.func", "deqback.func"] {
            sd[net + function + ".full_conv.bias"] = zeros
            sd[net + function + ".full_conv.weight_g"] = Self.permuteGates(convolution.g, order)
            sd[net + function + ".full_conv." + direction] = Self.permuteGates(convolution.v, order)
        }
        for copy in ["func_copy", "deqback.func_copy"] {
            sd[net + copy + ".full_conv.weight"] = Self.permuteGates(convolutionWeight, order)
            sd[net + copy + ".full_conv.bias"] = zeros
        }
        return sd.mapValues { $0.detached().contiguous() }
    }
}
