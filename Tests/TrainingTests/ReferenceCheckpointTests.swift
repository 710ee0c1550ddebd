import Foundation
import Testing
import Datasets
import Models
import NN
import Tensors
@testable import Training

/// DEQ-TrellisNet against a state dict and losses made by the DEQ v1 reference code
/// (NNTests/Fixtures/make_trellisnet_reference_fixture.py): import, the history carried between
/// windows, export, and the reference vocabulary order.
@Suite(.serialized) struct ReferenceCheckpointTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("NNTests/Fixtures")

    struct Expected: Decodable { var tokens: [[Int64]]; var losses: [Double] }

    func imported() throws -> (DEQTrellisNetLM, Expected) {
        let sd = try TorchCheckpoint.read(Self.fixtures.appendingPathComponent("deq_trellisnet_reference.pt"))
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("deq_trellisnet_reference.json")))
        let model = try DEQTrellisNetLM.fromReference(stateDict: sd, vocabularySize: 11,
                                                      options: ["solver": "anderson", "tolerance": "1e-14", "dropout": "0"])
        try model.configureSolvers(forwardIterations: 300, backwardIterations: 300)
        model.eval()
        return (model, expected)
    }

    @Test func importedReferenceGivesTheReferenceLossWithHistoryCarried() throws {
        let (model, expected) = try imported()
        #expect(model.configuration.tied && model.configuration.outputSize == 3 && model.configuration.hiddenSize == 2)
        #expect(model.dtype == .float64)
        let tokens = Tensor(expected.tokens.flatMap { $0 }, shape: [9, 2])
        var state = model.initialState(batch: 2)
        for (k, start) in [0, 4].enumerated() {
            let (logits, next) = withoutGradients { model(tokens.narrow(0, start: start, length: 4), state: state) }
            let loss = crossEntropy(logits, tokens.narrow(0, start: start + 1, length: 4).flattened()).item
            #expect(abs(loss - expected.losses[k]) / expected.losses[k] < 1e-10, "window \(k): \(loss) vs the reference's \(expected.losses[k])")
            state = next
        }
    }

    @Test func exportGivesBackTheReferenceStateDict() throws {
        let (model, _) = try imported()
        let reference = try TorchCheckpoint.read(Self.fixtures.appendingPathComponent("deq_trellisnet_reference.pt"))
        let exported = model.referenceStateDict()
        #expect(Set(exported.keys) == Set(reference.keys))
        // Every weight comes back as it was; the two biases come back as their sum.
        for (k, t) in reference where !k.hasSuffix("bias") && !k.contains("func_copy") {
            let diff = (exported[k]! - t).abs().max().item
            #expect(diff < 1e-15, "\(k)")
        }
        let sum = reference["trellisnet.inject_conv.bias"]! + reference["trellisnet.func.full_conv.bias"]!
        #expect((exported["trellisnet.inject_conv.bias"]! - sum).abs().max().item < 1e-15)
        let back = try DEQTrellisNetLM.fromReference(stateDict: exported, vocabularySize: 11, options: [:])
        for (k, t) in model.stateDict() { #expect(back.stateDict()[k]!.scalars == t.scalars, "\(k)") }
    }

    @Test func conversionErrorsNameTheProblem() throws {
        let sd = try TorchCheckpoint.read(Self.fixtures.appendingPathComponent("deq_trellisnet_reference.pt"))
        #expect(throws: ModelError.self) { _ = try DEQTrellisNetLM.fromReference(stateDict: sd, vocabularySize: 12, options: [:]) }
        do { _ = try DEQTrellisNetLM.fromReference(stateDict: sd, vocabularySize: 11, options: ["nout": "4"]) } catch {
            #expect(error.message.contains("nout"))
        }
        do { _ = try DEQTrellisNetLM.fromReference(stateDict: sd, vocabularySize: 11, options: ["heads": "4"]) } catch {
            #expect(error.message.contains("unknown option heads"))
        }
        #expect(throws: ModelError.self) { _ = try ReferenceModels.type(named: "lstm-lm") }
    }

    @Test func referenceVocabularyOrderAndReindexing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("refvocab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("ptb"), withIntermediateDirectories: true)
        try " a b N b\n c b a\n".write(to: dir.appendingPathComponent("ptb/valid.txt"), atomically: true, encoding: .utf8)
        try " c c d\n".write(to: dir.appendingPathComponent("ptb/test.txt"), atomically: true, encoding: .utf8)
        let (vocab, counted) = try Vocabulary.referenceOrder(.ptb, in: dir)
        // <eos> first; then by count (b 3, c 3: b seen first; a 2; N 1, d 1 in order of appearance).
        #expect(vocab.symbols == ["<eos>", "b", "c", "a", "N", "d"])
        #expect(counted == ["valid", "test"])
        let corpus = try Corpus.load(.ptb, from: dir)
        let reindexed = try corpus.reindexed(to: vocab)
        #expect(reindexed.splits["test"]! == [2, 2, 5, 0])
        #expect(throws: DatasetError.self) { _ = try corpus.reindexed(to: Vocabulary(symbols: ["<eos>", "b"])) }
    }
}
