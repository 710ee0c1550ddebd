import ArgumentParser
import Tensors

@main
struct Deq: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deq",
        abstract: "Equilibrium: implicit-depth and sequence models on the CPU.",
        subcommands: [TrainCommand.self, EvalCommand.self, GenerateCommand.self, PlotCommand.self, InfoCommand.self,
                      CopyMemoryCommand.self, DemoCommand.self, GradcheckCommand.self, BenchCommand.self,
                      ReferenceCheckCommand.self]
    )
}
