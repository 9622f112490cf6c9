/// The comparison methods of the experiment notebook that involve no
/// gradient-based tuning (see Docs/experiment.md, "Baselines").
public enum Baseline: String, Codable, CaseIterable, Sendable {
    /// The evaluation source's own Bayes predictor, labelled `TargetBayes`
    /// on a source that is the tuning source (same generator and parameters;
    /// batch size and sequence length may differ).
    case targetBayes = "TargetBayes"
    /// The same predictor, labelled `EvalBayes` on the other sources.
    /// Listing either name (or both) computes it once per source.
    case evalBayes = "EvalBayes"
    /// The oracle that knows each sequence's latent parameter; every regret
    /// is measured against it, listing it also writes its own curves.
    case groundTruth = "GroundTruth"
    /// The pretrained (or untrained) predictor without prefix or tuning
    /// (`evaluate_untuned_predictor=True` in the original).
    case noTuning = "NoTuning"
    /// The initial (untuned) prefixes of the first `prefix_real` tuning
    /// config, one per repetition, prepended to the untuned predictor.
    case randomPF = "RandomPF"
    /// The pretraining source's Bayes predictor on the evaluation sequences.
    case preBayes = "PreBayes"
    /// The pretraining source's Bayes predictor behind the best hard prefix
    /// (exhaustive search with `hard_prefix`'s settings, prefix positions
    /// excluded from the loss).
    case preBayesPT = "PreBayesPT"
    /// A freshly initialised predictor (the demo notebook's "Untrained"
    /// curve), initialised from `untrained_init_seed`.
    case untrained = "Untrained"

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let baseline = Baseline(rawValue: raw) else {
            throw ThunniniError.invalidConfig(keyPath(decoder.codingPath),
                "unknown baseline '\(raw)'; expected one of \(Baseline.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = baseline
    }

    /// Whether this is the evaluation source's Bayes predictor (under either label).
    public var isEvalSourceBayes: Bool { self == .targetBayes || self == .evalBayes }
}
