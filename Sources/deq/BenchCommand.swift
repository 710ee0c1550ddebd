import ArgumentParser

/// `deq bench`: groups the benchmark subcommands.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure performance.",
        subcommands: [BenchKernels.self]
    )
}
