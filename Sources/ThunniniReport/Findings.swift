import Thunnini

/// The outcome of one check.
public enum Verdict: String, Sendable, CaseIterable {
    case holds = "holds"
    case doesNotHold = "does not hold"
    case inconclusive = "inconclusive"
    case notApplicable = "not applicable"

    /// Margins this small (nats) are ties whatever their standard error: two
    /// methods that differ only by rounding are not told apart.
    public static let resolution = 1e-6

    /// The verdict on a margin that is positive when the claim holds: beyond
    /// `Uncertainty.criticalValue` standard errors (and `resolution`) either
    /// way, else inconclusive.
    static func of(_ margin: Estimate) -> Verdict {
        let bound = max(Uncertainty.criticalValue * margin.standardError, resolution)
        if margin.mean > bound { return .holds }
        if margin.mean < -bound { return .doesNotHold }
        return .inconclusive
    }
}

/// One of the paper's claims checked on one experiment.
public struct Finding: Equatable, Sendable {
    /// The check's number in `Findings.catalogue` and, for per-method checks, the method (e.g. "1 SoftPT").
    public var id: String
    /// The claim as checked, with this run's numbers.
    public var statement: String
    /// Where the paper makes the claim.
    public var citation: String
    /// Whether the paper claims it for an experiment of this kind, and why (not).
    public var claimedHere: (Bool, String)?
    public var verdict: Verdict
    /// Positive when the claim holds (nil when not applicable).
    public var margin: Estimate?
    /// How the margin is formed.
    public var rule: String

    public static func == (a: Finding, b: Finding) -> Bool {
        a.id == b.id && a.statement == b.statement && a.verdict == b.verdict && a.margin == b.margin && a.rule == b.rule
            && a.claimedHere?.0 == b.claimedHere?.0 && a.claimedHere?.1 == b.claimedHere?.1
    }
}

/// The paper's claims (Genewein et al. 2025, arXiv 2505.17010), each checked
/// on every experiment with the per-sequence cumulative regrets of the
/// results folder: a margin that is positive when the claim holds, its paired
/// standard error (`Uncertainty`), and a verdict (`Verdict.of`). Every check
/// appears in every chapter; one that lacks its methods or baselines says so.
///
/// Unless stated otherwise a check reads the cumulative regret after N_tune
/// predictions on the evaluation source that is the tuning target (labelled
/// `TargetBayes`).
enum Findings {
    /// Where in the paper each claim is made, by the short label the report's table uses.
    static let references: [(label: String, text: String)] = [
        ("A", "arXiv 2505.17010, abstract: meta-trained networks behave as Bayesian predictors over the pretraining distribution; "
            + "prompting has fundamental limitations that only weight tuning overcomes; soft prefixes are very effective prompts for "
            + "trained and even untrained networks, manipulating activations in ways not achievable by hard tokens."),
        ("F", "arXiv 2505.17010, the single-coin experiment figure (LSTMs and Transformers pretrained on coins of uniform random bias, "
            + "tuned to one coin with bias 0.2): soft prompting is the only prefix-tuning method that reaches optimal performance."),
    ]
    static let abstract = "A"
    static let singleCoinFigure = "F"

    /// The kind of tuning target, which decides where the paper makes each claim.
    enum TargetKind { case singleCoin, mixture, randomCoins }

    static func check(_ results: ResultsFolder) -> [Finding] {
        Checker(results: results).all()
    }

    struct Checker {
        let results: ResultsFolder
        var spec: ExperimentSpec { results.spec }

        var target: NamedDataConfig? {
            spec.evalDataConfigs.first { spec.bayesLabel(for: $0) == Baseline.targetBayes.rawValue }
        }
        var kind: TargetKind {
            switch spec.tuningDataConfig {
            case .categorical: .singleCoin
            case .mixtureOfCategoricals: .mixture
            case .dirichletCategorical: .randomCoins
            }
        }
        var pretrained: Bool { spec.pretraining != nil && spec.torsoConfig.isTrainable }

