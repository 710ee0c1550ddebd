import ArgumentParser

/// `deq bench`: micro-benchmarks, one JSON object per line with `--json`.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run micro-benchmarks.",
        subcommands: [BenchAutograd.self]
    )
}
