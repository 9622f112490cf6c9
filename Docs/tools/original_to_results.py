#!/usr/bin/env python3
"""Converts the ORIGINAL thunnini's (JAX/Flax) experiment results into a
thunnini-ref results folder (format version 3, Docs/experiment.md), so that
`thunnini-ref report FOLDER` renders them and `thunnini-ref report --compare
OURS FOLDER` sets them beside thunnini-ref's own run of the same experiment.

Input: a pickle file holding one dict, saved at the end of the original's
colabs/ThunniniExperiment.ipynb (or any script that calls the same functions):

  {
    "results":   the notebook's `results` dict: what tuning.run_tuning_experiment
                 returns (results[name]["tuning_loss"]: one loss curve per
                 repetition; results[name][eval_name]["losses"]: one B x T
                 array of instant log losses per repetition, and "log_probs";
                 results["Bayes"] and results["ground_truth"] per source;
                 results["NoTuning"] when evaluate_untuned_predictor), plus the
                 entries the notebook adds: "HardPT", "PreBayes", "PreBayesPT",
                 "RandomPF" (per source "losses" and "logits", one B x T array
                 or a list of them, or an R x B x T array),
    "sequences": the `sequences` dict run_tuning_experiment returns (B x T x V
                 one-hot per source),
    "train_results": optional, training.train's results (its "loss" curve),
    "hard_prefix": optional, for HardPT / PreBayesPT:
                 {"HardPT": {"tokens": [...], "mean_cumulative_loss": x,
                             "candidate_losses": [... in the search order]}, ...}
  }

and the thunnini-ref experiment file that describes the same experiment
(e.g. Docs/examples/notebook-default.json; its method and source names must
be the results' keys). Written: format.json, config.json (that file),
pretraining/curves.json, tuning/<name>/rep<r>/curves.json, hard_prefix.json,
evaluation/index.json, evaluation/<source>/{sequences.npz, examples.npz,
per_sequence_regret.npz, <method>.json}, summary.json. Not written (the
original's results do not hold them): parameters.npz, tuned prefixes and
parameters, dynamics/ (the report then leaves out the dynamics figures);
gradient norms are empty lists.

The original's "Bayes" entry becomes TargetBayes on the source equal to the
tuning source (generator and parameters, as `ExperimentSpec.bayesLabel`) and
EvalBayes elsewhere; GroundTruth is written when the experiment lists it.
Regrets, quantiles (numpy's linear, over repetitions) and the marks
N_tune / N_train / N_eval follow ExperimentResults.swift.

Usage: original_to_results.py RESULTS.pkl EXPERIMENT.json OUT_DIR
Needs numpy (and, to unpickle JAX arrays, jax installed).
"""

import json
import os
import pickle
import sys

import numpy as np

EXAMPLE_SEQUENCES = 8
FORMAT_NAME = "thunnini-ref experiment results"
FORMAT_VERSION = 3
BASELINE_ORDER = ["TargetBayes", "EvalBayes", "PreBayes", "NoTuning", "PreBayesPT", "RandomPF", "GroundTruth", "Untrained"]


def fail(message):
  print(f"error: {message}", file=sys.stderr)
  sys.exit(1)


def repetitions(value, what):
  """A list of B x T (or B x T x V) float64 arrays, one per repetition."""
  if isinstance(value, (list, tuple)):
    return [np.asarray(v, dtype=np.float64) for v in value]
  array = np.asarray(value, dtype=np.float64)
  if array.ndim in (2, 3) and what == "losses":
    return [array] if array.ndim == 2 else list(array)
  if array.ndim in (3, 4) and what == "log_probs":
    return [array] if array.ndim == 3 else list(array)
  fail(f"unexpected shape {array.shape} for {what}")


def log_softmax(x):
  x = x - x.max(axis=-1, keepdims=True)
  return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def normalised(config):
  c = dict(config)
  c.pop("batch_size", None)
  c.pop("sequence_length", None)
  return json.dumps(c, sort_keys=True)


def write_json(path, value):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w") as f:
    json.dump(value, f, sort_keys=True, indent=2)
    f.write("\n")


def write_npz(path, arrays):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  np.savez(path, **{k: np.ascontiguousarray(v, dtype=np.float64) for k, v in arrays.items()})