        func samples(_ method: String, source: String? = nil, mark: String = "N_tune") -> SequenceSamples? {
            guard let source = source ?? target?.name else { return nil }
            return SequenceSamples.read(results, source: source, method: method, mark: mark)
        }

        func f(_ x: Double) -> String { NiceTicks.label(x, decimals: 3) }
        func pm(_ e: Estimate) -> String { "\(f(e.mean)) ± \(f(e.standardError))" }

        var tuned: [String] { spec.tuningConfigs.map(\.name) + (samples("HardPT") != nil ? ["HardPT"] : []) }
        var prefixMethods: [String] { tuned.filter { Palette.group(of: $0, in: spec) == .prefix && samples($0) != nil } }
        func configs(_ method: TuningMethod) -> [String] {
            spec.tuningConfigs.filter { $0.config.tuningMethod == method }.map(\.name)
        }
        var soft: String? { configs(.prefixSoft).first { samples($0) != nil } }
        /// The prefix method with the lowest mean (ties: the first).
        var bestPrefix: String? {
            prefixMethods.min { Uncertainty.estimate(samples($0)!).mean < Uncertainty.estimate(samples($1)!).mean }
        }

        func finding(_ id: String, _ statement: String, _ citation: String, claimed: (Bool, String)?, margin: Estimate, rule: String) -> Finding {
            Finding(id: id, statement: statement, citation: citation, claimedHere: claimed, verdict: .of(margin), margin: margin, rule: rule)
        }
        func missing(_ id: String, _ statement: String, _ citation: String, why: String) -> Finding {
            Finding(id: id, statement: statement + " Not applicable: " + why, citation: citation, claimedHere: nil,
                    verdict: .notApplicable, margin: nil, rule: "")
        }

