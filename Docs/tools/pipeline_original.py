#!/usr/bin/env python3
"""Runs the ORIGINAL thunnini's (JAX/Flax) CPU-scale experiment pipeline and times it.

The experiment is Docs/examples/findings-mixture.json, run with the original's
own functions (google-deepmind/thunnini, imported as thunnini.src), in the
order and the way its colabs/ThunniniExperiment.ipynb runs them:

  pretraining   training.train: LSTM torso, embedding 16, hidden sizes
                [64, 32], tokens V = 2; 1000 steps of 128 x 50 Random Coins
                (Dirichlet-Categorical, alphas (1, 1)), Adam lr 5e-3 with
                clip_by_global_norm(1); data_gen_seed 0, predictor_init_seed 1.
  tuning        tuning.run_tuning_experiment with the 7 gradient tuners in the
                notebook's order, SimplexPT (prefix_simplex), RealPT
                (prefix_real), SoftPT (prefix_soft), FullWT (full_parameters),
                EmbedWT (embedding), UnembedWT (unembedding), Un+EmbedWT
                (embedding_unembedding): 500 steps each (tune runs 501 update
                steps) of 128 x 50 Two-Coin Mixture (biases [[0.2, 0.8],
                [0.8, 0.2]], mixing weights [0.5, 0.5]), lr 5e-3, clip 1,
                seeds 10 / 11, 1 repetition, prefix length 6, one_hot init
                (weight tuners: prefix_length / prefix_init_method None, as
                the notebook sets them); evaluation sources Single Coin
                (Categorical 0.2/0.8), Two-Coin Mixture and Random Coins,
                1024 sequences x 200 each, eval_datgen_seed 0,
                eval_batching_batch_size -1, evaluate_untuned_predictor True
                (NoTuning), return_tuned_prefix True. Inside it, each source's
                sequences, Bayes and ground-truth losses come from
                generate_solve_and_losses, and every predictor is evaluated
                with evaluation.evaluate_predictor_from_sequences (not jitted,
                as the original calls it).
  HardPT        the notebook's exhaustive search: all 2^6 = 64 one-hot
                prefixes (the notebook's int_to_binary_one_hot order: bit 1 of
                the binary number, most significant first, is token 0), the
                search sequences drawn from the tuning source with
                jax.random.PRNGKey(5) batch after batch (the notebook reuses
                the same key, so they are copies of one 128-sequence batch)
                until there are 1024, each prefix scored with
                evaluation.evaluate_prefix_list (prefix type 'prepend') by its
                mean cumulative loss; the best one is then evaluated on the
                three sources with evaluate_prefix_list.
  baselines     as the notebook: RandomPF (RealPT's initial prefix, prepended
                to the pretrained predictor, evaluate_prefix_list); PreBayes
                (the pretraining source's Bayes predictor, DataGenerator.solve
                on the evaluation sequences); PreBayesPT (the hard-prefix
                search over the 64 prefixes for that Bayes predictor on the
                search sequences, done once per evaluation source as the
                notebook does it, then solve on the prefixed evaluation
                sequences); and Untrained as the demo notebook does it
                (predictor.init with PRNGKey(815) on 10 sequences, then
                evaluate_predictor_from_sequences). TargetBayes / EvalBayes
                and GroundTruth are the losses run_tuning_experiment already
                computed. A cumulative-regret table (mean over sequences of
                the summed loss minus the ground truth's) is printed at the
                end as a sanity check.

Timing: each phase's wall time is printed as it finishes; tuning.tune,
evaluation.evaluate_predictor_from_sequences and
DataGenerator.generate_solve_and_losses are wrapped at runtime (the original's
files are untouched) so that the calls run_tuning_experiment makes can be
timed one by one; every timed call ends in jax.block_until_ready on its
outputs. The final line is `TOTAL_SECONDS <float>`: wall time from the start
of this script (imports included) to the end of the pipeline.

float32 (the original's default), default JAX / XLA:CPU threading (all cores).
--quick divides every step count by 50 and every sequence count (evaluation
sequences, hard-prefix search sequences) by 8, for a smoke test.

A measurement aid for Docs/performance.md, not part of the Swift package: it
times the original's pipeline side by side with `thunnini-ref run
Docs/examples/findings-mixture.json`. Set-up as for bench_original.py (a
checkout of google-deepmind/thunnini in DIR/thunnini and a venv with its
dependencies), then

    PYTHONPATH=DIR venv/bin/python Docs/tools/pipeline_original.py [--quick]
"""

