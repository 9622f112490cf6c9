/// One independent piece of an experiment (Docs/cluster.md): the pretraining,
/// one repetition of one tuning config with its evaluation on every source, a
/// range of the hard-prefix search, one baseline (RandomPF: one repetition), or
/// the internal-dynamics projections.
///
/// A unit reads nothing but the experiment and the outputs of the units it
/// depends on; its keys and seeds come from the documented chains
/// (Docs/random.md) for its own position, never from which other units ran
/// before it in the same process. So an experiment run unit by unit, in any
/// order and in any number of processes, gives the same numbers as one run.
public struct ExperimentUnit: Codable, Equatable, Sendable {
    /// What a unit computes.
    public enum Kind: Equatable, Sendable {
        /// Pretraining, or the initialisation from `predictor_init_seed`
        /// when the experiment has no pretraining.
        case pretrain
        /// Repetition `repetition` (1-based) of the tuning config named `config`,
        /// then the tuned network's evaluation on every source.
        case tune(config: String, repetition: Int)
        /// The losses of hard-prefix candidates `lowerBound..<upperBound`
        /// (enumeration order of `HardPrefixSearch.candidates`).
        case hardPrefixCandidates(Range<Int>)
        /// The hard-prefix search's winner (HardPT) and its evaluation on every
        /// source; with `split`, from the candidate-range units' losses, else
        /// the whole search itself.
        case hardPrefix(split: Bool)
        /// One listed baseline on every source (RandomPF has a unit per repetition).
        case baseline(Baseline, repetition: Int?)
        /// The internal-dynamics PCA and trajectories.
        case dynamics
    }

    /// Position in the plan; units are listed in the order a one-process run
    /// adds their results, and every unit depends only on earlier ones.
    public var index: Int
    /// Unique, path-like: `pretrain`, `tune/SoftPT/rep2`, `hard-prefix/candidates-0-31`,
    /// `hard-prefix`, `baseline/NoTuning`, `baseline/RandomPF/rep1`, `dynamics`.
    public var name: String
    public var kind: Kind
    /// Indices of the units whose outputs this one reads.
    public var dependencies: [Int]

    public init(index: Int, name: String, kind: Kind, dependencies: [Int]) {
        self.index = index
        self.name = name
        self.kind = kind
        self.dependencies = dependencies
    }

