import ArgumentParser
import Training

/// `deq presets` lists the compiled-in presets; `deq presets NAME` prints one as a --config file.
struct PresetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presets",
        abstract: "List the built-in presets, or print one (save it to edit and pass with --config).")

    @Argument(help: "A preset name, e.g. lstm-lm-small.") var name: String?

    func run() throws {
        guard let name else {
            for n in Presets.names { print(n) }
            return
        }
        _ = try Presets.settings(name)   // the same error as --preset for an unknown name
        print(Presets.json[name]!)
    }
}