def main():
  if len(sys.argv) != 4:
    fail("usage: original_to_results.py RESULTS.pkl EXPERIMENT.json OUT_DIR")
  pickle_path, spec_path, out = sys.argv[1:]
  if os.path.exists(out) and os.listdir(out):
    fail(f"{out}: exists and is not empty")
  with open(pickle_path, "rb") as f:
    saved = pickle.load(f)
  with open(spec_path) as f:
    spec = json.load(f)
  results, sequences = saved["results"], saved["sequences"]

  tuning_names = [t["name"] for t in spec.get("tuning_configs", [])]
  baselines = spec.get("baselines", [])
  hard_enabled = spec.get("hard_prefix", {}).get("enabled", True) if "hard_prefix" in spec else False
  methods = tuning_names + (["HardPT"] if hard_enabled else []) + [b for b in BASELINE_ORDER if b in baselines]
  n_tune = spec["tuning_data_config"]["sequence_length"]
  n_train = spec["pretraining"]["data_config"]["sequence_length"] if "pretraining" in spec else None
  target_key = normalised(spec["tuning_data_config"])

  write_json(os.path.join(out, "format.json"), {"format": FORMAT_NAME, "version": FORMAT_VERSION})
  write_json(os.path.join(out, "config.json"), spec)
  if "pretraining" in spec:
    train = saved.get("train_results")
    if train is None:
      fail("the experiment has pretraining but the pickle has no 'train_results'")
    write_json(os.path.join(out, "pretraining", "curves.json"),
               {"loss": [float(x) for x in np.asarray(train["loss"])], "grad_norm_unclipped": []})
  for name in tuning_names:
    if name not in results:
      fail(f"the results have no tuning config '{name}'")
    for r, curve in enumerate(results[name]["tuning_loss"]):
      write_json(os.path.join(out, "tuning", name, f"rep{r + 1}", "curves.json"),
                 {"loss": [float(x) for x in np.asarray(curve)], "grad_norm_unclipped": []})
  needs_hard = hard_enabled or "PreBayesPT" in baselines
  if needs_hard:
    if "hard_prefix" not in saved:
      fail("the experiment has HardPT or PreBayesPT but the pickle has no 'hard_prefix' search results")
    write_json(os.path.join(out, "hard_prefix.json"), saved["hard_prefix"])

  index, rows = [], []
  for source in spec["eval_data_configs"]:
    name, config = source["name"], source["config"]
    if name not in sequences:
      fail(f"the results have no sequences for source '{name}'")
    truth = repetitions(results["ground_truth"][name]["losses"], "losses")[0]
    truth_log_probs = repetitions(results["ground_truth"][name]["log_probs"], "log_probs")[0]
    b, t = truth.shape
    marks = [("N_tune", n_tune)] + ([("N_train", n_train)] if n_train else []) + [("N_eval", t)]
    marks = [(label, n) for label, n in marks if 1 <= n <= t]
    bayes_label = "TargetBayes" if normalised(config) == target_key else "EvalBayes"
    write_npz(os.path.join(out, "evaluation", name, "sequences.npz"),
              {"sequences": np.asarray(sequences[name]), "ground_truth_log_probs": truth_log_probs})
    examples, per_sequence = {}, {}
    for method in methods:
      if method in ("TargetBayes", "EvalBayes"):
        if method != bayes_label:
          continue
        entry = results["Bayes"][name]
      elif method == "GroundTruth":
        entry = results["ground_truth"][name]
      elif method in results and name in results[method]:
        entry = results[method][name]
      else:
        fail(f"the results have no '{method}' on source '{name}'")
      losses = repetitions(entry["losses"], "losses")
      raw = entry.get("log_probs", entry.get("logits"))
      log_probs = [log_softmax(x) for x in repetitions(raw, "log_probs")]
      regret = np.stack([l - truth for l in losses])                       # R x B x T
      instant = regret.mean(axis=1)                                         # R x T
      cumulative = np.cumsum(instant, axis=1)
      q25, median, q75 = (np.quantile(cumulative, q, axis=0) for q in (0.25, 0.5, 0.75))
      at = [{"label": label, "n": n, "cumulative_regret_q25_median_q75": [float(q25[n - 1]), float(median[n - 1]), float(q75[n - 1])]}
            for label, n in marks]
      summary = {
          "source": name, "method": method, "repetitions": len(losses),
          "instant_regret": instant.tolist(), "cumulative_regret": cumulative.tolist(),
          "cumulative_regret_quantiles": {"lower": q25.tolist(), "median": median.tolist(), "upper": q75.tolist()},
          "final_cumulative_regret_q25_median_q75": [float(q25[-1]), float(median[-1]), float(q75[-1])],
          "cumulative_regret_at": at,
      }
      write_json(os.path.join(out, "evaluation", name, f"{method}.json"), summary)
      index.append({"source": name, "method": method})
      rows.append({"source": name, "method": method, "repetitions": len(losses),
                   "final_cumulative_regret_q25_median_q75": summary["final_cumulative_regret_q25_median_q75"],
                   "cumulative_regret_at": at})
      examples[method] = np.stack([lp[:min(EXAMPLE_SEQUENCES, b)] for lp in log_probs])
      running = np.cumsum(regret, axis=2)                                   # R x B x T
      per_sequence[method] = np.stack([running[:, :, n - 1] for _, n in marks], axis=1)  # R x M x B
    write_npz(os.path.join(out, "evaluation", name, "examples.npz"), examples)
    write_npz(os.path.join(out, "evaluation", name, "per_sequence_regret.npz"), per_sequence)
  write_json(os.path.join(out, "evaluation", "index.json"), index)
  write_json(os.path.join(out, "summary.json"), {"rows": rows})
  print(f"wrote {out}")


if __name__ == "__main__":
  main()
