import XCTest
import Models
import NN
import Tensors

final class AdaptiveSpanTests: XCTestCase {
    func testGradcheckWithTrimmedSpans() throws {
        let report = try AdaptiveSpanTransformer.gradcheckTiny()
        XCTAssertTrue(report.passed, "\(report)")
        XCTAssertTrue(report.entries.contains { $0.name.hasSuffix("adaptive_span._mask.current_val") })
    }

    func testGradcheckWithPersistentMemory() throws {
        let report = try AdaptiveSpanTransformer.gradcheckTiny(persistentMemory: 4)
        XCTAssertTrue(report.passed, "\(report)")
        XCTAssertTrue(report.entries.contains { $0.name.hasSuffix("persistent_memory.key") })
    }

    /// Short learned spans trim the keys and shrink the cache the next block keeps.
    func testShortSpansTrimKeysAndCache() {
        var c = AdaptiveSpanTransformer.Configuration(vocabularySize: 5)
        c.hiddenSize = 8; c.innerHiddenSize = 8; c.layers = 1; c.heads = 2; c.span = 256; c.ramp = 32
        let model = AdaptiveSpanTransformer(c)
        XCTAssertEqual(model.layers[0].attn.trimLength, 192)   // z = 0: span = ramp = 32 → 256 − 32 → 192
        XCTAssertEqual(model.layers[0].attn.cacheSize, 128)    // 256 − 192 + 64 of slack
        model.layers[0].attn.adaptiveSpan!.ratio.assign(Tensor.full([2, 1, 1], 1))
        XCTAssertEqual(model.layers[0].attn.trimLength, 0)
        XCTAssertEqual(model.layers[0].attn.cacheSize, 256)
    }
}
