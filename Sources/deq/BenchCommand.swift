import ArgumentParser

/// `deq bench …`: benchmark groups (solvers, and others added beside it).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks and print tables.",
        subcommands: [BenchSolvers.self, BenchDEQMemory.self, BenchDEQStep.self]
    )
}
