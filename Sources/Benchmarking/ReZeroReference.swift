import NN
import DEQ
import Models
import Solvers
import Tensors

/// Runs our `RZTXEncoderLayer` or `RZTXDecoderLayer` on weights and inputs handed over in a
/// safetensors file, for the peer check `Benchmarks/peers/rezero_reference.py` (which builds the
/// layers of `rezero.transformer` in float64 and compares their outputs with ours).
///
/// The file holds `layer.<name>` (our parameter names), `input.<name>` (`src`, or `tgt` and
/// `memory`, and any of the masks `src_mask`, `src_key_padding_mask`, `tgt_mask`, `memory_mask`,
/// `tgt_key_padding_mask`, `memory_key_padding_mask`, batch first) and the metadata `layer`
/// (`encoder` | `decoder`), `d_model`, `nhead`, `dim_feedforward`, `activation`.
/// The result is `output` [B, T, d], evaluated without dropout.
public enum ReZeroReference {
    public static func evaluate(tensors: [String: Tensor], metadata: [String: String]) throws(ModelError) -> Tensor {
        func integer(_ key: String) throws(ModelError) -> Int {
            guard let v = metadata[key].flatMap(Int.init), v > 0 else {
                throw ModelError("the reference file's metadata needs a positive integer \"\(key)\", got \(metadata[key] ?? "nothing")")
            }
            return v
        }
        let (d, heads, ff) = (try integer("d_model"), try integer("nhead"), try integer("dim_feedforward"))
        guard let activation = FeedForwardActivation(rawValue: metadata["activation"] ?? "relu") else {
            throw ModelError("activation \"\(metadata["activation"] ?? "")\" in the reference file is not relu or gelu")
        }
        var weights: [String: Tensor] = [:], inputs: [String: Tensor] = [:]
        for (name, t) in tensors {
            if name.hasPrefix("layer.") { weights[String(name.dropFirst(6))] = t }
            if name.hasPrefix("input.") { inputs[String(name.dropFirst(6))] = t }
        }
        func input(_ name: String) throws(ModelError) -> Tensor {
            guard let t = inputs[name] else { throw ModelError("the reference file lacks input.\(name)") }
            return t
        }
        let dtype = weights.values.first?.dtype ?? .float64
        switch metadata["layer"] {
        case "encoder":
            let layer = RZTXEncoderLayer(d, heads: heads, feedForward: ff, dropout: 0, activation: activation, dtype: dtype)
            try load(layer, weights)
            layer.eval()
            return layer(try input("src"), mask: inputs["src_mask"], keyPaddingMask: inputs["src_key_padding_mask"])
        case "decoder":
            let layer = RZTXDecoderLayer(d, heads: heads, feedForward: ff, dropout: 0, activation: activation, dtype: dtype)
            try load(layer, weights)
            layer.eval()
            return layer(try input("tgt"), memory: try input("memory"), targetMask: inputs["tgt_mask"],
                         memoryMask: inputs["memory_mask"], targetKeyPaddingMask: inputs["tgt_key_padding_mask"],
                         memoryKeyPaddingMask: inputs["memory_key_padding_mask"])
        default:
            throw ModelError("the reference file's metadata \"layer\" must be encoder or decoder, got \(metadata["layer"] ?? "nothing")")
        }
    }

    private static func load(_ layer: Module, _ weights: [String: Tensor]) throws(ModelError) {
        do { try layer.load(weights) } catch { throw ModelError("the reference weights do not fit the layer: \(error.message)") }
    }
}
