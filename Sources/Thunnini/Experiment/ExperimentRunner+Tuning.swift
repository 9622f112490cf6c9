import Foundation
import Synchronization

/// The tuning runs of an experiment, several at a time.
///
/// Every run (a tuning config's repetition, then its evaluation on every
/// source) starts from the pretrained parameters and inputs fixed before any
/// run starts (its initial prefix and data seed, drawn in the listed order as
/// the sequential loop draws them), and shares nothing mutable with the other
/// runs. So the runs can go side by side, and their outcomes, taken in the
/// listed order, are the same bits however many run at once.
///
/// Why: on two cores, two runs with one thread each do 15-40% more tuning
/// steps per second than one run with two threads (no section waits for the
/// other core, no serial code between sections; Docs/performance.md).
extension ExperimentRunner {
    /// One tuning run, with everything it starts from.
    struct TuningJob {
        var name: String
        var config: TuningConfig
        var repetition: Int
        var initialPrefix: Tensor?
        var dataSeed: Int
    }

    /// What a tuning run produced: the tuned network and its evaluation on
    /// every source, in the sources' order.
    struct TuningOutcome {
        var tuned: Tuning.Result
        var evaluations: [(losses: Tensor, logProbabilities: Tensor)]
    }

    /// The runs in the order the experiment lists them (config, then
    /// repetition), with the prefix keys split and the data seeds counted as
    /// one sequential loop over them does.
    func tuningJobs() -> [TuningJob] {
        var jobs: [TuningJob] = []
        for named in spec.tuningConfigs {
            let config = named.config
            var prefixKey = RandomKey(seed: UInt64(config.prefixInitSeed))
            var dataSeed = config.dataGenSeed
            for repetition in 1...config.numTuningRepetitions {
                var initialPrefix: Tensor? = nil
                if let prefixType = config.tuningMethod.prefixType {
                    let (next, now) = prefixKey.split()
                    prefixKey = next
                    let width = prefixType == .embedding ? spec.predictorConfig.embeddingDimensionality
                                                         : spec.predictorConfig.tokenDimensionality
                    initialPrefix = Tuning.initialPrefix(length: config.prefixLength!, width: width,
                                                         method: config.prefixInitMethod!, key: now)
                }
                if config.iterateDatagenSeedOverRepetitions { dataSeed += 1 }
                jobs.append(TuningJob(name: named.name, config: config, repetition: repetition,
                                      initialPrefix: initialPrefix, dataSeed: dataSeed))
            }
        }
        return jobs
    }

    /// How many runs go at once, and with how many threads each: with
    /// `threadCount` threads and at least two runs, one run per thread (up
    /// to the number of runs), each run's threads the rest of the division;
    /// fewer when the memory estimate with that many training batches at
    /// once (counting the experiment's largest phase for each extra one)
    /// would exceed `budget`; one run with every thread otherwise.
    static func tuningLanes(jobs: Int, threads: Int, estimate: MemoryEstimate,
                            budget: Int = MemoryBudget.bytes) -> (lanes: Int, threadsPerLane: Int) {
        var lanes = max(1, min(threads, jobs))
        let largestPhase = estimate.phases.map(\.bytes).max() ?? 0
        while lanes > 1 && estimate.peakBytes + Double(lanes - 1) * largestPhase > Double(budget) {
            lanes -= 1
        }
        return (lanes, max(1, threads / lanes))
    }

