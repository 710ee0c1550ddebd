import XCTest
import Tensors

final class BLASCoreTests: XCTestCase {
    /// The core OpenBLAS reports is a name, and a recommendation is made only for generic cores.
    func testCoreNameAndRecommendation() {
        XCTAssertFalse(BLASCore.name.isEmpty)
        if let recommended = BLASCore.recommended {
            XCTAssertTrue(["SkylakeX", "Haswell", "SandyBridge"].contains(recommended))
            XCTAssertTrue(["prescott", "core2", "katmai", "coppermine", "northwood", "banias", "atom", "nehalem", "unknown"]
                .contains(BLASCore.name.lowercased()), "a recognised core (\(BLASCore.name)) is never overridden")
        }
    }
}
