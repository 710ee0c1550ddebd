import ArgumentParser

/// `deq bench …`: benchmark groups, each printing a table or JSON lines (ratios against peers
/// come from the scripts in Benchmarks/peers, run on the same machine).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks and print tables.",
        subcommands: [BenchKernels.self, BenchAutograd.self, BenchSolvers.self, BenchLayers.self,
                      BenchDEQMemory.self, BenchDEQStep.self, BenchDEQTransformer.self, BenchAdaptiveSpan.self,
                      BenchRMC.self, BenchOptimizer.self]
    )
}