import time

T_START = time.perf_counter()

import argparse  # pylint: disable=g-import-not-at-top,g-bad-import-order
import collections
import dataclasses
import os
import sys


def parse_args():
  p = argparse.ArgumentParser(
      description=__doc__,
      formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--quick', action='store_true',
                 help='step counts / 50 and sequence counts / 8 (smoke test)')
  return p.parse_args()


ARGS = parse_args()

import jax  # pylint: disable=g-import-not-at-top
import jax.numpy as jnp
import numpy as np

from thunnini.src import builders  # pylint: disable=g-import-not-at-top
from thunnini.src import config as config_lib
from thunnini.src import data_generator_base
from thunnini.src import evaluation
from thunnini.src import training
from thunnini.src import tuning

T_IMPORTS = time.perf_counter()

# ---------------------------------------------------------------------------
# Settings of Docs/examples/findings-mixture.json.
STEP_DIV = 50 if ARGS.quick else 1
SEQ_DIV = 8 if ARGS.quick else 1

VOCAB, EMBED, HIDDEN = 2, 16, [64, 32]
PRETRAIN_STEPS = 1000 // STEP_DIV
TUNE_STEPS = 500 // STEP_DIV
BATCH, LENGTH = 128, 50
LR, MAX_NORM = 5e-3, 1.0
PREFIX_LEN = 6
HARD_NUM_SEQUENCES = 1024 // SEQ_DIV
HARD_SEED = 5
EVAL_NUM_SEQUENCES = 1024 // SEQ_DIV
EVAL_LENGTH = 200
EVAL_SEED = 0
UNTRAINED_SEED = 815

TUNERS = collections.OrderedDict([
    ('SimplexPT', 'prefix_simplex'),
    ('RealPT', 'prefix_real'),
    ('SoftPT', 'prefix_soft'),
    ('FullWT', 'full_parameters'),
    ('EmbedWT', 'embedding'),
    ('UnembedWT', 'unembedding'),
    ('Un+EmbedWT', 'embedding_unembedding'),
])
PREFIX_METHODS = ('prefix_simplex', 'prefix_real', 'prefix_soft')
METHOD_TO_NAME = {method: name for name, method in TUNERS.items()}

# ---------------------------------------------------------------------------
# Timing bookkeeping.
PHASES = []  # (label, seconds), in order.
STATE = {'label': None, 'quiet': False, 'counts': collections.Counter()}
EVAL_NAMES = ['Single Coin', 'Two-Coin Mixture', 'Random Coins']


def record(label, seconds):
  PHASES.append((label, seconds))
  print(f'  {label:52s} {seconds:9.3f} s', flush=True)


class Timer:
  """Context manager that records the wall time of a block as a phase."""

  def __init__(self, label):
    self.label = label
    self.t0 = None

  def __enter__(self):
    self.t0 = time.perf_counter()
    return self

  def __exit__(self, *exc):
    if exc[0] is None:
      record(self.label, time.perf_counter() - self.t0)
    return False


# Runtime wrappers (the original's files are not modified): time each call of
# the functions run_tuning_experiment and the notebook cells call, blocking on
# their outputs so that the time is attributed to the right call.
_orig_tune = tuning.tune
_orig_eval = evaluation.evaluate_predictor_from_sequences
_orig_gsl = data_generator_base.DataGenerator.generate_solve_and_losses


def timed_tune(**kwargs):
  name = METHOD_TO_NAME[kwargs['tuning_config'].tuning_method]
  STATE['label'] = name
  t0 = time.perf_counter()
  out = jax.block_until_ready(_orig_tune(**kwargs))
  record(f'tune {name} ({TUNE_STEPS + 1} update steps)',
         time.perf_counter() - t0)
  return out


def timed_eval(**kwargs):
  t0 = time.perf_counter()
  out = jax.block_until_ready(_orig_eval(**kwargs))
  seconds = time.perf_counter() - t0
  label = STATE['label']
  if STATE.get('pretrained') is not None and (
      kwargs.get('predictor_params') is STATE['pretrained']
      and kwargs.get('prefix_type', 'none') == 'none'):
    label = 'NoTuning'
  if not STATE['quiet']:
    index = STATE['counts'][label]
    STATE['counts'][label] += 1
    record(f'evaluate {label} on {EVAL_NAMES[index % len(EVAL_NAMES)]}',
           seconds)
  return out


