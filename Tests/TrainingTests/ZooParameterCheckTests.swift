import Testing
import Models
import NN

/// Every model of the zoo reports all its stored parameters and children through visit.
struct ZooParameterCheckTests {
    @Test(arguments: ModelRegistry.names) func visitReportsEveryParameter(_ name: String) throws {
        let small: [String: String] = ["emsize": "8", "nhid": "8", "nlayers": "1", "d-model": "8", "n-head": "2", "d-inner": "8",
                                       "cutoffs": name == "deq-transformer" ? "10,20" : "none"]
        let options = small.filter { key, _ in
            name == "deq-transformer" ? ["d-model", "n-head", "d-inner", "cutoffs"].contains(key) : ["emsize", "nhid"].contains(key) || (name == "lstm-lm" && key == "nlayers")
        }
        let model = try ModelRegistry.make(name, vocabularySize: 30, options: options)
        #expect(model.unreportedParameters() == [])
    }
}
