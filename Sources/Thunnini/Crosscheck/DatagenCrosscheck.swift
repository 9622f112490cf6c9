import Foundation

extension Crosscheck {
    /// A data-generator bundle: `solve` and the ground truth on the bundle's
    /// sequences (and, where the bundle has it, the exact expected instant
    /// regret). JAX's sampling is not reproduced; the latent parameter of
    /// each sequence is read off `ground_truth_log_probs[:, 0, :]`.
    static func runDatagenBundle(_ bundle: CrosscheckBundle) throws -> CrosscheckReport {
        guard let config = bundle.datagenConfig else {
            throw ThunniniError("bundle '\(bundle.name)': a datagen bundle needs datagen_config")
        }
        let generator = try makeDataGenerator(config, checkingBatchShape: false)
        var log = ComparisonLog(bundle: bundle)
        let sequences = try bundle.array("sequences")
        log.markUsed("sequences")
        guard sequences.rank == 3, sequences.shape[2] == generator.vocabSize else {
            throw ThunniniError("bundle '\(bundle.name)': sequences have shape \(sequences.shape), expected B x T x \(generator.vocabSize)")
        }
        let tolerance = bundle.tolerance.forward
        let (logProbs, losses) = generator.solve(sequences: sequences)
        log.compare("bayes_log_probs", logProbs, tolerance)
        log.compare("bayes_instant_losses", losses, tolerance)

        if let recorded = bundle.arrays["ground_truth_log_probs"] {
            guard recorded.shape == sequences.shape else {
                throw ThunniniError("bundle '\(bundle.name)': ground_truth_log_probs has shape \(recorded.shape), expected the shape of sequences \(sequences.shape)")
            }
            let (batch, length, vocab) = (sequences.shape[0], sequences.shape[1], sequences.shape[2])
            var groundTruth = Tensor(shape: sequences.shape)
            for b in 0..<batch {
                let firstStep = (0..<vocab).map { recorded.storage[b * length * vocab + $0] }
                let logTheta = try latentLogProbabilities(of: generator, recordedFirstStep: firstStep,
                                                          tolerance: tolerance, bundle: bundle.name, sequence: b)
                for t in 0..<length {
                    for v in 0..<vocab { groundTruth.storage[(b * length + t) * vocab + v] = logTheta[v] }
                }
            }
            log.compare("ground_truth_log_probs", groundTruth, tolerance)
            log.compare("ground_truth_instant_losses", instantLogLosses(logits: groundTruth, sequences: sequences), tolerance)
        }
        // Bundles exported by thunnini-ref also carry the exact expected
        // instant regret of the source's own Bayes predictor (length T).
        if bundle.arrays["expected_instant_regret"] != nil {
            let regret: ExactRegret
            do {
                regret = try ExactRegret.compute(source: generator, predictor: generator, length: sequences.shape[1])
            } catch let error as ThunniniError {
                throw ThunniniError("bundle '\(bundle.name)': \(error.message)")
            }
            log.compare("expected_instant_regret", Tensor(shape: [sequences.shape[1]], storage: regret.instantRegret), tolerance)
        }
        return log.report()
    }

    /// log(theta) of one sequence: Categorical has no latent (log biases); a
    /// mixture's component is the one whose log biases match the record; a
    /// Dirichlet draw is the recorded distribution itself (checked to be one),
    /// so for it only the losses are an independent check.
    static func latentLogProbabilities(of generator: any DataGenerator, recordedFirstStep: [Double],
                                       tolerance: Tolerance, bundle: String, sequence: Int) throws -> [Double] {
        switch generator {
        case let categorical as CategoricalGenerator:
            return categorical.biases.map { log($0) }
        case let mixture as MixtureOfCategoricalsGenerator:
            let matching = mixture.biases.map { row in row.map { log($0) } }.filter { candidate in
                zip(candidate, recordedFirstStep).allSatisfy { tolerance.accepts(actual: $0, expected: $1) }
            }
            guard matching.count == 1 else {
                throw ThunniniError("bundle '\(bundle)': sequence \(sequence)'s ground truth matches \(matching.count) mixture components, expected exactly one")
            }
            return matching[0]
        case is DirichletCategoricalGenerator:
            let theta = recordedFirstStep.map { exp($0) }
            guard theta.allSatisfy({ $0 > 0 }), abs(theta.reduce(0, +) - 1) <= 1e-5 else {
                throw ThunniniError("bundle '\(bundle)': sequence \(sequence)'s recorded Dirichlet draw is not a distribution")
            }
            return recordedFirstStep
        default:
            throw ThunniniError("bundle '\(bundle)': no latent recovery for generator \(generator.config.generatorType)")
        }
    }
}