    /// Runs `jobs`, `lanes` at a time, and returns their outcomes in job
    /// order. After a failure no new run starts; the error of the first
    /// failed run in job order is thrown, labelled as the sequential loop
    /// labels it.
    func runTuningJobs(_ jobs: [TuningJob], predictor: Predictor, parameters: ParameterTree,
                       sources: [EvaluationSource], batchSize: Int?) throws -> [TuningOutcome] {
        let (lanes, threadsPerLane) = Self.tuningLanes(jobs: jobs.count, threads: Parallel.threadCount,
                                                       estimate: spec.memoryEstimate())
        let outcomes = OutcomeSlots(count: jobs.count)
        func runJob(_ index: Int) {
            let job = jobs[index]
            do {
                let (reporter, onStep) = progress("tune \(job.name) rep \(job.repetition)/\(job.config.numTuningRepetitions)",
                                                  total: job.config.numTuningSteps + 1)
                let tuned: Tuning.Result
                do {
                    tuned = try Tuning.tune(predictor: predictor, parameters: parameters, data: spec.tuningDataConfig,
                                            config: job.config, initialPrefix: job.initialPrefix,
                                            overrideDataGenSeed: job.dataSeed, onStep: onStep)
                } catch let error as ThunniniError {
                    throw ThunniniError("tuning_configs[\(job.name)] repetition \(job.repetition): \(error.message)")
                }
                reporter?.finish()
                let prefix = Prefix(type: job.config.tuningMethod.prefixType ?? .none, values: tuned.prefix)
                let evaluations = try evaluateOnSources(job.name, predictor: predictor, parameters: tuned.parameters,
                                                        prefix: prefix, sources: sources, batchSize: batchSize)
                outcomes.set(index, .success(TuningOutcome(tuned: tuned, evaluations: evaluations)))
            } catch {
                outcomes.set(index, .failure(error))
            }
        }
        // Side by side as many runs as fill every lane; the rest (fewer
        // than `lanes`) one after the other with every thread, so that no
        // run goes on alone on one thread while the others' cores idle.
        let sideBySide = lanes == 1 ? 0 : jobs.count - jobs.count % lanes
        if sideBySide > 0 {
            let next = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: lanes) { _ in
                Parallel.$threadCountOverride.withValue(threadsPerLane) {
                    while !outcomes.failed {
                        let index = next.add(1, ordering: .relaxed).oldValue
                        guard index < sideBySide else { return }
                        runJob(index)
                    }
                }
            }
        }
        for index in sideBySide..<jobs.count where !outcomes.failed { runJob(index) }
        return try outcomes.inOrder()
    }

    /// The evaluation of one network on every source (one progress step per
    /// source): what `run()` adds as one repetition of `method` per source.
    func evaluateOnSources(_ method: String, predictor: Predictor, parameters: ParameterTree, prefix: Prefix,
                           sources: [EvaluationSource], batchSize: Int?) throws -> [(losses: Tensor, logProbabilities: Tensor)] {
        let reporter = progress("evaluate \(method)", total: sources.count).reporter
        var evaluations: [(losses: Tensor, logProbabilities: Tensor)] = []
        for (index, source) in sources.enumerated() {
            let result = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: source.sequences,
                                                 prefix: prefix, batchSize: batchSize)
            evaluations.append((result.instantLosses, result.logProbabilities))
            reporter?.update(step: index + 1)
        }
        reporter?.finish()
        return evaluations
    }

    /// One result slot per job, each written once by the thread that ran
    /// the job, read after every thread is done.
    final class OutcomeSlots: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [Result<TuningOutcome, any Error>?]
        private var anyFailed = false

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        /// Whether a job has failed (no new job starts then).
        var failed: Bool {
            lock.lock(); defer { lock.unlock() }
            return anyFailed
        }

        func set(_ index: Int, _ outcome: Result<TuningOutcome, any Error>) {
            lock.lock(); defer { lock.unlock() }
            slots[index] = outcome
            if case .failure = outcome { anyFailed = true }
        }

        /// The outcomes in job order, or the first failure in job order.
        func inOrder() throws -> [TuningOutcome] {
            lock.lock(); defer { lock.unlock() }
            var outcomes: [TuningOutcome] = []
            for slot in slots {
                switch slot {
                case .success(let outcome): outcomes.append(outcome)
                case .failure(let error): throw error
                case nil: break    // not started after an earlier failure
                }
            }
            return outcomes
        }
    }
}
