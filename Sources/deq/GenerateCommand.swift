import ArgumentParser
import Datasets
import Foundation
import Tensors
import Training

/// `deq generate`: samples text from a checkpoint with temperature and top-k.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Sample text from a checkpoint.")

    @Argument(help: "A checkpoint written by deq train.") var checkpoint: String
    @Option(help: "Words to start from (unknown words become <unk>).") var prompt = ""
    @Option(help: "Symbols to sample.") var length = 50
    @Option(help: "Softmax temperature (> 0).") var temperature = 1.0
    @Option(name: .customLong("top-k"), help: "Sample among the k most likely symbols (0 = all).") var topK = 0
    @Option var seed: UInt64 = 1
    @Flag(name: .customLong("allow-non-finite"), help: "Load weights holding NaN or infinities (a diverged run's) instead of refusing them.")
    var allowNonFinite = false

    func validate() throws {
        guard temperature > 0 else { throw ValidationError("--temperature must be positive, got \(temperature)") }
        guard topK >= 0 else { throw ValidationError("--top-k must be 0 (off) or positive, got \(topK)") }
        guard length > 0 else { throw ValidationError("--length must be positive, got \(length)") }
    }

    func run() throws {
        let ckpt = try RunCheckpoint.read(URL(fileURLWithPath: checkpoint))
        let lm = try ckpt.makeModel(allowNonFinite: allowNonFinite)
        guard let vocab = ckpt.vocabulary else { throw TrainingError("\(checkpoint) has no vocabulary") }
        lm.eval()
        let words = prompt.split(separator: " ").map(String.init)
        let context = words.isEmpty ? [Vocabulary.endOfSentence] : words
        var ids = try vocab.encode(context)
        let generator = RandomGenerator(seed: seed)
        var state = lm.initialState(batch: 1)
        var out: [String] = []
        withoutGradients {
            var input = Tensor(ids.map { Int64($0) }, shape: [ids.count, 1])
            for _ in 0..<length {
                let (logits, next) = lm(input, state: state)
                state = next
                let last = logits.select(0, logits.shape[0] - 1).to(.float64) / temperature
                var scores = last.toArray(Double.self)
                if topK > 0 && topK < scores.count {
                    let threshold = scores.sorted(by: >)[topK - 1]
                    scores = scores.map { $0 >= threshold ? $0 : -.infinity }
                }
                let probs = Tensor(scores, shape: [scores.count]).softmax(axis: 0)
                let pick = Int(probs.multinomial(generator: generator).toArray(Int64.self)[0])
                ids.append(pick)
                out.append(vocab.symbol(pick))
                input = Tensor([Int64(pick)], shape: [1, 1])
            }
        }
        let text = (words + out).map { $0 == Vocabulary.endOfSentence ? "\n" : $0 }
        print(text.joined(separator: " ").replacingOccurrences(of: " \n ", with: "\n"))
    }
}
