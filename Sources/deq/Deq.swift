import ArgumentParser
import Tensors

@main
struct Deq: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deq",
        abstract: "Equilibrium: implicit-depth and sequence models on the CPU.",
        subcommands: [TrainCommand.self, EvalCommand.self, GenerateCommand.self, PlotCommand.self, InfoCommand.self,
                      CopyMemoryCommand.self, DemoCommand.self, GradcheckCommand.self, BenchCommand.self,
                      ImportCommand.self, ExportCommand.self, SpanCommand.self, ReferenceRunCommand.self,
                      NthFarthestCommand.self, RMCProbeCommand.self, ReferenceCommand.self,
                      ReferenceCheckCommand.self, PresetsCommand.self, ReZeroMLPCommand.self]
    )

    static func main() {
        BLASCore.relaunchWithFastKernelsIfNeeded()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
