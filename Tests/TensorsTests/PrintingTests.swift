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
        let v = Tensor((0..<2000).map { Double($0) })
        #expect(v.description == "[   0.,    1.,    2., ..., 1997., 1998., 1999.]")
        let m = Tensor((0..<2000).map { Double($0) }, shape: [20, 100])
        let expected = """
            [[   0.,    1.,    2., ...,   97.,   98.,   99.],
             [ 100.,  101.,  102., ...,  197.,  198.,  199.],
             [ 200.,  201.,  202., ...,  297.,  298.,  299.],
             ...,
             [1700., 1701., 1702., ..., 1797., 1798., 1799.],
             [1800., 1801., 1802., ..., 1897., 1898., 1899.],
             [1900., 1901., 1902., ..., 1997., 1998., 1999.]]
            """
        #expect(m.description == expected)
        // At or below the threshold everything is shown.
        let small = Tensor((0..<1000).map { Double($0) })
        #expect(!small.description.contains("..."))
        #expect(small.description.contains("500."))
    }

    @Test func debugDescriptionNamesShapeAndType() {
        #expect(Tensor([1, 2] as [Float]).debugDescription == "Tensor([1., 2.], shape: [2], dtype: float32)")
        let g = Tensor([1, 2] as [Double]).requiringGrad()
        #expect(g.debugDescription.contains("requiresGrad"))
        #expect(g.debugDescription.contains("float64"))
    }
}
