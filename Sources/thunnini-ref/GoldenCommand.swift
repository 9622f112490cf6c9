import ArgumentParser
import Foundation
import Thunnini
import ThunniniReport

/// `thunnini-ref golden [--update] [--root DIR]`: check (or regenerate) the
/// fixed-seed golden files under `DIR/Golden` and the cross-check test
/// vectors under `DIR/Golden/testvectors`.
struct GoldenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "golden",
        abstract: "Check the fixed-seed golden files and test vectors under Golden/ (or regenerate them with --update)."
    )

    @Flag(help: "Regenerate every golden file and test vector (and delete those of cases that no longer exist).")
    var update = false

    @Option(help: "Repository root; the files live in <root>/Golden.")
    var root: String = "."

    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try reportingErrors { try threadOptions.apply() }
        let directory = URL(fileURLWithPath: root).appendingPathComponent("Golden")
        let cases = GoldenRegistry.cases
        let vectors = GoldenRegistry.testVectors
        do {
            try ReportGolden.checkRoot(URL(fileURLWithPath: root))
            if update {
                // Rendered first: a results folder that cannot be read stops the update before anything is written.
                let report = try ReportGolden.render(root: URL(fileURLWithPath: root))
                for goldenCase in cases {
                    try GoldenFile.write(goldenCase, to: directory)
                    print("wrote \(GoldenFile.url(for: goldenCase, in: directory).path)")
                }
                for orphan in GoldenFile.orphanedFiles(in: directory, cases: cases) {
                    try FileManager.default.removeItem(at: orphan)
                    print("removed \(orphan.path) (no such case)")
                }
                for vector in vectors {
                    try vector.write(to: directory)
                    print("wrote \(vector.directory(in: directory).path)")
                }
                for orphan in GoldenTestVector.orphanedDirectories(in: directory, vectors: vectors) {
                    try FileManager.default.removeItem(at: orphan)
                    print("removed \(orphan.path) (no such test vector)")
                }
                try ReportGolden.update(root: URL(fileURLWithPath: root), files: report)
                print("wrote \(ReportGolden.expectedPath) (the report of \(ReportGolden.resultsPath))")
                return
            }
            var problems: [String] = []
            for goldenCase in cases {
                let mismatches = try GoldenFile.compare(goldenCase, against: directory)
                problems += mismatches.map(\.description)
                print("\(mismatches.isEmpty ? "ok  " : "FAIL") \(goldenCase.name)")
            }
            for vector in vectors {
                let mismatches = try vector.compare(against: directory)
                problems += mismatches.map(\.description)
                print("\(mismatches.isEmpty ? "ok  " : "FAIL") \(GoldenTestVector.folder)/\(vector.name)")
            }
            let reportProblems = try ReportGolden.compare(root: URL(fileURLWithPath: root))
            print("\(reportProblems.isEmpty ? "ok  " : "FAIL") report (\(ReportGolden.expectedPath))")
            problems += reportProblems
            problems += GoldenFile.orphanedFiles(in: directory, cases: cases)
                .map { "\($0.path): no golden case of that name (run `thunnini-ref golden --update`)" }
            problems += GoldenTestVector.orphanedDirectories(in: directory, vectors: vectors)
                .map { "\($0.path): no test vector of that name (run `thunnini-ref golden --update`)" }
            guard problems.isEmpty else {
                for problem in problems {
                    FileHandle.standardError.write(Data("mismatch: \(problem)\n".utf8))
                }
                FileHandle.standardError.write(Data("error: \(problems.count) golden mismatch(es) in \(directory.path)\n".utf8))
                throw ExitCode.failure
            }
            print("all \(cases.count) golden case(s) and \(vectors.count) test vector(s) match")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            // One line on stderr, whatever failed (ThunniniError's description is its message).
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
