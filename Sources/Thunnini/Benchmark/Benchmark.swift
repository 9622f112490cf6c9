import Foundation

/// Timing of the engine's phases at fixed settings (`thunnini-ref bench`).
///
/// Benchmarks are measurements, not tests: nothing here asserts a time. The
/// floating-point operation counts are analytic (Docs/performance.md): two
/// per multiply-add of every matrix product the torso, the embedding and the
/// unembedding compute; element-wise work (activations, softmax, norms) is
/// not counted.
public enum Benchmark {
    /// The phases a benchmark times.
    public enum Phase: String, CaseIterable, Sendable {
        /// A pretraining step: forward, backward, clip + Adam on every parameter.
        case pretrain
        /// A tuning step of a soft prefix (`prefix_soft`, K = 6).
        case tunePrefix = "tune_prefix"
        /// A tuning step of the embedding (`embedding`).
        case tuneWeights = "tune_weights"
        /// A forward pass with log-probabilities and losses, no gradient.
        case evaluate
    }

    /// The setting a benchmark runs: the original's demo notebook by default.
    public struct Setting: Sendable {
        /// Embedding and token sizes.
        public var predictor: PredictorConfig
        /// The torso.
        public var torso: TorsoConfig
        /// The data source of every phase (Random Coins: Dirichlet(1, 1) coins).
        public var data: DataGeneratorConfig
        /// Adam's learning rate; clipping at global norm 1.
        public var learningRate = 5e-3
        /// Prefix length of `tune_prefix`.
        public var prefixLength = 6

        /// Batch size and sequence length of `data`.
        public var batchShape: (batch: Int, length: Int) {
            switch data {
            case .categorical(let c): (c.batchSize, c.sequenceLength)
            case .mixtureOfCategoricals(let c): (c.batchSize, c.sequenceLength)
            case .dirichletCategorical(let c): (c.batchSize, c.sequenceLength)
            }
        }
    }

    /// The torso names `bench --torso` accepts.
    public static let torsoNames = ["LSTM", "Transformer", "Linear"]

