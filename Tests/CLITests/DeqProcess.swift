import Foundation

/// Runs the built `deq` executable as a subprocess, as a user would.
struct DeqProcess: Sendable {
    /// What one run of `deq` produced.
    struct Outcome: Sendable {
        var status: Int32
        /// True when the process ended on a signal (a trap: fatalError, precondition, try!).
        var signaled: Bool
        /// Standard output and standard error together.
        var output: String
    }

    let executable: URL

    /// The `deq` built next to this test bundle (`.build/<triple>/<config>/deq`): the test runner
    /// is `.build/<config>/EquilibriumPackageTests.xctest`, and SwiftPM builds every product
    /// there (`make test` builds `deq` before the tests run).
    static func locate(_ name: String = "deq") throws -> DeqProcess {
        let fm = FileManager.default
        var candidates: [URL] = []
        for path in [CommandLine.arguments.first, Bundle.main.executablePath, Bundle.main.bundlePath].compactMap({ $0 }) {
            var dir = URL(fileURLWithPath: path).deletingLastPathComponent()
            // The bundle may be a directory (macOS .xctest bundles): walk up to the build folder.
            for _ in 0..<4 {
                candidates.append(dir.appendingPathComponent(name))
                dir = dir.deletingLastPathComponent()
            }
        }
        guard let found = candidates.first(where: { fm.isExecutableFile(atPath: $0.path) }) else {
            throw CLITestError("no \(name) executable next to the test bundle (looked at \(candidates.map(\.path).joined(separator: ", "))); build it with swift build --product \(name) or make test")
        }
        return DeqProcess(executable: found)
    }

    /// Runs `deq arguments` in `directory` with `EQ_DATA` removed from the environment (so only
    /// `--data` names a data directory) and one thread (the cases are tiny).
    func run(_ arguments: [String], in directory: URL) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["EQ_DATA"] = nil
        environment["EQ_NUM_THREADS"] = "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read before waiting: a full pipe would otherwise block the child.
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                       output: String(decoding: data, as: UTF8.self))
    }
}

extension DeqProcess {
    /// Runs `script` with /bin/sh in `directory` (one thread, no EQ_DATA) and returns its output.
    func runShell(_ script: String, in directory: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["EQ_DATA"] = nil
        environment["EQ_NUM_THREADS"] = "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// The CLI tests could not set up their files or find the executable.
struct CLITestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
