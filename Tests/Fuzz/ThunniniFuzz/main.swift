import Foundation

// The executable's entry point hands over to libFuzzer's driver, which
// calls `fuzzOneInput` for every input (SwiftPM gives the executable its own
// `main`, so libFuzzer's is not used).
var argumentCount = CommandLine.argc
var arguments = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argumentCount, &arguments) { fuzzOneInput($0, $1) })
