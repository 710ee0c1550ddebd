import ArgumentParser
import Foundation
import Models
import Training

/// `deq span CKPT`: the learned attention span of every head of an adaptive-span checkpoint.
struct SpanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "span", abstract: "Print (and plot) the learned span of every head of an adaptive-span checkpoint.")

    @Argument(help: "A checkpoint of an adaptive-span model written by deq train.") var checkpoint: String
    @Option(help: "Also draw the spans as an SVG file.") var plot: String?

    func run() throws {
        let ckpt = try RunCheckpoint.read(URL(fileURLWithPath: checkpoint))
        guard let model = try ckpt.makeModel() as? AdaptiveSpanTransformer else {
            throw ValidationError("\(checkpoint) holds a \(ckpt.modelName) model; deq span reads adaptive-span checkpoints")
        }
        let spans = model.spans
        print("learned spans (positions, of \(model.configuration.span)) at step \(ckpt.step)\(model.configuration.adaptiveSpan ? "" : " — fixed spans: this model has no adaptive span")")
        for (l, heads) in spans.enumerated() {
            let keys = model.configuration.span - model.layers[l].attn.trimLength
            print(String(format: "layer %2d  ", l + 1) + heads.map { String(format: "%6.0f", $0) }.joined(separator: " ") + "   keys attended \(keys)")
        }
        if let plot {
            let svg = SpanPlot(title: "Learned attention spans, step \(ckpt.step)", spans: spans, maxSpan: Double(model.configuration.span)).svg
            try FileSystemError.write(svg, to: plot, flag: "--plot")
            print("wrote \(plot)")
        }
    }
}
