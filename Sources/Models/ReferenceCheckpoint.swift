import NN
import Tensors

/// A zoo model that has an authors' PyTorch reference implementation: its weights convert to and
/// from the reference's state dict (parameter names and layouts exactly as the authors' code has
/// them), for `deq import` / `deq export`.
public protocol ReferenceCheckpointConvertible: LanguageModel {
    /// Builds the model from a reference state dict. `options` carries the architecture settings a
    /// state dict cannot tell (heads, memory length, dropout, ...); the model's `architecture`
    /// records them all.
    static func fromReference(stateDict: [String: Tensor], vocabularySize: Int,
                              options: [String: String]) throws(ModelError) -> Self
    /// The reference state dict of this model's current weights.
    func referenceStateDict() -> [String: Tensor]
}
