import DEQ
import NN
import Tensors

extension DEQTrellisNetLM.Configuration {
    /// The option keys (the DEQ v1 reference's argument names, `_` written `-`).
    public static let keys = ["emsize", "nhid", "nout", "dropout", "dropouti", "dropouth", "emb-dropout", "wdrop",
                              "dropoutl", "tied"]

    /// Reads `emsize`, `nhid`, `nout`, `dropout`, `dropouti`, `dropouth` (default: `dropout`),
    /// `emb-dropout`, `wdrop` and `tied`.
    init(vocabularySize: Int, reader r: OptionReader) throws(ModelError) {
        let nout: Int? = r.options["nout"] == nil ? nil : try r.int("nout", 1)
        let dropout = try r.fraction("dropout", 0.1)
        self.init(vocabulary: vocabularySize, embeddingSize: try r.int("emsize", 200), hiddenSize: try r.int("nhid", 200),
                  outputSize: nout, dropout: dropout, inputDropout: try r.fraction("dropouti", 0),
                  hiddenDropout: try r.fraction("dropouth", dropout), embeddingDropout: try r.fraction("emb-dropout", 0),
                  weightDropout: try r.fraction("wdrop", 0), tied: try r.bool("tied", false))
        if try r.fraction("dropoutl", 0) > 0 {
            throw ModelError("deq-trellisnet: dropoutl is the reference's dropout inside a mixture of softmaxes (n_experts > 0), which this model does not have; leave it out or set it to 0")
        }
        if tied && embeddingSize != outputWidth {
            throw ModelError("deq-trellisnet: tied weights need emsize equal to the output width (nout, else nhid), got emsize \(embeddingSize) and \(outputWidth); set them equal or tied: false")
        }
    }

    var options: [String: String] {
        var o = ["emsize": "\(embeddingSize)", "nhid": "\(hiddenSize)", "dropout": "\(dropout)", "dropouti": "\(inputDropout)",
                 "dropouth": "\(hiddenDropout)", "emb-dropout": "\(embeddingDropout)", "wdrop": "\(weightDropout)", "tied": "\(tied)"]
        if let outputSize { o["nout"] = "\(outputSize)" }
        return o
    }
}

extension DEQTrellisNetLM: EquilibriumLanguageModel {
    public static let optionKeys = Configuration.keys + ["solver", "tolerance", "jac-loss-weight"]

    /// Builds the model from its ``Configuration/keys`` and the solver's options (`solver`,
    /// `tolerance`, `jac-loss-weight`).
    public convenience init(vocabularySize: Int, options: [String: String]) throws(ModelError) {
        let r = OptionReader(model: "deq-trellisnet", options: options)
        self.init(try Configuration(vocabularySize: vocabularySize, reader: r), options: try r.equilibriumOptions())
        architectureOptions = options.filter { DEQTrellisNetLM.optionKeys.contains($0.key) }
    }

    public var modelName: String { "deq-trellisnet" }
    public var architecture: [String: String] {
        architectureOptions.merging(configuration.options) { _, own in own }
    }
    public var vocabularySize: Int { configuration.vocabulary }
    public var stateBatchAxis: Int { 0 }

    /// The history [h; c] of the position before the first window: zeros [batch, 2w, 1].
    public func initialState(batch: Int) -> [Tensor] { [zeroHistory(batch: batch)] }

    /// Tokens [T, batch] to logits [T·batch, vocabulary], carrying the history between windows.
    public func callAsFunction(_ tokens: Tensor, state: [Tensor]) -> (logits: Tensor, state: [Tensor]) {
        guard state.count == 1 else {
            fail("deq-trellisnet: the state is one history tensor [batch, \(2 * configuration.stateWidth), 1], got \(state.count) tensors; start from initialState(batch:)")
        }
        let result: (output: Tensor, history: Tensor)
        do { result = try hidden(tokens.T.contiguous(), history: state[0]) } catch { fail("deq-trellisnet: \(error)") }
        let rows = outputDropout(result.output).transposed(0, 1).reshaped([-1, configuration.outputWidth])
        return (decode(rows), [result.history])
    }
}
