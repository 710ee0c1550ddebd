import ArgumentParser

/// `deq bench ...`: benchmark groups, each reporting timings (and, where a peer exists, ratios).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks.",
        subcommands: [BenchLayers.self]
    )
}
