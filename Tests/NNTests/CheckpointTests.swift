import Foundation
import Testing
import Tensors
@testable import NN

func scratchDirectory() -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nn-ckpt-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

final class Mixed: Module {
    let fc = Linear(3, 4)
    var table = Tensor([1.5, -2.25], shape: [2]).to(.float64).requiringGrad()
    var counts = Tensor([7, -1, 1 << 40] as [Int])
    var flags = Tensor([1, 0, 1] as [Int]) .== 1.0
    func visit(_ v: inout ModuleVisitor) {
        v.child("fc", fc)
        v.parameter("table", &table)
        v.buffer("counts", &counts)
        v.buffer("flags", &flags)
    }
}

func bits(_ t: Tensor) -> [UInt8] {
    let c = t.contiguous()
    return Array(UnsafeRawBufferPointer(start: c.baseAddress, count: c.count * c.dtype.byteSize))
}

@Test func checkpointRoundTripIsBitExact() throws {
    let dir = scratchDirectory()
    let url = dir.appendingPathComponent("model.safetensors")
    let model = Mixed()
    let opt = try Adam(model, learningRate: 0.01)
    try (model.fc(Tensor.randn([2, 3])).sum() + model.table.square().sum()).backward()
    opt.step()
    let gen = RandomGenerator(seed: 42)
    _ = Tensor.randn([5], generator: gen)
    try Checkpoint.save(model: model, optimizer: opt, step: 123, generator: gen, extra: ["run": "test"], to: url)

    let restored = Mixed()
    let opt2 = try Adam(restored, learningRate: 1)
    let gen2 = RandomGenerator(seed: 0)
    let info = try Checkpoint.load(into: restored, optimizer: opt2, generator: gen2, from: url)
    #expect(info.step == 123 && info.metadata["run"] == "test")
    #expect(gen2.state == gen.state)
    #expect(Tensor.randn([3], generator: gen2).scalars == Tensor.randn([3], generator: gen).scalars)
    let a = model.stateDict(), b = restored.stateDict()
    #expect(Set(a.keys) == Set(b.keys))
    for (k, t) in a {
        #expect(b[k]!.dtype == t.dtype && b[k]!.shape == t.shape, "\(k)")
        #expect(bits(b[k]!) == bits(t), "\(k) differs")
    }
    #expect(opt2.stepCount == 1 && opt2.learningRate == 0.01)
    for (p, slots) in opt.state { for (s, t) in slots { #expect(bits(opt2.state[p]![s]!) == bits(t)) } }
    // Loaded parameters are still the model's trainable leaves.
    #expect(restored.fc.weight.requiresGrad && restored.table.requiresGrad)
}

@Test func interruptedWriteLeavesThePreviousCheckpoint() throws {
    let dir = scratchDirectory()
    let url = dir.appendingPathComponent("ckpt.safetensors")
    let model = Linear(2, 2)
    try Checkpoint.save(model: model, step: 1, to: url)
    let saved = model.stateDict()
    // A crash between the temporary write and the rename leaves a partial temporary file behind.
    let full = Safetensors.encode(Linear(2, 2).stateDict(), metadata: ["step": "2"])
    try full.prefix(full.count / 2).write(to: Safetensors.temporaryURL(for: url))
    let other = Linear(2, 2)
    let info = try Checkpoint.load(into: other, from: url)
    #expect(info.step == 1)
    for (k, t) in saved { #expect(bits(other.stateDict()[k]!) == bits(t)) }
    // The next write replaces the stale temporary file and succeeds.
    try Checkpoint.save(model: model, step: 3, to: url)
    #expect(try Checkpoint.load(into: other, from: url).step == 3)
    #expect(!FileManager.default.fileExists(atPath: Safetensors.temporaryURL(for: url).path))
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
    #expect(names == ["ckpt.safetensors"])
}

@Test func truncatedOrCorruptFilesGiveOneClearError() throws {
    let dir = scratchDirectory()
    let url = dir.appendingPathComponent("bad.safetensors")
    let good = Safetensors.encode(["w": Tensor.ones([4, 4])])
    for (cut, expected) in [(good.count - 3, "offsets"), (12, "header claims"), (5, "fewer than")] {
        try good.prefix(cut).write(to: url)
        do {
            _ = try Safetensors.read(url)
            Issue.record("a file cut to \(cut) bytes should not load")
        } catch {
            #expect(error.message.contains("not a valid safetensors file") && error.message.contains(expected), "\(error)")
        }
    }
    var garbage = good
    garbage[10] = 0x7B   // break the JSON
    garbage[11] = 0x7B
    try garbage.write(to: url)
    #expect(throws: CheckpointError.self) { try Safetensors.read(url) }
    #expect(throws: CheckpointError.self) { try Safetensors.read(dir.appendingPathComponent("missing.safetensors")) }
}

@Test func checkpointForAnotherModelNamesTheMismatch() throws {
    let url = scratchDirectory().appendingPathComponent("c.safetensors")
    try Checkpoint.save(model: Sequential(Linear(2, 3), Linear(3, 1)), step: 0, to: url)
    do {
        try Checkpoint.load(into: Sequential(Linear(2, 4), Linear(4, 1, bias: false)), from: url)
        Issue.record("load should fail")
    } catch {
        #expect(error.message.contains("0.weight (checkpoint [3, 2], model [4, 2])"))
        #expect(error.message.contains("unexpected: 1.bias"))
        #expect(error.message.contains("1.weight"))
    }
}

@Test func pythonWrittenFixtureLoads() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tiny.safetensors")
    let (t, meta) = try Safetensors.read(url)
    #expect(meta == ["step": "7", "note": "written by python safetensors"])
    #expect(t["weight"]!.dtype == .float32 && t["weight"]!.shape == [2, 3])
    #expect(t["weight"]!.scalars == [0, 0.25, 0.5, 0.75, 1, 1.25])
    #expect(t["bias"]!.dtype == .float64 && t["bias"]!.scalars == [-1.5, 0.25])
    #expect(t["ids"]!.dtype == .int64 && t["ids"]!.toArray(Int64.self) == [1, -2, 3, 40_000_000_000])
    #expect(t["mask"]!.dtype == .bool && t["mask"]!.scalars == [1, 0, 1])
    #expect(t["scalar"]!.shape == [] && t["scalar"]!.item == 3.5)
}

/// Shapes read from a file are checked before a tensor is made: too many dimensions, negative
/// sizes and byte counts that overflow are errors naming the entry, not traps.
@Test func shapesFromAFileAreCheckedBeforeATensorIsMade() throws {
    func file(_ shape: [Int], bytes: Int = 4) throws -> Data {
        let header: [String: Any] = ["x": ["dtype": "F32", "shape": shape, "data_offsets": [0, bytes]] as [String: Any]]
        let json = try JSONSerialization.data(withJSONObject: header)
        var n = UInt64(json.count).littleEndian
        return withUnsafeBytes(of: &n) { Data($0) } + json + Data(count: bytes)
    }
    for (shape, expected) in [(Array(repeating: 1, count: 13), "13 dimensions"), ([-1, -4], "negative size"),
                              ([1 << 62, 4], "more than the largest integer"), ([Int.max, Int.max], "more than the largest integer")] {
        do { _ = try Safetensors.decode(try file(shape), source: "x.safetensors"); Issue.record("\(shape) was accepted") } catch {
            #expect("\(error)".contains("x.safetensors") && "\(error)".contains(expected), "\(error)")
        }
    }
    #expect(try Safetensors.decode(try file(Array(repeating: 1, count: 12)), source: "ok").tensors["x"]?.rank == 12)
}