def timed_gsl(self, rng_key):
  t0 = time.perf_counter()
  out = jax.block_until_ready(_orig_gsl(self, rng_key))
  record(f'eval data + Bayes + ground truth ({self.config.generator_type})',
         time.perf_counter() - t0)
  return out


tuning.tune = timed_tune
evaluation.evaluate_predictor_from_sequences = timed_eval
data_generator_base.DataGenerator.generate_solve_and_losses = timed_gsl


# ---------------------------------------------------------------------------
# Configs, as the experiment notebook builds them.
def make_configs():
  """Returns predictor, torso, data and tuning configs of the experiment."""
  predictor_config = config_lib.PredictorConfig(
      token_dimensionality=VOCAB, embedding_dimensionality=EMBED)
  torso_config = config_lib.LSTMTorsoConfig(
      is_trainable=True, hidden_sizes=HIDDEN, return_hidden_states=False)
  sources = {
      'Single Coin': config_lib.CategoricalGeneratorConfig(
          batch_size=BATCH, sequence_length=LENGTH, vocab_size=VOCAB,
          biases=np.array([0.2, 0.8])),
      'Two-Coin Mixture': config_lib.MixtureOfCategoricalsGeneratorConfig(
          batch_size=BATCH, sequence_length=LENGTH, vocab_size=VOCAB,
          biases=np.array([[0.2, 0.8], [0.8, 0.2]]),
          mixing_weights=np.array([0.5, 0.5])),
      'Random Coins': config_lib.DirichletCategoricalGeneratorConfig(
          batch_size=BATCH, sequence_length=LENGTH, vocab_size=VOCAB,
          alphas=np.array([1, 1])),
  }
  training_data_config = sources['Random Coins']
  training_config = config_lib.TrainingConfig(
      num_training_steps=PRETRAIN_STEPS, learning_rate=LR,
      max_grad_norm=MAX_NORM, data_gen_seed=0, predictor_init_seed=1)
  tuning_data_config = sources['Two-Coin Mixture']
  base = config_lib.TuningConfig(
      num_tuning_steps=TUNE_STEPS, learning_rate=LR, max_grad_norm=MAX_NORM,
      data_gen_seed=10, prefix_init_seed=11, tuning_method='prefix_real',
      num_tuning_repetitions=1, prefix_length=PREFIX_LEN,
      prefix_init_method='one_hot',
      iterate_datagen_seed_over_repetitions=True)
  tuning_configs = collections.OrderedDict()
  for name, method in TUNERS.items():
    if method in PREFIX_METHODS:
      tuning_configs[name] = dataclasses.replace(base, tuning_method=method)
    else:
      tuning_configs[name] = dataclasses.replace(
          base, tuning_method=method, prefix_length=None,
          prefix_init_method=None)
  eval_data_configs = collections.OrderedDict(
      (name, dataclasses.replace(sources[name],
                                 batch_size=EVAL_NUM_SEQUENCES,
                                 sequence_length=EVAL_LENGTH))
      for name in EVAL_NAMES)
  return (predictor_config, torso_config, training_config,
          training_data_config, tuning_configs, tuning_data_config,
          eval_data_configs)


def hard_prefix(index, length):
  """One-hot K x 2 prefix: bit k of `index` (MSB first) 1 -> token 0."""
  bits = np.array([(index >> (length - 1 - k)) & 1 for k in range(length)],
                  dtype=np.float32)
  return np.stack([bits, 1.0 - bits], axis=1)


def prefix_string(prefix):
  return ''.join(str(int(b)) for b in np.asarray(prefix)[:, 0])


def mean_cumulative(losses):
  return float(np.mean(np.sum(np.asarray(losses), axis=-1)))


