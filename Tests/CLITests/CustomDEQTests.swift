import Foundation
import Testing

/// `Examples/CustomDEQ` — a user's own cell and task on the library's training loop — trains,
/// leaves a checkpoint and a log, and a resumed run continues from the checkpoint exactly.
@Suite(.serialized) struct CustomDEQTests {
    @Test func trainsCheckpointsAndResumesExactly() throws {
        let example = try DeqProcess.locate("CustomDEQ")
        let workspace = try Workspace.shared.get()
        let fm = FileManager.default
        let resumed = workspace.url("custom-deq-\(UUID().uuidString)"), straight = workspace.url("custom-deq-\(UUID().uuidString)")

        let first = try example.run([resumed.path, "--steps", "20"], in: workspace.root)
        #expect(first.status == 0, "\(first.output)")
        #expect(fm.fileExists(atPath: resumed.appendingPathComponent("last.safetensors").path))
        #expect(fm.fileExists(atPath: resumed.appendingPathComponent("log.jsonl").path))

        let again = try example.run([resumed.path, "--steps", "40"], in: workspace.root)
        #expect(again.status != 0 && again.output.contains("--resume"), "a second run over the directory is refused: \(again.output)")

        let second = try example.run([resumed.path, "--steps", "40", "--resume"], in: workspace.root)
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("at step 20"), "\(second.output)")
        let whole = try example.run([straight.path, "--steps", "40"], in: workspace.root)
        #expect(whole.status == 0, "\(whole.output)")

        // Steps 21–40 after the resume are the uninterrupted run's, bit for bit (step, loss and
        // rate of every train entry; the wall time differs).
        func trainLosses(_ run: URL) throws -> [String] {
            try String(contentsOf: run.appendingPathComponent("log.jsonl"), encoding: .utf8)
                .split(separator: "\n").compactMap { line -> String? in
                    guard let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                          entry["type"] as? String == "train" else { return nil }
                    return "\(entry["step"]!) \(entry["loss"]!) \(entry["lr"]!)"
                }
        }
        let a = try trainLosses(resumed), b = try trainLosses(straight)
        #expect(a.count == 40 && a == b)
    }
}
