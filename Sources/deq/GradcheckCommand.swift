import Benchmarking
import ArgumentParser
import Foundation
import Models
import Tensors

/// `deq gradcheck`: compares analytic gradients with finite differences in float64.
struct GradcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Check the gradients (and second derivatives) of operations against finite differences."
    )

    @Flag(name: .long, help: "Check every operation in the catalog.")
    var ops = false

    @Option(name: .long, help: "Check one operation (or one case by its full name), e.g. --op softmax.")
    var op: String?

    @Option(name: .long, help: "Largest relative error that passes.")
    var tolerance: Double = 1e-6

    @Option(name: .long, help: "Seed for the random shapes and values (each case mixes in its name).")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "List the catalog's cases and exit.")
    var list = false

    @Option(name: .long, help: "Check a whole model end to end in float64 (e.g. deq-toy); 'list' shows them.")
    var model: String?

    func validate() throws {
        if !ops && op == nil && !list && model == nil {
            throw ValidationError("say what to check: --ops for the whole catalog, --op NAME for one operation (--list shows the names), or --model NAME for a model")
        }
        if let model, model != "list", !ModelGradchecks.names.contains(model) {
            throw ValidationError("unknown model '\(model)' for --model; choose one of: \(ModelGradchecks.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        if let model {
            try checkModel(model)
            return
        }
        if list {
            for c in OpCatalog.all { print(c.name) }
            return
        }
        let cases = op.map { OpCatalog.cases(named: $0) } ?? OpCatalog.all
        guard !cases.isEmpty else {
            throw UnknownOperation(name: op!)
        }
        let width = max(cases.map(\.name.count).max() ?? 0, 2)
        print(pad("op", width) + "  first-order max rel err  result  second-order max rel err  result")
        var failures: [String] = []
        var worstFirst = 0.0, worstSecond = 0.0
        for c in cases {
            let outcome = try c.check(tolerance: tolerance, seed: seed)
            worstFirst = max(worstFirst, outcome.first.maxRelativeError)
            let second: String
            if let s = outcome.second {
                worstSecond = max(worstSecond, s.maxRelativeError)
                second = pad(format(s.maxRelativeError), 24) + "  " + (s.passed ? "pass" : "FAIL")
            } else {
                second = pad("-", 24) + "  n/a"
            }
            print(pad(c.name, width) + "  " + pad(format(outcome.first.maxRelativeError), 23) + "  "
                  + pad(outcome.first.passed ? "pass" : "FAIL", 6) + "  " + second)
            fflush(nil)   // nil: every output stream (Swift 6 cannot name the C global stdout)
            if !outcome.passed { failures.append(outcome.description) }
        }
        print("\(cases.count) cases, \(Set(cases.map(\.operation)).count) operations; worst relative error "
              + "\(format(worstFirst)) (first order), \(format(worstSecond)) (second order); tolerance \(format(tolerance))")
        if !failures.isEmpty {
            print("\(failures.count) FAILED:")
            for f in failures { print(f) }
            throw ExitCode.failure
        }
    }

    /// Runs one whole-model check (or lists them) and fails the command when it fails.
    private func checkModel(_ name: String) throws {
        if name == "list" {
            for m in ModelGradchecks.all { print("\(m.name)  \(m.summary)") }
            return
        }
        let entry = ModelGradchecks.all.first { $0.name == name }!
        print("gradcheck --model \(name): \(entry.summary)")
        let report = try entry.check()
        print(report)
        if !entry.passed(report) { throw ExitCode.failure }
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    private func format(_ x: Double) -> String { String(format: "%.2e", x) }
}

/// `--op` named nothing in the catalog.
struct UnknownOperation: Error, CustomStringConvertible {
    let name: String
    var description: String {
        "no operation or case named '\(name)' in the gradcheck catalog; run `deq gradcheck --list` to see the names"
    }
}