    /// The demo notebook's setting for a torso: embedding 16, hidden sizes
    /// [64, 32], batch 128 x length 50 of Random Coins. The transformer has 4
    /// heads, q/k normalisation and LoRA of rank 4.
    public static func demoSetting(torso name: String) throws -> Setting {
        let torso: TorsoConfig
        switch name {
        case "LSTM": torso = .lstm(LSTMTorsoConfig(isTrainable: true, hiddenSizes: [64, 32]))
        case "Linear": torso = .linear(LinearTorsoConfig(isTrainable: true, hiddenSizes: [64, 32]))
        case "Transformer":
            torso = .transformer(TransformerTorsoConfig(isTrainable: true, hiddenSizes: [64, 32], numAttentionHeads: 4,
                                                        normalizeQK: true, useLoRA: true, reducedRank: 4))
        default:
            throw ThunniniError("unknown torso '\(name)' for bench; expected one of \(torsoNames.joined(separator: ", ")) or all")
        }
        return Setting(predictor: PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 16), torso: torso,
                       data: .dirichletCategorical(.init(batchSize: 128, sequenceLength: 50, vocabSize: 2, alphas: [1, 1])))
    }

    /// One timed phase.
    public struct Run: Sendable {
        public var torso: String
        public var phase: Phase
        public var threads: Int
        public var steps: Int
        public var seconds: Double
        /// CPU time of the process (all threads) over the timed steps; on a
        /// busy machine `cpuSeconds / threads` is the better speed estimate.
        public var cpuSeconds: Double
        /// Tokens (batch x sequence length, prefix and BOS positions excluded) per step.
        public var tokensPerStep: Int
        /// Analytic floating-point operations per step.
        public var flopsPerStep: Double

        public var secondsPerStep: Double { seconds / Double(steps) }
        public var tokensPerSecond: Double { Double(tokensPerStep * steps) / seconds }
        public var gflopPerSecond: Double { flopsPerStep * Double(steps) / seconds / 1e9 }
    }

    /// Times `steps` steps of `phase` after one untimed warm-up step.
    public static func run(_ setting: Setting, phase: Phase, steps: Int) throws -> Run {
        guard steps >= 1 else { throw ThunniniError("bench --steps must be at least 1, got \(steps)") }
        let predictor = try Predictor(config: setting.predictor, torsoConfig: setting.torso)
        let generator = try makeDataGenerator(setting.data)
        var parameters = predictor.initialParameters(seed: 0)
        let (batch, length) = setting.batchShape
        let method: TuningMethod? = switch phase {
        case .pretrain: .fullParameters
        case .tunePrefix: .prefixSoft
        case .tuneWeights: .embedding
        case .evaluate: nil
        }
        var prefix: Tensor? = method?.isPrefixMethod == true
            ? Tuning.initialPrefix(length: setting.prefixLength,
                                   width: method?.prefixType == .embedding ? setting.predictor.embeddingDimensionality
                                                                           : setting.predictor.tokenDimensionality,
                                   method: .oneHot, key: RandomKey(seed: 1))
            : nil
        let prefixLength = prefix?.shape[0] ?? 0
        let elapsed: Double
        var cpuStart = 0.0
        if let method {
            var update = try UpdateStep(predictor: predictor, method: method,
                                        hyperparameters: .init(learningRate: setting.learningRate, maxGradNorm: 1),
                                        parameters: parameters, prefix: prefix)
            _ = try update.run(steps: 1, generator: generator, dataKey: RandomKey(seed: 7),
                               parameters: &parameters, prefix: &prefix, onStep: nil)
            cpuStart = processCPUSeconds()
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try update.run(steps: steps, generator: generator, dataKey: RandomKey(seed: 8),
                               parameters: &parameters, prefix: &prefix, onStep: nil)
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } else {
            let sequences = generator.generate(key: RandomKey(seed: 9)).sequences
            _ = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences)
            cpuStart = processCPUSeconds()
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<steps {
                _ = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences)
            }
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let cpuSeconds = processCPUSeconds() - cpuStart
        let forward = forwardFlops(setting, prefixLength: prefixLength)
        return Run(torso: setting.torso.torsoType, phase: phase, threads: Parallel.threadCount, steps: steps,
                   seconds: elapsed, cpuSeconds: cpuSeconds, tokensPerStep: batch * length,
                   flopsPerStep: method == nil ? forward : 3 * forward)
    }

    /// User + system CPU time of the whole process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Floating-point operations of one forward pass over a batch: 2 per
    /// multiply-add of each matrix product, over all `1 + K + T` positions.
    /// A backward pass costs twice the forward (one product for the input
    /// gradient, one for the kernel gradient), so a training step is 3x.
    public static func forwardFlops(_ setting: Setting, prefixLength: Int) -> Double {
        let (batch, length) = setting.batchShape
        let positions = Double(batch * (1 + prefixLength + length))
        let vocab = Double(setting.predictor.tokenDimensionality)
        let embedding = Double(setting.predictor.embeddingDimensionality)
        var perPosition = 2 * vocab * embedding
        var width = embedding
        switch setting.torso {
        case .lstm(let c):
            for hidden in c.hiddenSizes.map(Double.init) {
                perPosition += 2 * (width + hidden) * 4 * hidden
                width = hidden
            }
        case .linear(let c):
            for hidden in c.hiddenSizes.map(Double.init) {
                perPosition += 2 * width * hidden
                width = hidden
            }
        case .transformer(let c):
            // Causal attention: position t attends to t + 1 positions, so the
            // mean attended span over L positions is (L + 1) / 2.
            let span = Double(1 + prefixLength + length + 1) / 2
            let rank = Double(c.reducedRank)
            for hidden in c.hiddenSizes.map(Double.init) {
                perPosition += 4 * 2 * width * width
                if c.useLoRA { perPosition += 4 * 2 * 2 * width * rank }
                perPosition += 2 * 2 * span * width
                perPosition += 2 * 2 * width * hidden * Double(c.wideningFactor)
            }
        }
        perPosition += 2 * width * vocab
        return positions * perPosition
    }
}
