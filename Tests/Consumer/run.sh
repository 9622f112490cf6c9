#!/usr/bin/env bash
# Builds and runs a package that depends on thunnini-ref the way a user's
# package does: by URL and version (`from: "0.1.0"`), on a clone of this
# repository's committed HEAD tagged 0.1.0 in a temporary folder. SwiftPM
# refuses such a dependency if any target of the product uses unsafe flags,
# so this is what proves the library products consumable. The consumer's
# code is the Swift block of the article "Using Thunnini as a library"
# (Sources/Thunnini/Thunnini.docc/UsingThunniniAsALibrary.md), built in
# Swift 6 language mode, debug, for the toolchain's default CPU; what it
# prints must equal Tests/Consumer/expected-output.txt, which the test suite
# (LibraryArticleTests, release, x86-64-v3) checks too. About two minutes.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

git clone --quiet "$root" "$work/thunnini-ref"
git -C "$work/thunnini-ref" tag -l | xargs -r git -C "$work/thunnini-ref" tag -d >/dev/null
git -C "$work/thunnini-ref" tag 0.1.0

mkdir -p "$work/consumer/Sources/consumer"
cat > "$work/consumer/Package.swift" <<MANIFEST
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "consumer",
    dependencies: [.package(url: "file://$work/thunnini-ref", from: "0.1.0")],
    targets: [.executableTarget(name: "consumer", dependencies: [.product(name: "Thunnini", package: "thunnini-ref")])]
)
MANIFEST
main="$work/consumer/Sources/consumer/main.swift"
awk '/^```swift$/ { inside = 1; next } /^```$/ { inside = 0 } inside' \
    "$root/Sources/Thunnini/Thunnini.docc/UsingThunniniAsALibrary.md" > "$main"
cat >> "$main" <<'DRIVER'

let result = try pretrainTuneAndCompare()
print("pretrained \(result.pretrained) tuned \(result.tuned) exact_regret \(result.exactRegret)")
DRIVER

swift build --package-path "$work/consumer" 2>&1 | grep -E "error|warning: .*unsafe|Build complete" || true
"$work/consumer/.build/debug/consumer" > "$work/output.txt"
if diff -u "$root/Tests/Consumer/expected-output.txt" "$work/output.txt"; then
    echo "consumer package: built against thunnini-ref 0.1.0 and printed the expected numbers"
else
    echo "error: the consumer package printed other numbers than Tests/Consumer/expected-output.txt" >&2
    exit 1
fi
