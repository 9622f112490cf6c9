extension GoldenRegistry {
    /// A tiny transformer with LoRA, so that every tuning method applies.
    static func goldenTuningPredictor() throws -> Predictor {
        try Predictor(config: PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 4),
                      torsoConfig: .transformer(TransformerTorsoConfig(hiddenSizes: [3], numAttentionHeads: 2, wideningFactor: 2,
                                                                       useLoRA: true, reducedRank: 2)))
    }

    static let goldenCoin = DataGeneratorConfig.categorical(CategoricalGeneratorConfig(batchSize: 8, sequenceLength: 6, vocabSize: 2, biases: [0.2, 0.8]))
    static let goldenRandomCoins = DataGeneratorConfig.dirichletCategorical(DirichletCategoricalGeneratorConfig(batchSize: 8, sequenceLength: 6, vocabSize: 2, alphas: [1, 1]))

    /// Cases of the training area: a short pretraining curve, one short
    /// tuning run per method, and the summary of a small experiment.
    static func trainingCases() -> [GoldenCase] {
        var cases = [GoldenCase(name: "training_pretraining_curve") {
            let predictor = try Predictor(config: PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 4),
                                          torsoConfig: .lstm(LSTMTorsoConfig(hiddenSizes: [5])))
            let result = try Pretraining.train(predictor: predictor, data: goldenRandomCoins,
                                               config: TrainingConfig(numTrainingSteps: 10, learningRate: 0.01, maxGradNorm: 1,
                                                                      dataGenSeed: 3, predictorInitSeed: 4))
            return [("loss", Tensor(shape: [10], storage: result.losses)),
                    ("grad_norm_unclipped", Tensor(shape: [10], storage: result.gradientNorms)),
                    ("params/unembedding/kernel", result.parameters["params/unembedding/kernel"])]
        }]
        for method in TuningMethod.allCases {
            cases.append(GoldenCase(name: "training_tune_\(method.rawValue)") {
                let predictor = try goldenTuningPredictor()
                let start = predictor.initialParameters(seed: 1)
                let config = TuningConfig(numTuningSteps: 2, learningRate: 0.01, maxGradNorm: 1, dataGenSeed: 2, prefixInitSeed: 3,
                                          tuningMethod: method, prefixLength: method.isPrefixMethod ? 2 : nil,
                                          prefixInitMethod: method.isPrefixMethod ? .simplex : nil)
                let result = try Tuning.tune(predictor: predictor, parameters: start, data: goldenCoin, config: config)
                var arrays: [(String, Tensor)] = [("loss", Tensor(shape: [3], storage: result.losses)),
                                                  ("grad_norm_unclipped", Tensor(shape: [3], storage: result.gradientNorms))]
                if let initial = result.initialPrefix, let tuned = result.prefix {
                    arrays += [("initial_prefix", initial), ("prefix", tuned)]
                }
                for path in result.parameters.paths where method.moves(path) { arrays.append((path, result.parameters[path])) }
                return arrays
            })
        }
        cases.append(GoldenCase(name: "training_experiment_summary") {
            let tuning = { (method: TuningMethod, repetitions: Int) in
                TuningConfig(numTuningSteps: 3, learningRate: 0.01, maxGradNorm: 1, dataGenSeed: 5, prefixInitSeed: 6,
                             tuningMethod: method, numTuningRepetitions: repetitions, prefixLength: method.isPrefixMethod ? 2 : nil,
                             prefixInitMethod: method.isPrefixMethod ? .oneHot : nil)
            }
            let spec = ExperimentSpec(
                name: "golden", predictorConfig: PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 4),
                torsoConfig: .lstm(LSTMTorsoConfig(hiddenSizes: [5])),
                pretraining: PretrainingSpec(dataConfig: goldenRandomCoins,
                                             trainingConfig: TrainingConfig(numTrainingSteps: 10, learningRate: 0.01, maxGradNorm: 1,
                                                                            dataGenSeed: 0, predictorInitSeed: 0)),
                tuningDataConfig: goldenCoin,
                tuningConfigs: [NamedTuningConfig(name: "RealPT", config: tuning(.prefixReal, 3)),
                                NamedTuningConfig(name: "FullWT", config: tuning(.fullParameters, 1))],
                hardPrefix: HardPrefixSpec(prefixLength: 2, numSequences: 16, dataGenSeed: 5),
                evalDataConfigs: [NamedDataConfig(name: "coin", config: goldenCoin), NamedDataConfig(name: "random-coins", config: goldenRandomCoins)],
                baselines: [.targetBayes, .evalBayes, .noTuning, .randomPF, .preBayes, .preBayesPT])
            let summaries = try ExperimentRunner(spec: spec, reportsProgress: false).run().summaries()
            return summaries.map { ("\($0.source)/\($0.method)/final_cumulative_regret_q25_median_q75", Tensor(shape: [3], storage: $0.finalCumulativeRegret)) }
        })
        return cases
    }
}
