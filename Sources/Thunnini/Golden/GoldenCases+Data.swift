extension GoldenRegistry {
    /// The data sources pinned by golden files: one of each generator, V = 2 and 3.
    static let goldenSources: [(name: String, config: DataGeneratorConfig)] = [
        ("categorical", .categorical(CategoricalGeneratorConfig(batchSize: 4, sequenceLength: 12, vocabSize: 3, biases: [0.2, 0.3, 0.5]))),
        ("mixture", .mixtureOfCategoricals(MixtureOfCategoricalsGeneratorConfig(
            batchSize: 4, sequenceLength: 12, vocabSize: 2, mixingWeights: [0.5, 0.5], biases: [[0.2, 0.8], [0.8, 0.2]]))),
        ("dirichlet", .dirichletCategorical(DirichletCategoricalGeneratorConfig(batchSize: 4, sequenceLength: 12, vocabSize: 3, alphas: [0.5, 1, 2]))),
    ]

    /// Cases of the data area: fixed-seed samples with their ground truth and
    /// Bayes solve, and exact regrets.
    static func dataCases() -> [GoldenCase] {
        var cases = goldenSources.map { source in
            GoldenCase(name: "data_\(source.name)_generate_solve") {
                let generator = try makeDataGenerator(source.config)
                let (sequences, groundTruth) = generator.generate(key: RandomKey(seed: 2024))
                let (bayes, losses) = generator.solve(sequences: sequences)
                return [("sequences", sequences), ("ground_truth_log_probs", groundTruth),
                        ("bayes_log_probs", bayes), ("bayes_instant_losses", losses)]
            }
        }
        cases.append(GoldenCase(name: "data_exact_regret") {
            let coin = try makeDataGenerator(.categorical(CategoricalGeneratorConfig(batchSize: 1, sequenceLength: 1, vocabSize: 2, biases: [0.2, 0.8])))
            let laplace = try makeDataGenerator(.dirichletCategorical(DirichletCategoricalGeneratorConfig(batchSize: 1, sequenceLength: 1, vocabSize: 2, alphas: [1, 1])))
            var arrays: [(String, Tensor)] = []
            for (name, sourceIndex, predictorIndex, length) in [("dirichlet_predictor_on_categorical", 0, 2, 50),
                                                                 ("mixture_predictor_on_mixture", 1, 1, 30),
                                                                 ("categorical_predictor_on_dirichlet", 2, 0, 20)] {
                let source = try makeDataGenerator(goldenSources[sourceIndex].config)
                let predictor = try makeDataGenerator(goldenSources[predictorIndex].config)
                let regret = try ExactRegret.compute(source: source, predictor: predictor, length: length)
                arrays.append(("\(name)/cumulative_regret", Tensor(shape: [length], storage: regret.cumulativeRegret)))
            }
            let laplaceOnCoin = try ExactRegret.compute(source: coin, predictor: laplace, length: 100)
            arrays.append(("laplace_on_coin/cumulative_regret", Tensor(shape: [100], storage: laplaceOnCoin.cumulativeRegret)))
            return arrays
        })
        return cases
    }
}
