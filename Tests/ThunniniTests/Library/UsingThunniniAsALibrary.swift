import Foundation
import Thunnini

/// Mean cumulative loss per sequence of the pretrained and of the
/// prefix-tuned predictor on one coin, and the exact expected cumulative
/// regret of the Laplace rule on that coin after the same number of tokens.
func pretrainTuneAndCompare() throws -> (pretrained: Double, tuned: Double, exactRegret: Double) {
    func config<T: Decodable & ValidatableConfig>(_ type: T.Type, _ json: String) throws -> T {
        try decodeConfig(type, from: Data(json.utf8), source: "\(T.self)")
    }
    let predictorConfig = try config(PredictorConfig.self, #"{"token_dimensionality": 2, "embedding_dimensionality": 4}"#)
    let torsoConfig = try config(TorsoConfig.self, #"{"torso_type": "LSTM", "is_trainable": true, "hidden_sizes": [8]}"#)
    let randomCoins = try config(DataGeneratorConfig.self, #"""
        {"generator_type": "Dirichlet-Categorical", "batch_size": 8, "sequence_length": 10, "vocab_size": 2, "alphas": [1, 1]}
        """#)
    let coin = try config(DataGeneratorConfig.self, #"""
        {"generator_type": "Categorical", "batch_size": 8, "sequence_length": 10, "vocab_size": 2, "biases": [0.2, 0.8]}
        """#)
    let training = try config(TrainingConfig.self, #"""
        {"num_training_steps": 20, "learning_rate": 0.01, "max_grad_norm": 1, "data_gen_seed": 0, "predictor_init_seed": 0}
        """#)
    let tuning = try config(TuningConfig.self, #"""
        {"num_tuning_steps": 10, "learning_rate": 0.01, "max_grad_norm": 1, "data_gen_seed": 1, "prefix_init_seed": 2,
         "tuning_method": "prefix_soft", "prefix_length": 2, "prefix_init_method": "one_hot"}
        """#)

    // Build the predictor and pretrain it on Random Coins.
    let predictor = try Predictor(config: predictorConfig, torsoConfig: torsoConfig)
    let pretrained = try Pretraining.train(predictor: predictor, data: randomCoins, config: training)

    // Tune a soft prefix to the single coin (the weights stay as pretrained).
    let tuned = try Tuning.tune(predictor: predictor, parameters: pretrained.parameters, data: coin, config: tuning)
    let prefix = Prefix(type: tuning.tuningMethod.prefixType!, values: tuned.prefix)

    // Evaluate both on fresh sequences of the coin (the original's evaluation seed).
    let source = try makeDataGenerator(coin)
    let sequences = Evaluation.generateFromDatagen(source, seed: 1337, numBatches: 1).sequences
    let before = try Evaluation.evaluate(predictor: predictor, parameters: pretrained.parameters, sequences: sequences)
    let after = try Evaluation.evaluate(predictor: predictor, parameters: tuned.parameters, sequences: sequences, prefix: prefix)
    func meanCumulativeLoss(_ result: Evaluation.Result) -> Double {
        result.instantLosses.storage.reduce(0, +) / Double(result.instantLosses.shape[0])
    }

    // The exact expected regret of the Random Coins Bayes predictor on the coin.
    let exact = try ExactRegret.compute(source: source, predictor: makeDataGenerator(randomCoins), length: coin.sequenceLength)
    return (meanCumulativeLoss(before), meanCumulativeLoss(after), exact.cumulativeRegret.last!)
}
