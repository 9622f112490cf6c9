import Foundation

/// How many bytes a command may plan to allocate (`--max-memory`).
///
/// Commands estimate what their input will make them allocate
/// (`MemoryEstimate`) before allocating it, and refuse with one line when
/// the estimate is above this budget: an allocation the machine cannot serve
/// would otherwise end in an abort (or the out-of-memory killer) instead of
/// an error. The default is 80% of the memory the process can use (`limit`:
/// physical memory, cgroup limit, rlimits): the estimates count the large
/// arrays, not every small one, and the rest is left to the system.
public enum MemoryBudget {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var override: Int?

    /// The budget in bytes.
    public static var bytes: Int { current.bytes }

    /// The budget and, unless `--max-memory` set it, the limit it is 80% of
    /// (`physical memory`, `what ulimit -v leaves`, ...).
    public static var current: (bytes: Int, limit: String?) {
        lock.lock(); defer { lock.unlock() }
        if let override { return (override, nil) }
        let limit = limit
        return (eightyPercent(of: limit.bytes), limit.name)
    }

    /// 80% of the memory this process can use: the tightest of the physical
    /// memory, the cgroup limit and what the process's own limits
    /// (`ulimit -v`, RLIMIT_AS; `ulimit -d`, RLIMIT_DATA) leave of the address
    /// space or data segment it already uses. Past an rlimit `malloc` fails
    /// and Swift aborts, so a budget above one would let an estimate pass
    /// that then ends in an abort instead of an error.
    public static var defaultBytes: Int { eightyPercent(of: limit.bytes) }

    static func eightyPercent(of bytes: UInt64) -> Int { Int(min(Double(bytes) / 5 * 4, Double(Int.max))) }

    /// The tightest memory limit of this process and what sets it.
    public static var limit: (bytes: UInt64, name: String) {
        var tightest = (bytes: ProcessInfo.processInfo.physicalMemory, name: "physical memory")
        func consider(_ bytes: UInt64?, _ name: String) {
            if let bytes, bytes < tightest.bytes { tightest = (bytes, name) }
        }
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8) {
            consider(UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)), "the cgroup limit")
        }
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        consider(softLimitLeft(of: .addressSpace, inUse: statusBytes(status, "VmSize")), "what ulimit -v leaves")
        consider(softLimitLeft(of: .dataSegment, inUse: statusBytes(status, "VmData")), "what ulimit -d leaves")
        return tightest
    }

    enum Resource { case addressSpace, dataSegment }

    /// The soft limit of `resource` less `inUse`, or nil when it is unlimited.
    static func softLimitLeft(of resource: Resource, inUse: UInt64) -> UInt64? {
        var limit = rlimit()
        #if os(Linux)
        let name = __rlimit_resource_t((resource == .addressSpace ? RLIMIT_AS : RLIMIT_DATA).rawValue)
        let unlimited = rlim_t.max
        #else
        let name = resource == .addressSpace ? RLIMIT_AS : RLIMIT_DATA
        let unlimited = RLIM_INFINITY
        #endif
        guard getrlimit(name, &limit) == 0, limit.rlim_cur != unlimited else { return nil }
        let soft = UInt64(limit.rlim_cur)
        return soft > inUse ? soft - inUse : 0
    }

    /// A `kB` line of /proc/self/status (`VmSize:   123456 kB`) in bytes; 0 when absent (not Linux).
    static func statusBytes(_ status: String, _ key: String) -> UInt64 {
        for line in status.split(separator: "\n") where line.hasPrefix("\(key):") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count >= 2, let kilobytes = UInt64(fields[1]) { return kilobytes * 1024 }
        }
        return 0
    }

    /// Sets the budget from `--max-memory` text: bytes, or a number with a
    /// suffix K, M, G or T (powers of 1024), e.g. `512M`, `1.5G`.
    public static func set(_ text: String) throws {
        guard let parsed = parse(text) else {
            throw ThunniniError("--max-memory must be a positive size such as 4G, 512M or 1000000, got '\(text)'")
        }
        lock.lock(); defer { lock.unlock() }
        override = parsed
    }

    /// Restores the default budget.
    public static func reset() {
        lock.lock(); defer { lock.unlock() }
        override = nil
    }

    static func parse(_ text: String) -> Int? {
        let units: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824, "T": 1_099_511_627_776]
        var number = text.uppercased()
        var scale = 1.0
        if number.hasSuffix("B") { number.removeLast() }
        if let last = number.last, let unit = units[last] {
            scale = unit
            number.removeLast()
        }
        guard let value = Double(number), value.isFinite, value > 0 else { return nil }
        let bytes = value * scale
        guard bytes >= 1, bytes < 9.0e18 else { return nil }
        return Int(bytes)
    }

    /// `bytes` for people: `1.5 GB` (powers of 1024).
    public static func describe(_ bytes: Double) -> String {
        guard bytes.isFinite, bytes < 1e18 else { return "more than 10^18 bytes" }
        let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
        var value = bytes
        var unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(Int(value)) bytes" : String(format: "%.1f %@", value, units[unit])
    }
}

/// The bytes a command is about to allocate, part by part, in `Double` so
/// that no product of input sizes can overflow while it is being estimated.
///
/// Parts that live for the whole command (parameters, optimizer state, kept
/// evaluation sequences) add up; phases that come one after another
/// (pretraining, each tuning run, each evaluation) count only the largest.
public struct MemoryEstimate: Sendable {
    /// One named part: what it is and which input keys size it.
    public struct Part: Sendable {
        public var label: String
        public var bytes: Double
    }

    public private(set) var lasting: [Part] = []
    public private(set) var phases: [Part] = []

    public init() {}

    /// Adds memory held for the whole command.
    public mutating func keep(_ label: String, bytes: Double) { lasting.append(Part(label: label, bytes: bytes)) }

    /// Adds a phase's working memory (released before the next phase).
    public mutating func phase(_ label: String, bytes: Double) { phases.append(Part(label: label, bytes: bytes)) }

    /// The estimated peak: everything kept plus the largest phase.
    public var peakBytes: Double {
        lasting.reduce(0) { $0 + $1.bytes } + (phases.map(\.bytes).max() ?? 0)
    }

    /// The part that contributes most to the peak.
    public var largestPart: Part? {
        (lasting + phases).max { $0.bytes < $1.bytes }
    }

    /// Throws one line naming `source`, the estimate, the largest part and
    /// the budget when the estimate is above `budget`.
    public func check(source: String) throws {
        let budget = MemoryBudget.current
        try check(source: source, budget: budget.bytes, limit: budget.limit)
    }

    /// The same against a given budget; `limit` names what the budget is 80% of.
    public func check(source: String, budget: Int, limit: String? = nil) throws {
        let peak = peakBytes
        guard peak.isFinite, peak <= Double(budget) else {
            let part = largestPart.map { "; the largest part is \($0.label) (\(MemoryBudget.describe($0.bytes)))" } ?? ""
            let amount = MemoryBudget.describe(peak)
            throw ThunniniError("\(source): needs \(amount.hasPrefix("more") ? "" : "about ")\(amount) of memory, above the budget of \(MemoryBudget.describe(Double(budget)))\(limit.map { " (80% of \($0))" } ?? "")\(part); reduce it or raise --max-memory")
        }
    }
}
