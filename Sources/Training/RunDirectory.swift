import Foundation

/// A run directory belongs to one run. ``claim`` takes an exclusive `flock` on `<dir>/.lock`
/// (held until the trainer ends; the kernel drops it when the process dies, so a killed run
/// leaves no stale lock) and, for a new run, refuses a directory that already holds one unless
/// the caller asked to overwrite it.
public final class RunDirectory {
    /// The files that make a directory a run directory (written by `deq train`).
    public static let runFiles = ["last.safetensors", "best.safetensors", "log.jsonl", "config.json"]
    public let url: URL
    private var fd: Int32

    private init(url: URL, fd: Int32) {
        self.url = url
        self.fd = fd
    }

    deinit { release() }

    /// Drops the lock (the lock file stays: removing it would let a third process lock a new file
    /// while a second still waits on the old one).
    public func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    /// Creates `url` if needed and locks it. Without `resume`, a directory holding a run is
    /// refused, or with `overwrite` its run files are removed first (`say` reports which).
    public static func claim(_ url: URL, resume: Bool, overwrite: Bool, say: (String) -> Void) throws -> RunDirectory {
        let fm = FileManager.default
        do { try fm.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw FileSystemError("cannot create the run directory \(url.path) (\(FileSystemError.reason(error))); pass a writable --work-dir")
        }
        let lockURL = url.appendingPathComponent(".lock")
        let fd = open(lockURL.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileSystemError("cannot create \(lockURL.path) (\(String(cString: strerror(errno)))); pass a writable --work-dir")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            let owner = String(decoding: buffer.prefix(max(0, n)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw TrainingError("\(url.path) is in use by another deq train\(owner.isEmpty ? "" : " (process \(owner))"); wait for it to finish or pass another --work-dir")
        }
        let pid = "\(getpid())\n"
        ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        let directory = RunDirectory(url: url, fd: fd)
        if !resume {
            let found = runFiles.filter { fm.fileExists(atPath: url.appendingPathComponent($0).path) }
            if !found.isEmpty {
                guard overwrite else {
                    throw TrainingError("\(url.path) already holds a run (\(found.joined(separator: ", "))); continue it with --resume, start a fresh run with another --work-dir, or pass --overwrite to replace it")
                }
                let events = ((try? fm.contentsOfDirectory(atPath: url.path)) ?? []).filter { $0.hasPrefix("events.out.tfevents.") }
                for name in found + events {
                    do { try fm.removeItem(at: url.appendingPathComponent(name)) } catch {
                        throw FileSystemError("cannot remove \(url.appendingPathComponent(name).path) (\(FileSystemError.reason(error))) to overwrite the run; remove it yourself or pass another --work-dir")
                    }
                }
                say("--overwrite: removed the earlier run's \(found.joined(separator: ", ")) in \(url.path)")
            }
        }
        return directory
    }
}
