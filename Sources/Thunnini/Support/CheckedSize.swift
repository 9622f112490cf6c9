/// The product of sizes that came from input (a shape in a config, an .npy
/// header, a bundle), or an error naming them: an overflowing product would
/// otherwise trap (Swift's `*`) or wrap, and become an allocation of the
/// wrong size.
///
/// `what` names the sizes in the error, e.g. `"shape [4294967296, 4294967296]"`
/// or `"batch_size x sequence_length x vocab_size"`.
public func checkedProduct(_ factors: [Int], _ what: @autoclosure () -> String) throws -> Int {
    var product = 1
    for factor in factors {
        guard factor >= 0 else { throw ThunniniError("\(what()): negative size \(factor)") }
        let (next, overflow) = product.multipliedReportingOverflow(by: factor)
        guard !overflow else { throw ThunniniError("\(what()): \(factors.map(String.init).joined(separator: " x ")) is too large") }
        product = next
    }
    return product
}

/// `a + b` for sizes or counters from input, or an error naming them.
public func checkedSum(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    guard !overflow else { throw ThunniniError("\(what()): \(a) + \(b) is too large") }
    return sum
}
