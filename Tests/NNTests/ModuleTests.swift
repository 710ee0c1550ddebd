import Testing
import Tensors
@testable import NN
