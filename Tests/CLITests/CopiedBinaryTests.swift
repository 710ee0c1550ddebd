import Foundation
import Testing

/// A `deq` copied out of the build tree still has its presets (they are compiled in).
@Suite(.serialized) struct CopiedBinaryTests {
    @Test func copiedBinaryListsAndUsesItsPresets() throws {
        let workspace = try Workspace.shared.get()
        let fm = FileManager.default
        let elsewhere = workspace.url("elsewhere-\(UUID().uuidString)")
        try fm.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let copied = elsewhere.appendingPathComponent("deq")
        try fm.copyItem(at: workspace.deq.executable, to: copied)
        let deq = DeqProcess(executable: copied)

        let listed = try deq.run(["presets"], in: elsewhere)
        #expect(listed.status == 0, "\(listed.output)")
        #expect(listed.output.contains("lstm-lm-tiny") && listed.output.contains("deq-transformer-small"))

        let trained = try deq.run(["train", "--preset", "tiny", "--data", workspace.url("data").path,
                                   "--train-split", "valid", "--max-step", "1", "--batch-size", "2", "--bptt", "4",
                                   "--eval-interval", "1", "--work-dir", elsewhere.appendingPathComponent("run").path],
                                  in: elsewhere)
        #expect(trained.status == 0, "\(trained.output)")
        #expect(fm.fileExists(atPath: elsewhere.appendingPathComponent("run/last.safetensors").path))
    }
}
