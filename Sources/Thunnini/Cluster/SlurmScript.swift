import Foundation

/// The Slurm job scripts of a planned experiment (`thunnini-ref slurm`,
/// Docs/cluster.md): `DIR/slurm/submit.sh` submits one array job per
/// dependency depth of the plan (depth 0 holds the pretraining), each
/// task running `thunnini-ref run ... --task $SLURM_ARRAY_TASK_ID`, each
/// array after the previous ones (`--dependency=afterok`), then a job that
/// merges (and writes the report). The array indices are the units' plan
/// indices, so a task's log and its unit share a number.
///
/// The executable, the experiment copy and DIR must be on a file system that
/// every node mounts at the same path.
public struct SlurmScript: Sendable {
    /// Slurm settings given on the command line.
    public struct Options: Sendable {
        public var partition: String?
        public var cpusPerTask: Int
        public var time: String?
        public var maxParallel: Int?
        public var report: Bool

        public init(partition: String? = nil, cpusPerTask: Int = 2, time: String? = nil, maxParallel: Int? = nil, report: Bool = true) {
            self.partition = partition
            self.cpusPerTask = cpusPerTask
            self.time = time
            self.maxParallel = maxParallel
            self.report = report
        }

        /// Throws one line for a value sbatch would refuse or misread.
        public func validate() throws {
            guard cpusPerTask >= 1 else { throw ThunniniError("--cpus-per-task must be at least 1, got \(cpusPerTask)") }
            if let maxParallel, maxParallel < 1 { throw ThunniniError("--max-parallel must be at least 1, got \(maxParallel)") }
            if let partition {
                guard !partition.isEmpty, partition.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_-.,".unicodeScalars.contains($0)) }) else {
                    throw ThunniniError("--partition '\(partition)': expected a Slurm partition name (letters, digits, _ - . and commas)")
                }
            }
            if let time {
                // [D-]HH:MM:SS, or MM, or MM:SS, as sbatch reads them; here the full forms.
                let pattern = #"^([0-9]+-)?[0-9]{1,3}:[0-5][0-9]:[0-5][0-9]$"#
                guard time.range(of: pattern, options: .regularExpression) != nil else {
                    throw ThunniniError("--time '\(time)': expected HH:MM:SS or D-HH:MM:SS")
                }
            }
        }
    }

    public let plan: ExperimentPlan
    public let options: Options
    /// Absolute paths written into the scripts.
    public let executable: String, experiment: String, directory: String

    public init(plan: ExperimentPlan, options: Options, executable: String, experiment: String, directory: String) {
        self.plan = plan
        self.options = options
        self.executable = executable
        self.experiment = experiment
        self.directory = directory
    }

    /// `s` quoted for a POSIX shell.
    static func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }

    /// Plan indices as an sbatch `--array` list: runs of consecutive indices as ranges.
    public static func arrayList(_ indices: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < indices.count {
            var j = i
            while j + 1 < indices.count && indices[j + 1] == indices[j] + 1 { j += 1 }
            parts.append(i == j ? "\(indices[i])" : "\(indices[i])-\(indices[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// The unit indices of each dependency depth, shallowest first.
    public var levels: [[Int]] {
        let depths = plan.depths
        return (0...(depths.max() ?? 0)).map { depth in plan.units.indices.filter { depths[$0] == depth } }
    }

    /// `task.sh`: one array task, the unit with the task's index.
    public var taskScript: String {
        """
        #!/bin/bash
        # One unit of experiment '\(plan.spec.name)' (fingerprint \(plan.fingerprint)):
        # the unit whose plan index is this array task's index. Written by `thunnini-ref slurm`.
        set -euo pipefail
        exec \(Self.quoted(executable)) run \(Self.quoted(experiment)) --out \(Self.quoted(directory)) \\
            --task "$SLURM_ARRAY_TASK_ID" --threads "${SLURM_CPUS_PER_TASK:-1}"

        """
    }

    /// `merge.sh`: the merge, then the report.
    public var mergeScript: String {
        var lines = [
            "#!/bin/bash",
            "# Merges the parts of experiment '\(plan.spec.name)' into its results folder\(options.report ? " and writes the report" : ""). Written by `thunnini-ref slurm`.",
            "set -euo pipefail",
            "\(Self.quoted(executable)) merge \(Self.quoted(directory))",
        ]
        if options.report {
            lines.append("\(Self.quoted(executable)) report \(Self.quoted(directory)) --out \(Self.quoted(directory + "/report")) --threads \"${SLURM_CPUS_PER_TASK:-1}\" --quiet")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `submit.sh`: the sbatch calls, printing the job ids.
    public var submitScript: String {
        var common = ["--cpus-per-task=\(options.cpusPerTask)"]
        if let partition = options.partition { common.append("--partition=\(partition)") }
        if let time = options.time { common.append("--time=\(time)") }
        let throttle = options.maxParallel.map { "%\($0)" } ?? ""
        var lines = [
            "#!/bin/bash",
            "# Submits experiment '\(plan.spec.name)' (fingerprint \(plan.fingerprint)) to Slurm:",
            "# one array job per dependency depth of its \(plan.units.count) units, then the merge. Written by `thunnini-ref slurm`.",
            "# The executable and the directory below must be on a file system every node mounts at the same path.",
            "set -euo pipefail",
            "slurm_dir=\(Self.quoted(directory + "/slurm"))",
            "mkdir -p \"$slurm_dir/logs\"",
            "common=(\(common.map(Self.quoted).joined(separator: " ")))",
            "dependency=()",
            "jobs=()",
        ]
        for (depth, indices) in levels.enumerated() {
            lines.append("# depth \(depth): \(indices.count) unit(s)")
            lines.append("job=$(sbatch --parsable \"${common[@]}\" \"${dependency[@]}\" --job-name=thunnini-depth\(depth) "
                + "--array=\(Self.arrayList(indices))\(throttle) --output=\"$slurm_dir/logs/unit-%a.out\" \"$slurm_dir/task.sh\")")
            lines.append("job=${job%%;*}")
            lines.append("jobs+=(\"$job\")")
            lines.append("echo \"depth \(depth): job $job (units \(Self.arrayList(indices)))\"")
            lines.append("dependency=(\"--dependency=afterok:$(IFS=:; echo \"${jobs[*]}\")\" --kill-on-invalid-dep=yes)")
        }
        lines.append("job=$(sbatch --parsable \"${common[@]}\" \"${dependency[@]}\" --job-name=thunnini-merge --output=\"$slurm_dir/logs/merge.out\" \"$slurm_dir/merge.sh\")")
        lines.append("job=${job%%;*}")
        lines.append("echo \"merge: job $job\"")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `task.sh`, `merge.sh` and `submit.sh` into `DIR/slurm/` (executable).
    public func write() throws {
        let folder = URL(fileURLWithPath: directory).appendingPathComponent("slurm")
        do {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("logs"), withIntermediateDirectories: true)
        } catch {
            throw ThunniniError("\(folder.path): cannot create the directory (\(error.localizedDescription))")
        }
        for (name, text) in [("task.sh", taskScript), ("merge.sh", mergeScript), ("submit.sh", submitScript)] {
            let url = folder.appendingPathComponent(name)
            try PartFiles.writeDurably(Data(text.utf8), to: url, atomically: true)
            chmod(url.path, 0o755)
        }
    }
}
