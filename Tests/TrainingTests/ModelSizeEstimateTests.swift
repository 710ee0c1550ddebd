import Models
import NN
import Testing

/// The size estimate made before a model is built is a lower bound of its real parameter count,
/// and a tight one (within 3x), for every model of the zoo at two sizes.
struct ModelSizeEstimateTests {
    static let cases: [(String, Int, [String: String])] = [
        ("lstm-lm", 300, ["emsize": "16", "nhid": "24", "nlayers": "2"]),
        ("lstm-lm", 300, ["emsize": "32", "nhid": "32", "nlayers": "1", "tied": "true"]),
        ("deq-transformer", 300, ["d-model": "32", "n-head": "4", "d-inner": "64", "cutoffs": "none"]),
        ("deq-transformer", 300, ["d-model": "32", "n-head": "4", "d-inner": "64", "cutoffs": "50,150", "div-val": "2", "tied": "false"]),
        ("deq-trellisnet", 300, ["emsize": "16", "nhid": "24"]),
        ("deq-trellisnet", 300, ["emsize": "12", "nhid": "20", "nout": "12", "tied": "true"]),
        ("adaptive-span", 300, ["hid-sz": "32", "inner-hid-sz": "64", "nlayers": "2", "nheads": "4"]),
        ("adaptive-span", 300, ["hid-sz": "16", "inner-hid-sz": "48", "nlayers": "3", "nheads": "2"]),
        ("rmc-lm", 300, ["emsize": "16", "headsize": "8", "numheads": "2", "keysize": "4"]),
        ("rmc-lm", 300, ["emsize": "24", "headsize": "12", "numheads": "2", "keysize": "6", "memslots": "3"]),
        (CharTransformerLM.name, 60, ["d-model": "32", "n-head": "4", "d-inner": "64", "nlayers": "2"]),
        (CharTransformerLM.name, 60, ["d-model": "16", "n-head": "2", "d-inner": "32", "nlayers": "3"]),
    ]

    @Test(arguments: cases.indices) func estimateBoundsTheRealCount(_ i: Int) throws {
        let (name, vocabulary, options) = Self.cases[i]
        let estimate = try ModelRegistry.estimate(name, vocabularySize: vocabulary, options: options)
        let real = Double(try ModelRegistry.make(name, vocabularySize: vocabulary, options: options).parameterCount())
        #expect(estimate.parameters <= real && real <= 3 * estimate.parameters, "\(name) \(options): estimate \(estimate.parameters), real \(real)")
        #expect(estimate.activationsPerToken > 0)
    }

    @Test func hugeSizesAreEstimatedWithoutOverflow() throws {
        let e = try ModelRegistry.estimate("lstm-lm", vocabularySize: 33_278, options: ["nhid": "100000000000", "emsize": "8"])
        #expect(e.parameters > 1e21)
    }
}
