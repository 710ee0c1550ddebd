import Foundation
import Testing
import Tensors
@testable import CUDA

// These run on any machine: what the GPU path says when the driver or a library is missing, the
// device flag's parsing, and (where the NVRTC wheel is installed) that the kernel source compiles.
@Suite struct CUDAAvailabilityTests {
    @Test func discoveryNamesWhatIsMissing() throws {
        guard let reason = CUDARuntime.unavailableReason else {
            let rt = try CUDARuntime.shared()
            print("CUDA available: \(rt.devices.map(\.description).joined(separator: "; "))")
            #expect(!rt.devices.isEmpty)
            return
        }
        print("CUDA unavailable here (expected without a GPU):\n\(reason)")
        // Every failure names a library and how to get it, or what the driver said.
        #expect(reason.contains("CUDA is not available"))
        #expect(reason.contains("libcuda") || reason.contains("libcublas") || reason.contains("libnvrtc")
                || reason.contains("driver"))
        #expect(throws: CUDAError.self) { try CUDARuntime.shared() }
    }

    @Test func missingDriverMessageNamesItAndTheFix() {
        // EQ_CUDA_LIBS is searched first; a folder without the libraries adds its paths to "tried".
        let env = ["EQ_CUDA_LIBS": "/nonexistent/cuda", "HOME": "/nonexistent/home"]
        let paths = LibraryLocator.candidates(for: LibraryLocator.driver, environment: env)
        #expect(paths.first == "/nonexistent/cuda/libcuda.so.1")
        #expect(paths.contains("libcuda.so.1"))
        #expect(LibraryLocator.driver.hint.contains("NVIDIA driver"))
        #expect(LibraryLocator.cublas.hint.contains("pip install nvidia-cublas"))
        #expect(LibraryLocator.nvrtc.hint.contains("pip install nvidia-cuda-nvrtc"))
    }

    @Test func wheelFoldersAreSearched() throws {
        // The wheels (torch's CUDA 13 ones, or nvidia-cublas / nvidia-cuda-nvrtc) in any site-packages.
        let sites = LibraryLocator.sitePackages(environment: ProcessInfo.processInfo.environment)
        let wheel = sites.first { FileManager.default.fileExists(atPath: $0 + "/nvidia") }
        guard let wheel else {
            print("skipped: no nvidia wheel in any site-packages (\(sites)); pip install nvidia-cublas nvidia-cuda-nvrtc")
            return
        }
        let found = LibraryLocator.candidates(for: LibraryLocator.nvrtc).filter { $0.hasPrefix(wheel) }
        print("NVRTC candidates from the wheel: \(found)")
        #expect(!found.isEmpty)
    }

    @Test func deviceNames() throws {
        #expect(try Device(parsing: "cpu") == .cpu)
        #expect(try Device(parsing: "cuda") == .cuda(0))
        #expect(try Device(parsing: "cuda:3") == .cuda(3))
        #expect(throws: CUDAError.badDeviceName("gpu")) { try Device(parsing: "gpu") }
        #expect(CUDAError.badDeviceName("gpu").description.contains("cpu, cuda or cuda:N"))
    }

    @Test func mixingDevicesIsAClearError() throws {
        // A CPU tensor against a (would-be) GPU one: the check comes before any device work.
        let err = CUDAError.deviceMismatch(op: "matmul", lhs: .cpu, rhs: .cuda(0))
        #expect(err.description == "matmul: the operands are on different devices (cpu and cuda:0); move one with to(device:) first")
        let a = try Tensor([1.0, 2], shape: [1, 2]).to(device: .cpu)
        let b = try Tensor([3.0, 4], shape: [2, 1]).to(device: .cpu)
        #expect(try a.matmul(b).cpu().scalars == [11])
    }

    @Test func kernelSourceCompilesWithNVRTC() throws {
        let path: String
        do { path = try CUDARuntime.openNVRTC() } catch {
            print("skipped: \(error)")
            return
        }
        // sm_75 is the oldest architecture NVRTC 13 targets; 90 is the H100/H200.
        for arch in ["compute_75", "compute_90"] {
            let ptx = try PTXCache.ptx(arch: arch)
            #expect(ptx.contains(".entry matmul") == false)
            for k in ["add_f64", "softmax_f32", "softmax_f64", "layer_norm_f64", "row_sum_f32", "chunk_sum_f64", "sigmoid_f64"] {
                #expect(ptx.contains(".entry \(k)("), "kernel \(k) missing from the PTX")
            }
        }
        print("NVRTC (\(path)) compiled the kernels for compute_75 and compute_90")
    }
}
