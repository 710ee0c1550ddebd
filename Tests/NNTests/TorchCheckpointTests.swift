import Foundation
import Testing
import Tensors
@testable import NN

private let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tiny.pt")

@Test func torchWrittenStateDictLoads() throws {
    let t = try TorchCheckpoint.read(fixture)
    #expect(Set(t.keys) == ["weight", "bias", "double", "ids", "scalar", "view.t", "view.row", "tied"])
    #expect(t["weight"]!.dtype == .float32 && t["weight"]!.shape == [2, 3])
    #expect(t["weight"]!.scalars == [0, 0.25, 0.5, 0.75, 1, 1.25])
    #expect(t["tied"]!.scalars == t["weight"]!.scalars)
    #expect(t["bias"]!.dtype == .float32 && t["bias"]!.scalars == [-1.5, 0.25])
    #expect(t["double"]!.dtype == .float64 && t["double"]!.scalars == [-1.5, 0.25, 1e-300])
    #expect(t["ids"]!.dtype == .int64 && t["ids"]!.toArray(Int64.self) == [1, -2, 3, 40_000_000_000])
    #expect(t["scalar"]!.shape == [] && t["scalar"]!.item == 3.5)
    #expect(t["view.t"]!.shape == [4, 3] && t["view.t"]!.scalars == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
    #expect(t["view.row"]!.shape == [4] && t["view.row"]!.scalars == [4, 5, 6, 7])
}

@Test func torchCheckpointRoundTripsThroughOurWriter() throws {
    let original: [String: Tensor] = [
        "a.weight": Tensor.randn([3, 2, 2], dtype: .float64),
        "b": Tensor.randn([4, 3], dtype: .float32).T,                       // a strided view is written contiguous
        "ids": Tensor([Int64(-3), 5_000_000_000, 7], shape: [3]),
        "scalar": Tensor(2.5, dtype: .float64),
    ]
    let url = scratchDirectory().appendingPathComponent("round.pt")
    try TorchCheckpoint.write(original, to: url)
    let back = try TorchCheckpoint.read(url)
    #expect(Set(back.keys) == Set(original.keys))
    for (k, t) in original {
        #expect(back[k]!.dtype == t.dtype && back[k]!.shape == t.shape)
        #expect(back[k]!.scalars == t.scalars, "\(k)")
    }
}

@Test func torchCheckpointRefusesWhatItDoesNotRead() throws {
    let dir = scratchDirectory()
    let legacy = dir.appendingPathComponent("legacy.pt")
    try Data([0x80, 0x02, 0x8A, 0x0A]).write(to: legacy)
    #expect(throws: CheckpointError.self) { try TorchCheckpoint.read(legacy) }
    do { _ = try TorchCheckpoint.read(legacy) } catch { #expect(error.message.contains("legacy")) }

    // A pickle that names a global outside the state-dict subset is refused, never resolved.
    var pickle = PickleWriter()
    pickle.global("os", "system"); pickle.mark(); pickle.string("echo hi"); pickle.tuple(); pickle.reduce(); pickle.stop()
    let evil = ZipArchive.archive([(name: "x/data.pkl", data: pickle.data)])
    do {
        _ = try TorchCheckpoint.decode(evil, source: "evil.pt")
        Issue.record("decode should fail")
    } catch { #expect(error.message.contains("os.system")) }

    let bf16 = Tensor.randn([2], dtype: .float32).to(.bool)
    #expect(throws: CheckpointError.self) { _ = try TorchCheckpoint.encode(["m": bf16]) }
}
