import Testing
import Tensors

// NumPy-style printing: nested brackets, aligned columns, blank lines between blocks, and "..."
// summaries for tensors above the print threshold.
@Suite struct PrintingTests {
    @Test func smallTensors() {
        #expect(Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3]).description == "[[1., 2., 3.],\n [4., 5., 6.]]")
        #expect(Tensor([1.5, -2.25, 0.5] as [Double]).description == "[  1.5, -2.25,   0.5]")
        #expect(Tensor([1e-7, 3e9] as [Double]).description == "[1.0000e-07, 3.0000e+09]")
        #expect(Tensor([true, false]).description == "[ true, false]")
        #expect(Tensor(3.5, dtype: .float64).description == "3.5")
        #expect(Tensor([.nan, .infinity, -.infinity, 1] as [Float]).description == "[ nan,  inf, -inf,   1.]")
        #expect(Tensor.zeros([0, 3]).description == "[]")
    }

    @Test func oneNotationForTheWholeTensor() {
        // Magnitudes spanning more than 1e3 switch every element to scientific notation, as NumPy.
        #expect(Tensor([1.5, -2.25, 1000, 0.0001] as [Double]).description
                == "[ 1.5000e+00, -2.2500e+00,  1.0000e+03,  1.0000e-04]")
        #expect(Tensor([1, 1e-5] as [Float]).description.hasPrefix("[1.0000e+00, "))
        #expect(Tensor([2e8, 3e8] as [Double]).description == "[2.0000e+08, 3.0000e+08]")
        #expect(Tensor([0, 0.5, 100] as [Double]).description == "[  0.,  0.5, 100.]")
        #expect(Tensor([.nan, 1, 1e6] as [Double]).description == "[       nan, 1.0000e+00, 1.0000e+06]")
        // Only the shown edges decide the notation of a summarised tensor.
        let big = Tensor([1e-9] + [Double](repeating: 5, count: 2000) + [1e-9])
        #expect(big.description.contains("e-09"))
    }

    @Test func higherRankUsesBlankLinesBetweenBlocks() {
        let x = Tensor((0..<24).map { Int64($0) }, shape: [2, 3, 4])
        let expected = """
            [[[ 0,  1,  2,  3],
              [ 4,  5,  6,  7],
              [ 8,  9, 10, 11]],

             [[12, 13, 14, 15],
              [16, 17, 18, 19],
              [20, 21, 22, 23]]]
            """
        #expect(x.description == expected)
        // A strided view prints its own elements.
        #expect(Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]).T.description == "[[1., 3.],\n [2., 4.]]")
    }

    @Test func largeTensorsAreSummarised() {
        let v = Tensor((0..<2000).map { Double($0 + 1000) })
        #expect(v.description == "[1000., 1001., 1002., ..., 2997., 2998., 2999.]")
        let m = Tensor((0..<2000).map { Double($0) / 4 + 1 }, shape: [20, 100])
        let expected = """
            [[    1.,   1.25,    1.5, ...,  25.25,   25.5,  25.75],
             [   26.,  26.25,   26.5, ...,  50.25,   50.5,  50.75],
             [   51.,  51.25,   51.5, ...,  75.25,   75.5,  75.75],
             ...,
             [  426., 426.25,  426.5, ..., 450.25,  450.5, 450.75],
             [  451., 451.25,  451.5, ..., 475.25,  475.5, 475.75],
             [  476., 476.25,  476.5, ..., 500.25,  500.5, 500.75]]
            """
        #expect(m.description == expected)
        // At or below the threshold everything is shown.
        let small = Tensor((0..<1000).map { Double($0 + 1) })
        #expect(!small.description.contains("..."))
        #expect(small.description.contains(" 500.,"))
    }

    @Test func debugDescriptionNamesShapeAndType() {
        #expect(Tensor([1, 2] as [Float]).debugDescription == "Tensor([1., 2.], shape: [2], dtype: float32)")
        let g = Tensor([1, 2] as [Double]).requiringGrad()
        #expect(g.debugDescription.contains("requiresGrad"))
        #expect(g.debugDescription.contains("float64"))
    }
}
