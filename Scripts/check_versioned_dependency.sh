#!/usr/bin/env bash
# Builds and runs a package outside the repository that depends on Equilibrium by version
# (`.package(url: "file://...", from: "0.1.0")`), as a library user's Package.swift would. SwiftPM
# refuses unsafe flags in such a dependency, so this fails if Package.swift ever gains one.
# It tags a clone of the committed checkout (uncommitted changes are not in it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/eq-consumer.XXXXXX)
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/equilibrium"
git -C "$work/equilibrium" tag 0.1.0
mkdir -p "$work/consumer/Sources/Consumer"
cat > "$work/consumer/Package.swift" <<SWIFT
// swift-tools-version: 6.1
import PackageDescription
let package = Package(
    name: "Consumer",
    dependencies: [.package(url: "file://$work/equilibrium", from: "0.1.0")],
    targets: [.executableTarget(name: "Consumer", dependencies: [
        .product(name: "NN", package: "equilibrium"), .product(name: "Tensors", package: "equilibrium")])]
)
SWIFT
cat > "$work/consumer/Sources/Consumer/main.swift" <<'SWIFT'
import Foundation
import NN
import Tensors

// A layer whose visit forgets a child: the library names the forgotten parameter.
final class Forgetful: Module {
    let used = Linear(3, 2)
    let forgotten = Linear(2, 2)
    func visit(_ v: inout ModuleVisitor) { v.child("used", used) }
}
let y = Linear(4, 3)(Tensor.randn([2, 4]))
print("forward through a versioned Equilibrium: shape \(y.shape)")
do { try Forgetful().checkParameters(); print("forgotten parameter NOT reported"); exit(1) }
catch { print("reported: \(error)") }

SWIFT
flags=$(make -s -C "$root" flags)
swift build --package-path "$work/consumer" $flags
"$work/consumer/.build/debug/Consumer"
echo "versioned dependency: OK"
