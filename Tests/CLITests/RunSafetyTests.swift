import Foundation
import Testing

/// A run's directory and checkpoints under realistic abuse: a diverging run, a second process,
/// an explicit overwrite and a job scheduler's SIGTERM. Each case trains in its own directory.
@Suite(.serialized) struct RunSafetyTests {
    func workspace() throws -> Workspace { try Workspace.shared.get() }

    func tiny(_ dir: String, _ extra: [String] = []) -> [String] {
        Workspace.tinyTraining + ["--work-dir", dir] + extra
    }

    /// `--lr 1e39` without clipping overflows the first update: the run stops non-zero naming the
    /// step, writes no non-finite checkpoint, and keeps every log line (the NaN as a string).
    @Test func divergingRunStopsAndKeepsItsLog() throws {
        let w = try workspace()
        let dir = "safety-diverge-\(UUID().uuidString.prefix(8))"
        let out = try w.deq.run(tiny(dir, ["--max-step", "6", "--eval-interval", "1", "--lr", "1e39", "--clip", "0"]), in: w.root)
        #expect(!out.signaled)
        #expect(out.status != 0, "\(out.output)")
        #expect(out.output.contains("diverged") && out.output.contains("at step"), "\(out.output)")
        let log = try String(contentsOf: w.url("\(dir)/log.jsonl"), encoding: .utf8)
        #expect(log.contains("\"NaN\"") || log.contains("Infinity"), "\(log)")
        // Whatever checkpoint exists is finite (eval loads it without --allow-non-finite).
        for name in ["best", "last"] where FileManager.default.fileExists(atPath: w.url("\(dir)/\(name).safetensors").path) {
            let ev = try w.deq.run(["eval", "\(dir)/\(name).safetensors", "--data", "data", "--split", "valid"], in: w.root)
            #expect(ev.status == 0, "\(ev.output)")
        }
    }

    /// A directory another process has locked is refused; the lock is the kernel's, so it goes
    /// with the process.
    @Test func secondTrainerOnADirectoryIsRefused() throws {
        let w = try workspace()
        let dir = w.url("safety-locked-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let fd = open(dir.appendingPathComponent(".lock").path, O_RDWR | O_CREAT, 0o644)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let refused = try w.deq.run(tiny(dir.lastPathComponent), in: w.root)
        #expect(refused.status != 0 && !refused.signaled)
        #expect(refused.output.contains("in use") && refused.output.contains("--work-dir"), "\(refused.output)")
        close(fd)
        let after = try w.deq.run(tiny(dir.lastPathComponent), in: w.root)
        #expect(after.status == 0, "\(after.output)")
    }

    /// `--overwrite` replaces a finished run: the old log is gone, the new one has its own lines.
    @Test func overwriteReplacesTheRun() throws {
        let w = try workspace()
        let dir = "safety-overwrite-\(UUID().uuidString.prefix(8))"
        #expect(try w.deq.run(tiny(dir, ["--max-step", "3"]), in: w.root).status == 0)
        let again = try w.deq.run(tiny(dir), in: w.root)
        #expect(again.status != 0 && again.output.contains("--resume"))
        let out = try w.deq.run(tiny(dir, ["--overwrite"]), in: w.root)
        #expect(out.status == 0, "\(out.output)")
        #expect(out.output.contains("--overwrite"))
        let lines = try String(contentsOf: w.url("\(dir)/log.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.filter { $0.contains("\"train\"") }.count == 1)
    }

    /// SIGTERM saves `last.safetensors` and exits 143; progress lines reach a redirected file
    /// while the run is going (line-buffered stdout), not only when it ends. A shell starts the
    /// run, counts the lines after 3 s, then sends SIGTERM (`--max-time` bounds it either way).
    @Test func sigtermSavesAndProgressIsLineBuffered() throws {
        let w = try workspace()
        let dir = "safety-term-\(UUID().uuidString.prefix(8))"
        let train = ([w.deq.executable.path] + tiny(dir, ["--max-step", "1000000", "--eval-interval", "1000000", "--max-time", "120"]))
            .map { "'\($0)'" }.joined(separator: " ")
        let script = "\(train) > \(dir).out 2>&1 & P=$!; sleep 3; wc -l < \(dir).out; kill -TERM $P; wait $P; echo rc=$?"
        let out = try w.deq.runShell(script, in: w.root)
        let lines = Int(out.split(separator: "\n").first?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
        let log = (try? String(contentsOf: w.url("\(dir).out"), encoding: .utf8)) ?? ""
        #expect(lines > 3, "no progress lines reached the file while the run was going:\n\(out)\n\(log)")
        #expect(out.contains("rc=143"), "\(out)\n\(log)")
        #expect(log.contains("SIGTERM"), "\(log)")
        #expect(FileManager.default.fileExists(atPath: w.url("\(dir)/last.safetensors").path))
    }
}
