import Foundation
import XCTest
import Datasets
import Models
import Tensors
import Training

/// The enwik8 and text8 presets (the reference's experiment settings) start, train 5 steps on a
/// small byte corpus made here, and save a checkpoint. Only the batch and window are shrunk so the
/// test stays short; the model is the preset's (12 layers of 512 for text8), and its adaptive
/// cache keeps the first steps cheap, as in the reference.
final class AdaptiveSpanPresetTests: XCTestCase {
    func byteCorpus(_ name: String) -> Corpus {
        var vocab = Vocabulary()
        for b in 0..<256 { vocab.add(String(format: "%02x", b)) }
        let text = Array("the quick brown fox jumps over the lazy dog. ".utf8).map(Int.init)
        let ids = (0..<60).flatMap { _ in text }
        return Corpus(name: name, tokenization: .bytes, vocabulary: vocab,
                      splits: ["train": ids, "valid": Array(ids.prefix(400)), "test": Array(ids.prefix(400))])
    }

    func testPresetsRunFiveStepsAndSave() throws {
        for name in ["enwik8", "text8"] {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eq-span-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            var c = TrainingConfiguration()
            try c.apply(try Presets.settings("adaptive-span-\(name)"), source: "adaptive-span-\(name)")
            XCTAssertEqual(c.model, "adaptive-span")
            try c.apply(["batch-size": "2", "bptt": "32", "max-step": "5", "eval-interval": "5", "eval-batch-size": "2",
                         "eval-max-tokens": "64", "final-eval-full": "false", "work-dir": dir.path], source: "test")
            let result = try Trainer(configuration: c, corpus: byteCorpus(name), say: { _ in }).run()
            XCTAssertEqual(result.step, 5)
            XCTAssertTrue(result.losses.values.allSatisfy(\.isFinite))
            let ckpt = try RunCheckpoint.read(dir.appendingPathComponent("last.safetensors"))
            XCTAssertEqual(ckpt.modelName, "adaptive-span")
            XCTAssertEqual(ckpt.architecture["attn-span"], name == "enwik8" ? "1024" : "8192")
        }
    }
}
