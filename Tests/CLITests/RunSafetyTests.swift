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

    /// SIGTERM saves `last.safetensors` and exits 143; progress lines reach a pipe while the run
    /// is going (line-buffered stdout), not only when it ends.
    @Test func sigtermSavesAndProgressIsLineBuffered() throws {
        let w = try workspace()
        let dir = "safety-term-\(UUID().uuidString.prefix(8))"
        let process = Process()
        process.executableURL = w.deq.executable
        process.arguments = tiny(dir, ["--max-step", "1000000", "--eval-interval", "1000000"])
        process.currentDirectoryURL = w.root
        var environment = ProcessInfo.processInfo.environment
        environment["EQ_DATA"] = nil
        environment["EQ_NUM_THREADS"] = "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let collected = Collected()
        pipe.fileHandleForReading.readabilityHandler = { h in collected.append(h.availableData) }
        let deadline = Date().addingTimeInterval(60)
        while !collected.text.contains("step 3/") && Date() < deadline && process.isRunning { usleep(50_000) }
        let sawProgress = collected.text.contains("step 3/")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
        let rest = pipe.fileHandleForReading.readDataToEndOfFile()
        collected.append(rest)
        #expect(sawProgress, "no progress line reached the pipe while the run was going:\n\(collected.text)")
        #expect(process.terminationReason == .exit && process.terminationStatus == 143, "\(collected.text)")
        #expect(collected.text.contains("SIGTERM"), "\(collected.text)")
        #expect(FileManager.default.fileExists(atPath: w.url("\(dir)/last.safetensors").path))
    }
}

/// Output gathered from a pipe's handler thread.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}
