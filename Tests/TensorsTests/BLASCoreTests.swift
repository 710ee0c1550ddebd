import XCTest
import Tensors

final class BLASCoreTests: XCTestCase {
    /// The core OpenBLAS reports is a name, and a recommendation is made only for generic cores,
    /// or, on a CPU with AVX-512, for cores whose kernels stop at AVX2 (then it is SkylakeX).
    func testCoreNameAndRecommendation() {
        XCTAssertFalse(BLASCore.name.isEmpty)
        if let recommended = BLASCore.recommended {
            XCTAssertTrue(["SkylakeX", "Haswell", "SandyBridge"].contains(recommended))
            let generic = ["prescott", "core2", "katmai", "coppermine", "northwood", "banias", "atom", "nehalem", "unknown"]
            let narrow = ["haswell", "zen", "sandybridge", "excavator", "steamroller", "piledriver", "bulldozer"]
            let core = BLASCore.name.lowercased()
            XCTAssertTrue(generic.contains(core) || (narrow.contains(core) && recommended == "SkylakeX"),
                          "a core with AVX-512 kernels (\(BLASCore.name)) is never overridden")
        }
    }
}