    enum CodingKeys: String, CodingKey {
        case index, name, kind, config, repetition, baseline, dependencies = "depends_on"
        case candidateStart = "candidate_start", candidateEnd = "candidate_end", split
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(name, forKey: .name)
        try c.encode(dependencies, forKey: .dependencies)
        switch kind {
        case .pretrain:
            try c.encode("pretrain", forKey: .kind)
        case .tune(let config, let repetition):
            try c.encode("tune", forKey: .kind)
            try c.encode(config, forKey: .config)
            try c.encode(repetition, forKey: .repetition)
        case .hardPrefixCandidates(let range):
            try c.encode("hard_prefix_candidates", forKey: .kind)
            try c.encode(range.lowerBound, forKey: .candidateStart)
            try c.encode(range.upperBound, forKey: .candidateEnd)
        case .hardPrefix(let split):
            try c.encode("hard_prefix", forKey: .kind)
            try c.encode(split, forKey: .split)
        case .baseline(let baseline, let repetition):
            try c.encode("baseline", forKey: .kind)
            try c.encode(baseline, forKey: .baseline)
            try c.encodeIfPresent(repetition, forKey: .repetition)
        case .dynamics:
            try c.encode("dynamics", forKey: .kind)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = try c.decode(Int.self, forKey: .index)
        name = try c.decode(String.self, forKey: .name)
        dependencies = try c.decode([Int].self, forKey: .dependencies)
        let kindName = try c.decode(String.self, forKey: .kind)
        switch kindName {
        case "pretrain": kind = .pretrain
        case "tune": kind = .tune(config: try c.decode(String.self, forKey: .config), repetition: try c.decode(Int.self, forKey: .repetition))
        case "hard_prefix_candidates":
            let start = try c.decode(Int.self, forKey: .candidateStart), end = try c.decode(Int.self, forKey: .candidateEnd)
            guard 0 <= start, start < end else { throw ThunniniError("unit '\(name)': empty candidate range \(start)..<\(end)") }
            kind = .hardPrefixCandidates(start..<end)
        case "hard_prefix": kind = .hardPrefix(split: try c.decode(Bool.self, forKey: .split))
        case "baseline": kind = .baseline(try c.decode(Baseline.self, forKey: .baseline), repetition: try c.decodeIfPresent(Int.self, forKey: .repetition))
        case "dynamics": kind = .dynamics
        default: throw ThunniniError("unit '\(name)': unknown kind '\(kindName)'")
        }
    }
}

extension ExperimentSpec {
    /// The experiment's units in plan order (see `ExperimentUnit`).
    ///
    /// The hard-prefix search is split into `hardPrefixRanges` candidate
    /// ranges of nearly equal size (nil: as many as make each range cost
    /// about one repetition of the cheapest tuning config, counted in
    /// forward-token passes; 1 means one unit searches everything). The
    /// split never changes a number, only how the work is spread.
    public func units(hardPrefixRanges: Int? = nil) throws -> [ExperimentUnit] {
        var units: [ExperimentUnit] = []
        func add(_ name: String, _ kind: ExperimentUnit.Kind, _ dependencies: [Int]) -> Int {
            units.append(ExperimentUnit(index: units.count, name: name, kind: kind, dependencies: dependencies))
            return units.count - 1
        }
        let pretrain = add(pretraining == nil ? "initialise" : "pretrain", .pretrain, [])
        var firstRepetitionOfPrefixMethods: [Int] = []
        for named in tuningConfigs {
            for repetition in 1...named.config.numTuningRepetitions {
                let index = add("tune/\(named.name)/rep\(repetition)", .tune(config: named.name, repetition: repetition), [pretrain])
                if repetition == 1 && named.config.tuningMethod.isPrefixMethod { firstRepetitionOfPrefixMethods.append(index) }
            }
        }
        var hardPrefixUnit: Int? = nil
        if let hard = hardPrefix, hard.enabled {
            let count = try HardPrefixSearch.candidates(vocabSize: predictorConfig.tokenDimensionality, length: hard.prefixLength).count
            let ranges = min(count, max(1, hardPrefixRanges ?? defaultHardPrefixRanges(candidateCount: count)))
            if ranges == 1 {
                hardPrefixUnit = add("hard-prefix", .hardPrefix(split: false), [pretrain])
            } else {
                var rangeUnits: [Int] = []
                for r in 0..<ranges {
                    let range = (r * count / ranges)..<((r + 1) * count / ranges)
                    rangeUnits.append(add("hard-prefix/candidates-\(range.lowerBound)-\(range.upperBound - 1)",
                                          .hardPrefixCandidates(range), [pretrain]))
                }
                hardPrefixUnit = add("hard-prefix", .hardPrefix(split: true), [pretrain] + rangeUnits)
            }
        }
        for baseline in baselines {
            switch baseline {
            case .noTuning, .untrained:
                _ = add("baseline/\(baseline.rawValue)", .baseline(baseline, repetition: nil), baseline == .noTuning ? [pretrain] : [])
            case .randomPF:
                // Validation guarantees a prefix_real config.
                let real = tuningConfigs.first { $0.config.tuningMethod == .prefixReal }!
                for repetition in 1...real.config.numTuningRepetitions {
                    _ = add("baseline/RandomPF/rep\(repetition)", .baseline(.randomPF, repetition: repetition), [pretrain])
                }
            case .targetBayes, .evalBayes, .groundTruth, .preBayes, .preBayesPT:
                _ = add("baseline/\(baseline.rawValue)", .baseline(baseline, repetition: nil), [])
            }
        }
        if pretraining != nil && !InternalStates.stateNames(of: torsoConfig).isEmpty {
            _ = add("dynamics", .dynamics, [pretrain] + firstRepetitionOfPrefixMethods + (hardPrefixUnit.map { [$0] } ?? []))
        }
        return units
    }

    /// Forward-token passes (sequences x positions, a training step counting
    /// three) of one repetition of the cheapest tuning config, and of the
    /// whole hard-prefix search: their ratio, rounded up, is the default number
    /// of candidate ranges.
    func defaultHardPrefixRanges(candidateCount: Int) -> Int {
        guard let hard = hardPrefix else { return 1 }
        let tuneLength = tuningDataConfig.sequenceLength, tuneBatch = tuningDataConfig.batchSize
        let searchCost = Double(candidateCount) * Double(hard.numSequences) * Double(1 + hard.prefixLength + tuneLength)
        let repetitionCosts = tuningConfigs.map { named in
            Double(named.config.numTuningSteps + 1) * 3 * Double(tuneBatch) * Double(1 + (named.config.prefixLength ?? 0) + tuneLength)
        }
        guard let cheapest = repetitionCosts.min(), cheapest > 0 else { return 1 }
        return Int((searchCost / cheapest).rounded(.up))
    }
}
