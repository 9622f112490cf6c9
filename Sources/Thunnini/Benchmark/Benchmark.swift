import Foundation

/// Timing of the engine's phases at the demo notebook's settings or an
/// experiment file's (`thunnini-ref bench`).
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
        /// A tuning step of a prefix method (the demo: `prefix_soft`, K = 6).
        case tunePrefix = "tune_prefix"
        /// A tuning step of a weight method (the demo: `embedding`).
        case tuneWeights = "tune_weights"
        /// A forward pass over the evaluation sequences with log-probabilities
        /// and losses, no gradient.
        case evaluate
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

    /// Times `steps` steps of `phase` after one untimed warm-up step. Throws
    /// when the setting has no data for `phase` (see `Setting.phases`).
    public static func run(_ setting: Setting, phase: Phase, steps: Int) throws -> Run {
        guard steps >= 1 else { throw ThunniniError("bench --steps must be at least 1, got \(steps)") }
        let predictor = try Predictor(config: setting.predictor, torsoConfig: setting.torso)
        var parameters = predictor.initialParameters(seed: 0)
        let elapsed: Double
        var cpuStart = 0.0
        let (tokensPerStep, flopsPerStep): (Int, Double)
        if let update = setting.update(for: phase) {
            let method = update.method
            let generator = try makeDataGenerator(update.data)
            var prefix: Tensor? = method.prefixType.map {
                Tuning.initialPrefix(length: update.prefixLength, width: setting.predictor.prefixWidth($0),
                                     method: update.prefixInit, key: RandomKey(seed: 1))
            }
            var step = try UpdateStep(predictor: predictor, method: method,
                                      hyperparameters: .init(learningRate: update.learningRate, maxGradNorm: update.maxGradNorm),
                                      parameters: parameters, prefix: prefix)
            _ = try step.run(steps: 1, generator: generator, dataKey: RandomKey(seed: 7),
                             parameters: &parameters, prefix: &prefix, onStep: nil)
            cpuStart = processCPUSeconds()
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try step.run(steps: steps, generator: generator, dataKey: RandomKey(seed: 8),
                             parameters: &parameters, prefix: &prefix, onStep: nil)
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let prefixLength = prefix?.shape[0] ?? 0
            tokensPerStep = update.data.batchSize * update.data.sequenceLength
            // A prefix method's backward pass computes input gradients only.
            flopsPerStep = (method.isPrefixMethod ? 2 : 3)
                * forwardFlops(setting, batch: update.data.batchSize, length: update.data.sequenceLength, prefixLength: prefixLength)
        } else if phase == .evaluate, let evaluation = setting.evaluation {
            let (data, batchSize) = (evaluation.data, evaluation.batchSize)
            let sequences = try makeDataGenerator(data).generate(key: RandomKey(seed: 9)).sequences
            _ = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences, batchSize: batchSize)
            cpuStart = processCPUSeconds()
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<steps {
                _ = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences, batchSize: batchSize)
            }
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            tokensPerStep = data.batchSize * data.sequenceLength
            flopsPerStep = forwardFlops(setting, batch: data.batchSize, length: data.sequenceLength, prefixLength: 0)
        } else {
            throw ThunniniError("bench: the setting has no data for phase '\(phase.rawValue)'")
        }
        let cpuSeconds = processCPUSeconds() - cpuStart
        return Run(torso: setting.torso.torsoType, phase: phase, threads: Parallel.threadCount, steps: steps,
                   seconds: elapsed, cpuSeconds: cpuSeconds, tokensPerStep: tokensPerStep, flopsPerStep: flopsPerStep)
    }

    /// User + system CPU time of the whole process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Floating-point operations of one forward pass over `batch` sequences
    /// of `length` tokens: 2 per multiply-add of each matrix product, over
    /// all `1 + K + T` positions. A backward pass costs twice the forward (one
    /// product for the input gradient, one for the kernel gradient), so a
    /// training step is 3x; a prefix method's step, whose backward pass
    /// computes input gradients only, 2x.
    public static func forwardFlops(_ setting: Setting, batch: Int, length: Int, prefixLength: Int) -> Double {
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