        func all() -> [Finding] {
            guard let target else {
                return [missing("0", "The paper's claims concern a tuning target.", abstract,
                                why: "no evaluation source equals the tuning source, so there is no target to check them on.")]
            }
            let at = "on \(target.name) at N_tune = \(spec.tuningDataConfig.sequenceLength)"
            var out: [Finding] = []
            let none = samples(Baseline.noTuning.rawValue), bayes = samples(Baseline.targetBayes.rawValue)
            let singleClaim: (Bool, String) = kind == .singleCoin
                ? (true, "a single-coin target") : (false, "the paper makes this claim for a single-coin target, a task of the pretraining distribution")
            let mixtureClaim: (Bool, String) = kind == .mixture
                ? (true, "a mixture target") : (false, "the paper makes this claim for a mixture target, outside what one prefix can select")

            // 1. Every tuner improves on the untuned network.
            let title1 = "Tuning improves on the untuned network."
            if let none {
                for method in tuned {
                    guard let m = samples(method) else { continue }
                    let margin = Uncertainty.contrast([(1, none), (-1, m)])
                    out.append(finding("1 \(method)", "\(method) has lower cumulative regret than NoTuning \(at) (this run: \(pm(Uncertainty.estimate(m))) against \(pm(Uncertainty.estimate(none)))).",
                                       singleCoinFigure, claimed: singleClaim, margin: margin, rule: "NoTuning - \(method)"))
                }
                if tuned.isEmpty { out.append(missing("1", title1, singleCoinFigure, why: "no tuning config or HardPT.")) }
            } else {
                out.append(missing("1", title1, singleCoinFigure, why: "NoTuning is not among the baselines."))
            }

            // 2. The soft prefix is near-optimal: it closes more than half of NoTuning's gap to TargetBayes.
            let title2 = "The soft prefix closes more than half of NoTuning's gap to TargetBayes."
            if let soft, let s = samples(soft), let none, let bayes {
                let margin = Uncertainty.contrast([(0.5, none), (0.5, bayes), (-1, s)])
                let gap = Uncertainty.contrast([(1, none), (-1, bayes)]).mean
                let closed = Uncertainty.contrast([(1, none), (-1, s)]).mean
                let share = gap > 0 ? "\(SVGNumber.format(100 * closed / gap, digits: 1))%" : "an undefined share (no gap)"
                out.append(finding("2", "\(soft) closes more than half of NoTuning's gap to TargetBayes \(at) (this run: \(share) of a gap of \(f(gap)) nats).",
                                   singleCoinFigure + ", " + abstract,
                                   claimed: singleClaim, margin: margin, rule: "(NoTuning + TargetBayes)/2 - \(soft)"))
            } else {
                out.append(missing("2", title2, singleCoinFigure, why: "needs a prefix_soft tuning config, NoTuning and TargetBayes."))
            }

            // 3. The soft prefix is the best prefix method.
            let title3 = "The soft prefix beats every other prefix method."
            let others = prefixMethods.filter { $0 != soft }
            if let soft, let s = samples(soft), !others.isEmpty {
                let margins = others.map { (method: $0, margin: Uncertainty.contrast([(1, samples($0)!), (-1, s)])) }
                let verdicts = margins.map { Verdict.of($0.margin) }
                let closest = margins.min { $0.margin.mean / max($0.margin.standardError, 1e-300) < $1.margin.mean / max($1.margin.standardError, 1e-300) }!
                let verdict: Verdict = verdicts.contains(.doesNotHold) ? .doesNotHold : verdicts.allSatisfy { $0 == .holds } ? .holds : .inconclusive
                let list = margins.map { "\($0.method) - \(soft) = \(pm($0.margin))" }.joined(separator: ", ")
                out.append(Finding(id: "3", statement: "\(soft) has lower cumulative regret than every other prefix method \(at) (this run: \(list)).",
                                   citation: singleCoinFigure,
                                   claimedHere: singleClaim, verdict: verdict, margin: closest.margin,
                                   rule: "each other prefix method - \(soft); holds when every margin holds, does not hold when any does not; margin shown: the closest (\(closest.method))"))
            } else {
                out.append(missing("3", title3, singleCoinFigure, why: "needs a prefix_soft tuning config and another prefix method."))
            }

            // 4. The soft prefix beats what a hard prefix achieves even on the ideal (Bayes) pretrained predictor.
            let title4 = "The soft prefix beats the best hard prefix on the pretraining Bayes predictor (PreBayesPT)."
            if let soft, let s = samples(soft), let ideal = samples(Baseline.preBayesPT.rawValue) {
                out.append(finding("4", "\(soft) has lower cumulative regret than PreBayesPT, the pretraining Bayes predictor behind its best hard prefix, \(at) (this run: \(pm(Uncertainty.estimate(s))) against \(pm(Uncertainty.estimate(ideal)))).",
                                   abstract,
                                   claimed: (true, "every target"), margin: Uncertainty.contrast([(1, ideal), (-1, s)]), rule: "PreBayesPT - \(soft)"))
            } else {
                out.append(missing("4", title4, abstract, why: "needs a prefix_soft tuning config and the PreBayesPT baseline (which needs pretraining)."))
            }

            // 5. Prefix tuning cannot reach the target's Bayes predictor on a mixture.
            let title5 = "No prefix method reaches TargetBayes."
            if let best = bestPrefix, let bayes {
                out.append(finding("5", "The best prefix method stays above TargetBayes \(at) (this run: \(best), by \(pm(Uncertainty.contrast([(1, samples(best)!), (-1, bayes)]))) nats).",
                                   abstract,
                                   claimed: mixtureClaim, margin: Uncertainty.contrast([(1, samples(best)!), (-1, bayes)]), rule: "\(best) - TargetBayes (best prefix method: lowest mean)"))
            } else {
                out.append(missing("5", title5, abstract, why: "needs a prefix method and TargetBayes."))
            }

            // 6. Weight tuning overcomes that limit: full and LoRA weight tuning beat every prefix method.
            let title6 = "Weight tuning (full or LoRA) beats every prefix method."
            let weightMethods = (configs(.fullParameters) + configs(.loraFinetune)).filter { samples($0) != nil }
            if let best = bestPrefix, !weightMethods.isEmpty {
                for method in weightMethods {
                    let margin = Uncertainty.contrast([(1, samples(best)!), (-1, samples(method)!)])
                    out.append(finding("6 \(method)", "\(method) has lower cumulative regret than the best prefix method \(at) (this run: \(pm(Uncertainty.estimate(samples(method)!))) against \(best)'s \(pm(Uncertainty.estimate(samples(best)!)))).",
                                       abstract,
                                       claimed: mixtureClaim, margin: margin, rule: "\(best) - \(method)"))
                }
            } else {
                out.append(missing("6", title6, abstract, why: "needs a full_parameters or lora_finetune tuning config and a prefix method."))
            }

            // 7. The network's best hard prefix acts as the Bayes predictor's: HardPT lands near PreBayesPT.
            let title7 = "HardPT lands near PreBayesPT."
            if let hard = samples("HardPT"), let ideal = samples(Baseline.preBayesPT.rawValue), let none {
                let distance = Uncertainty.contrast([(1, hard), (-1, ideal)]), move = Uncertainty.contrast([(1, none), (-1, ideal)])
                let (sd, sm) = (distance.mean < 0 ? -1.0 : 1.0, move.mean < 0 ? -1.0 : 1.0)
                let margin = Uncertainty.contrast([(0.5 * sm, none), (-0.5 * sm + sd, ideal), (-sd, hard)])
                out.append(finding("7", "HardPT lands nearer PreBayesPT than half of NoTuning's distance to it \(at) (this run: \(f(abs(distance.mean))) apart, against \(f(abs(move.mean))) between NoTuning and PreBayesPT).",
                                   abstract,
                                   claimed: (true, "a pretrained network"), margin: margin,
                                   rule: "|NoTuning - PreBayesPT|/2 - |HardPT - PreBayesPT| (signs from the means)"))
            } else {
                out.append(missing("7", title7, abstract, why: "needs HardPT, PreBayesPT (pretraining) and NoTuning."))
            }

            // 8. Meta-training makes the network Bayes-optimal on its pretraining distribution.
            let title8 = "The pretrained network is close to the pretraining source's Bayes predictor."
            if pretrained, let pre = spec.pretraining,
               let source = spec.evalDataConfigs.first(where: { Findings.sameGenerator($0.config, pre.dataConfig) }),
               let untuned = samples(Baseline.noTuning.rawValue, source: source.name, mark: "N_train"),
               let preBayes = samples(Baseline.preBayes.rawValue, source: source.name, mark: "N_train") {
                let excess = Uncertainty.contrast([(1, untuned), (-1, preBayes)])
                out.append(finding("8", "On \(source.name) (the pretraining source) at N_train = \(pre.dataConfig.sequenceLength), NoTuning's regret exceeds PreBayes's by less than 10% of PreBayes's (this run: by \(pm(excess)), PreBayes \(pm(Uncertainty.estimate(preBayes)))).",
                                   abstract,
                                   claimed: (true, "a pretrained network"), margin: Uncertainty.contrast([(1.1, preBayes), (-1, untuned)]),
                                   rule: "1.1 PreBayes - NoTuning on the pretraining source"))
            } else {
                out.append(missing("8", title8, abstract, why: "needs pretraining, NoTuning and PreBayes, and an evaluation source equal to the pretraining source."))
            }
            return out
        }
    }

    /// Whether two data configs are the same generator with the same parameters (sizes ignored).
    static func sameGenerator(_ a: DataGeneratorConfig, _ b: DataGeneratorConfig) -> Bool {
        func normalised(_ config: DataGeneratorConfig) -> DataGeneratorConfig {
            switch config {
            case .categorical(var c): c.batchSize = 1; c.sequenceLength = 1; return .categorical(c)
            case .mixtureOfCategoricals(var c): c.batchSize = 1; c.sequenceLength = 1; return .mixtureOfCategoricals(c)
            case .dirichletCategorical(var c): c.batchSize = 1; c.sequenceLength = 1; return .dirichletCategorical(c)
            }
        }
        return normalised(a) == normalised(b)
    }

    /// "n holds / n does not hold / n inconclusive / n not applicable".
    static func summary(_ findings: [Finding]) -> String {
        Verdict.allCases.map { v in "\(findings.filter { $0.verdict == v }.count) \(v.rawValue)" }.joined(separator: " / ")
    }
}
