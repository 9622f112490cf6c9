/// What one `ExperimentUnit` computed: everything the results folder needs
/// from it, and everything a later unit reads from it. A unit fills only its
/// own fields (Docs/cluster.md lists which).
public struct ExperimentUnitOutput: Sendable {
    /// The parameters every method starts from (the `pretrain` unit).
    public var parameters: ParameterTree?
    /// The pretraining curves (the `pretrain` unit, with pretraining).
    public var pretrainingCurves: ExperimentResults.Curves?
    /// The tuning run (a `tune` unit).
    public var tuningRun: ExperimentResults.TuningRun?
    /// The mean cumulative loss of each candidate of a `hardPrefixCandidates` unit, in its range's order.
    public var candidateLosses: [Double]?
    /// The winner of a hard-prefix search (`hardPrefix`: HardPT; the PreBayesPT baseline), with its name.
    public var hardPrefix: (name: String, result: ExperimentResults.HardPrefix)?
    /// Every network evaluation on every source, in the order they were made.
    public var evaluations: [Evaluated] = []
    /// The internal-dynamics data (the `dynamics` unit).
    public var dynamics: ExperimentResults.Dynamics?

    /// One network's (or Bayes predictor's) losses on one evaluation source.
    public struct Evaluated: Sendable {
        public var source: String
        public var method: String
        /// B x T instant log-losses.
        public var losses: Tensor
        /// The first `ExperimentResults.exampleSequenceCount` (or fewer) rows
        /// of the B x T x V log-probabilities.
        public var exampleLogProbs: Tensor

        public init(source: String, method: String, losses: Tensor, exampleLogProbs: Tensor) {
            self.source = source
            self.method = method
            self.losses = losses
            self.exampleLogProbs = exampleLogProbs
        }
    }

    public init() {}
}

extension ExperimentResults {
    /// Adds a unit's output, in plan order: after the outputs of all units,
    /// the results are what a one-process run computes.
    mutating func add(_ output: ExperimentUnitOutput, of unit: ExperimentUnit, evaluationSources: [ExperimentRunner.EvaluationSource]) {
        if let parameters = output.parameters { self.parameters = parameters }
        if let curves = output.pretrainingCurves { pretraining = curves }
        if case .tune(let config, _) = unit.kind, let run = output.tuningRun {
            tuningRuns[config, default: []].append(run)
        }
        if let (name, found) = output.hardPrefix { hardPrefixes[name] = found }
        for evaluated in output.evaluations {
            // The ground truth of a source is the same for every unit; it is
            // not stored in parts but regenerated from the evaluation key.
            let source = evaluationSources.first { $0.name == evaluated.source }!
            addRepetition(source: evaluated.source, method: evaluated.method, losses: evaluated.losses,
                          groundTruth: source.groundTruthLosses, logProbs: evaluated.exampleLogProbs)
        }
        if let dynamics = output.dynamics { self.dynamics = dynamics }
    }
}
