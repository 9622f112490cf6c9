import ArgumentParser
import Foundation
import Thunnini

/// The `thunnini-ref` command line: one subcommand per file in this folder.
@main
struct ThunniniRef: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thunnini-ref",
        abstract: "Swift reference implementation of Thunnini (fine-tuning of neural sequence predictors).",
        subcommands: [RunCommand.self, PlanCommand.self, MergeCommand.self, VerifyCommand.self, SlurmCommand.self, ReportCommand.self, BenchCommand.self, TrainCommand.self, TuneCommand.self, EvaluateCommand.self, ExactCommand.self, CrosscheckCommand.self, ExportCommand.self, GoldenCommand.self]
    )
}