def main():
  print(f'original thunnini (JAX) pipeline | jax {jax.__version__} | '
        f'backend {jax.default_backend()} | devices {jax.devices()} | '
        f'cpus {os.cpu_count()} | dtype float32 | quick {ARGS.quick}')
  print(f'XLA_FLAGS={os.environ.get("XLA_FLAGS", "")!r}')
  print(f'pretrain {PRETRAIN_STEPS} steps, tune {TUNE_STEPS} steps, '
        f'batch {BATCH} x {LENGTH}, HardPT {2 ** PREFIX_LEN} prefixes on '
        f'{HARD_NUM_SEQUENCES} sequences, eval {EVAL_NUM_SEQUENCES} x '
        f'{EVAL_LENGTH} on {len(EVAL_NAMES)} sources', flush=True)
  record('imports (python start of script to thunnini imported)',
         T_IMPORTS - T_START)

  (predictor_config, torso_config, training_config, training_data_config,
   tuning_configs, tuning_data_config, eval_data_configs) = make_configs()

  # ---- Pretraining ----
  with Timer(f'pretraining ({PRETRAIN_STEPS} steps)'):
    trained_params, train_results = training.train(
        training_config=training_config,
        predictor_config=predictor_config,
        torso_config=torso_config,
        data_config=training_data_config,
    )
    jax.block_until_ready((trained_params, train_results))
  print(f'    final pretraining loss {float(train_results["loss"][-1]):.4f}')
  STATE['pretrained'] = trained_params

  # ---- Tuning + evaluation (run_tuning_experiment) ----
  with Timer('run_tuning_experiment (all of the above lines)'):
    results, sequences = tuning.run_tuning_experiment(
        predictor_config=predictor_config,
        torso_config=torso_config,
        predictor_params=trained_params,
        tuning_configs=tuning_configs,
        tuning_data_config=tuning_data_config,
        eval_data_configs=eval_data_configs,
        eval_datgen_seed=EVAL_SEED,
        eval_batching_batch_size=-1,
        evaluate_untuned_predictor=True,
        return_tuned_prefix=True,
    )
    jax.block_until_ready((results, sequences))

  # ---- HardPT: exhaustive search ----
  all_hard_prefixes = [hard_prefix(i, PREFIX_LEN)
                       for i in range(2 ** PREFIX_LEN)]
  with Timer(f'HardPT search sequences ({HARD_NUM_SEQUENCES}, key '
             f'{HARD_SEED})'):
    hard_dg = builders.build_datagen(tuning_data_config)
    batches, count = [], 0
    while count < HARD_NUM_SEQUENCES:
      seqs = hard_dg.generate(rng_key=jax.random.PRNGKey(HARD_SEED),
                              return_ground_truth_log_probs=False)
      batches.append(seqs)
      count += seqs.shape[0]
    hard_sequences = jnp.concatenate(batches, axis=0)[:HARD_NUM_SEQUENCES]
    jax.block_until_ready(hard_sequences)

  STATE['quiet'] = True
  with Timer(f'HardPT search ({len(all_hard_prefixes)} prefixes, '
             'evaluate_prefix_list)'):
    _, hard_losses = evaluation.evaluate_prefix_list(
        prefix_list=all_hard_prefixes,
        prefix_type='prepend',
        predictor_config=predictor_config,
        torso_config=torso_config,
        predictor_params=trained_params,
        sequences=hard_sequences,
        batch_size=-1,
    )
    hard_scores = np.array([mean_cumulative(l) for l in hard_losses])
  STATE['quiet'] = False
  best_index = int(np.argmin(hard_scores))
  best_hard_prefix = all_hard_prefixes[best_index]
  print(f'    best hard prefix {prefix_string(best_hard_prefix)} '
        f'(mean cumulative loss {hard_scores[best_index]:.4f}), worst '
        f'{prefix_string(all_hard_prefixes[int(np.argmax(hard_scores))])} '
        f'({hard_scores.max():.4f})')

  # Losses of methods evaluated outside run_tuning_experiment.
  extra = collections.defaultdict(dict)

  # ---- HardPT / RandomPF evaluation ----
  STATE['label'] = 'HardPT'
  for eval_name, eval_sequences in sequences.items():
    _, losses = evaluation.evaluate_prefix_list(
        prefix_list=[best_hard_prefix], prefix_type='prepend',
        predictor_config=predictor_config, torso_config=torso_config,
        predictor_params=trained_params, sequences=eval_sequences,
        batch_size=-1)
    extra['HardPT'][eval_name] = losses[0]

  STATE['label'] = 'RandomPF'
  random_prefixes = results['RealPT']['initial_prefix']
  for eval_name, eval_sequences in sequences.items():
    _, losses = evaluation.evaluate_prefix_list(
        prefix_list=random_prefixes, prefix_type='prepend',
        predictor_config=predictor_config, torso_config=torso_config,
        predictor_params=trained_params, sequences=eval_sequences,
        batch_size=-1)
    extra['RandomPF'][eval_name] = losses[0]

  # ---- PreBayes / PreBayesPT ----
  pretraining_dg = builders.build_datagen(training_data_config)
  for eval_name, eval_sequences in sequences.items():
    with Timer(f'PreBayes on {eval_name}'):
      _, losses = pretraining_dg.solve(eval_sequences)
      extra['PreBayes'][eval_name] = jax.block_until_ready(losses)

  n_hard = hard_sequences.shape[0]
  for eval_name, eval_sequences in sequences.items():
    with Timer(f'PreBayesPT search ({len(all_hard_prefixes)} prefixes) '
               f'for {eval_name}'):
      best, best_loss = None, np.inf
      for prefix in all_hard_prefixes:
        tiled = jnp.tile(prefix, (n_hard, 1, 1))
        _, losses = pretraining_dg.solve(
            jnp.concatenate((tiled, hard_sequences), axis=1))
        score = mean_cumulative(losses[:, PREFIX_LEN:])
        if score < best_loss:
          best, best_loss = prefix, score
    with Timer(f'PreBayesPT on {eval_name}'):
      tiled = jnp.tile(best, (eval_sequences.shape[0], 1, 1))
      _, losses = pretraining_dg.solve(
          jnp.concatenate((tiled, eval_sequences), axis=1))
      extra['PreBayesPT'][eval_name] = jax.block_until_ready(
          losses[:, PREFIX_LEN:])
  print(f'    PreBayesPT prefix {prefix_string(best)} '
        f'(mean cumulative loss {best_loss:.4f})')

  # ---- Untrained (demo notebook) ----
  with Timer(f'Untrained init (PRNGKey({UNTRAINED_SEED}))'):
    untrained_predictor = builders.build_predictor(predictor_config,
                                                   torso_config)
    untrained_params = jax.block_until_ready(untrained_predictor.init(
        rngs=jax.random.PRNGKey(UNTRAINED_SEED),
        sequences=sequences[EVAL_NAMES[0]][0:10]))
  STATE['label'] = 'Untrained'
  for eval_name, eval_sequences in sequences.items():
    _, losses = evaluation.evaluate_predictor_from_sequences(
        predictor_config=predictor_config, torso_config=torso_config,
        predictor_params=untrained_params, sequences=eval_sequences,
        batch_size=-1)
    extra['Untrained'][eval_name] = losses

  t_end = time.perf_counter()

  # ---- Summary ----
  print('\ncumulative regret after the last step (nats; mean over sequences '
        'of summed loss minus ground truth):')
  methods = (['Bayes', 'NoTuning'] + list(TUNERS) +
             ['HardPT', 'RandomPF', 'PreBayes', 'PreBayesPT', 'Untrained'])
  print(f'  {"method":12s}' + ''.join(f'{n:>18s}' for n in EVAL_NAMES))
  for method in methods:
    row = []
    for eval_name in EVAL_NAMES:
      gt = np.asarray(results['ground_truth'][eval_name]['losses'][0])
      if method in extra:
        losses = extra[method][eval_name]
      else:
        losses = results[method][eval_name]['losses'][0]
      row.append(mean_cumulative(np.asarray(losses) - gt))
    print(f'  {method:12s}' + ''.join(f'{v:18.3f}' for v in row))

  print('\nphase totals (wall seconds):')
  def total(pred):
    return sum(s for label, s in PHASES if pred(label))
  groups = [
      ('imports', lambda l: l.startswith('imports')),
      ('pretraining', lambda l: l.startswith('pretraining')),
  ] + [(f'tune {name}', lambda l, n=name: l.startswith(f'tune {n} '))
       for name in TUNERS] + [
           ('all tuners', lambda l: l.startswith('tune ')),
           ('eval data + Bayes + ground truth',
            lambda l: l.startswith('eval data')),
           ('HardPT search (incl. its sequences)',
            lambda l: l.startswith('HardPT search')),
           ('evaluations of predictors (evaluate ...)',
            lambda l: l.startswith('evaluate ')),
           ('PreBayes + PreBayesPT (incl. searches)',
            lambda l: l.startswith('PreBayes')),
           ('Untrained init', lambda l: l.startswith('Untrained init')),
       ]
  for label, pred in groups:
    print(f'  {label:52s} {total(pred):9.3f} s')
  for name in ['NoTuning'] + list(TUNERS) + ['HardPT', 'RandomPF',
                                             'Untrained']:
    secs = total(lambda l, n=name: l.startswith(f'evaluate {n} on '))
    print(f'  {"evaluate " + name + " (3 sources)":52s} {secs:9.3f} s')
  accounted = total(lambda l: not l.startswith('run_tuning_experiment'))
  print(f'  {"unaccounted (bookkeeping between timed calls)":52s} '
        f'{t_end - T_START - accounted:9.3f} s')
  print(f'TOTAL_SECONDS {t_end - T_START:.3f}', flush=True)


if __name__ == '__main__':
  sys.exit(main())
