#!/usr/bin/env python3
"""Times the ORIGINAL google-deepmind/thunnini (JAX/Flax) at the demo settings.

A measurement aid for Docs/performance.md, not part of the Swift package:
it runs the original side by side with `thunnini-ref bench`. Set-up (outside
this repository): a checkout of google-deepmind/thunnini in DIR/thunnini, a
Python 3.11 venv with jax/jaxlib 0.10.2 (CPU), flax, optax, chex, distrax,
numpy, scipy, absl-py, then

    PYTHONPATH=DIR venv/bin/python Docs/tools/bench_original.py --steps 20

Mirrors thunnini-ref's `bench` (Sources/Thunnini/Benchmark/Benchmark.swift):
embedding 16, hidden sizes [64, 32], tokens V = 2, batch 128 x length 50 of
Random Coins (Dirichlet-Categorical, alphas (1, 1)), Adam lr 5e-3 with
clip_by_global_norm(1). Transformer: 4 heads, SinCos, widening 4, no bias,
normalize_qk, LoRA rank 4 (the demo notebook's config).

Phases (each: 1 untimed warm-up step that compiles, then --steps timed steps):
  pretrain      the loop body of thunnini.src.training.train: split key,
                data_generator.generate(...), then the jitted
                predictor_tuning_functions.update_parameters with
                make_grad_fn(tuning_method='full_parameters').
  tune_prefix   the loop body of thunnini.src.tuning.tune for 'prefix_soft'
                (prefix_type 'embedding', K = 6, one_hot init, optimizer state
                over the prefix only).
  tune_weights  the loop body of tuning.tune for 'embedding'.
  evaluate      evaluation.evaluate_predictor_from_sequences on one fixed
                batch, as the original calls it (NOT jitted: eager dispatch).
  evaluate_jit  the same function wrapped in jax.jit (params, sequences args).
Every timed step ends in jax.block_until_ready on all outputs.

Run with PYTHONPATH=/work/orig (the package is imported as thunnini.src).
"""

import argparse
import os
import sys


def parse_args():
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--steps', type=int, default=20, help='timed steps per phase')
  p.add_argument('--torso', default='LSTM,Transformer',
                 help='comma list of LSTM, Transformer, Linear, or "all"')
  p.add_argument('--phases', default='pretrain,tune_prefix,tune_weights,evaluate,evaluate_jit',
                 help='comma list of phases')
  p.add_argument('--x64', action='store_true',
                 help='enable jax_enable_x64 and cast params, sequences and '
                      'prefix to float64 (the original casts data to float32 '
                      'and Flax params default to float32, so the flag alone '
                      'would not change the compute dtype; the LSTM cell is '
                      'given param_dtype float64 by a runtime shim)')
  p.add_argument('--single-thread', action='store_true',
                 help='restrict XLA:CPU to one thread (set before jax import)')
  return p.parse_args()


ARGS = parse_args()
if ARGS.single_thread:
  os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                             ' --xla_cpu_multi_thread_eigen=false'
                             ' intra_op_parallelism_threads=1').strip()

import functools  # pylint: disable=g-import-not-at-top
import time

import jax
from jax import random as jrandom
import jax.numpy as jnp
import numpy as np
import optax

if ARGS.x64:
  jax.config.update('jax_enable_x64', True)

from thunnini.src import builders  # pylint: disable=g-import-not-at-top
from thunnini.src import config as config_lib
from thunnini.src import evaluation
from thunnini.src import predictor_tuning_functions
from thunnini.src import tuning

if ARGS.x64:
  # The original's LSTM torso builds nn.OptimizedLSTMCell(hidden) with the
  # default param_dtype float32, which also fixes the scan carry to float32;
  # with float64 inputs lax.scan then rejects the carry. Runtime shim (the
  # original's files are untouched): make that cell default to float64.
  import flax.linen as _nn  # pylint: disable=g-import-not-at-top
  _nn.OptimizedLSTMCell = functools.partial(_nn.OptimizedLSTMCell,
                                            param_dtype=jnp.float64)

BATCH, LENGTH, VOCAB, EMBED, HIDDEN = 128, 50, 2, 16, [64, 32]
LR, MAX_NORM, PREFIX_LEN = 5e-3, 1.0, 6


def torso_config(name):
  if name == 'LSTM':
    return config_lib.LSTMTorsoConfig(is_trainable=True, hidden_sizes=HIDDEN,
                                      return_hidden_states=False)
  if name == 'Linear':
    return config_lib.LinearTorsoConfig(is_trainable=True, hidden_sizes=HIDDEN,
                                        return_hidden_states=False)
  if name == 'Transformer':
    return config_lib.TransformerTorsoConfig(
        is_trainable=True, hidden_sizes=HIDDEN, num_attention_heads=4,
        positional_encoding='SinCos', return_hidden_states=False,
        use_bias=False, widening_factor=4, normalize_qk=True, use_lora=True,
        reduced_rank=4)
  raise SystemExit(f'unknown torso {name!r}')


def to_compute_dtype(tree):
  if not ARGS.x64:
    return tree
  return jax.tree_util.tree_map(
      lambda x: x.astype(jnp.float64) if jnp.issubdtype(x.dtype, jnp.floating) else x,
      tree)


def ready(tree):
  return jax.block_until_ready(tree)


def time_update_phase(predictor, data_generator, params0, tuning_method, steps):
  """Warm-up + timed loop identical to training.train / tuning.tune bodies."""
  optimizer = optax.chain(optax.clip_by_global_norm(MAX_NORM), optax.adam(LR))
  match tuning_method:
    case 'prefix_soft':
      prefix_type = 'embedding'
      prefix = tuning.generate_prefix(PREFIX_LEN, EMBED, 'one_hot',
                                      jrandom.PRNGKey(1))
      prefix = to_compute_dtype(prefix)
      opt_state = optimizer.init(params=prefix)
    case _:
      prefix_type, prefix = 'none', None
      opt_state = optimizer.init(params=params0)
  grad_fn = predictor_tuning_functions.make_grad_fn(
      predictor=predictor, tuning_method=tuning_method)
  update_fn = functools.partial(
      predictor_tuning_functions.update_parameters,
      grad_fn=grad_fn, optimizer=optimizer, prefix_type=prefix_type,
      tuning_method=tuning_method)
  # update_parameters donates params/opt_state/prefix: copy, as tuning.tune does.
  params = jax.tree_util.tree_map(jnp.copy, params0)

  def one_step(params, prefix, opt_state, data_rng):
    data_rng, data_rng_now = jrandom.split(data_rng)
    sequences = data_generator.generate(rng_key=data_rng_now,
                                        return_ground_truth_log_probs=False)
    sequences = to_compute_dtype(sequences)
    params, prefix, opt_state, loss, norm = update_fn(
        params=params, opt_state=opt_state, sequences=sequences, prefix=prefix)
    ready((params, prefix, opt_state, loss, norm))
    return params, prefix, opt_state, data_rng, loss

  params, prefix, opt_state, _, loss = one_step(params, prefix, opt_state,
                                                jrandom.PRNGKey(7))
  data_rng = jrandom.PRNGKey(8)
  c0, t0 = time.process_time(), time.perf_counter()
  for _ in range(steps):
    params, prefix, opt_state, data_rng, loss = one_step(
        params, prefix, opt_state, data_rng)
  t1, c1 = time.perf_counter(), time.process_time()
  return t1 - t0, c1 - c0, loss


def time_datagen(data_generator, steps):
  """Seconds of the eager data generation alone (part of each update step)."""
  rng = jrandom.PRNGKey(3)
  ready(data_generator.generate(rng_key=rng, return_ground_truth_log_probs=False))
  t0 = time.perf_counter()
  for _ in range(steps):
    rng, now = jrandom.split(rng)
    ready(data_generator.generate(rng_key=now, return_ground_truth_log_probs=False))
  return (time.perf_counter() - t0) / steps


def time_evaluate(predictor, params, sequences, steps, jit):
  fn = functools.partial(evaluation.evaluate_predictor_from_sequences,
                         predictor_config=None, torso_config=None,
                         predictor_instance=predictor, batch_size=-1)
  if jit:
    fn = jax.jit(fn)
  out = ready(fn(predictor_params=params, sequences=sequences))
  c0, t0 = time.process_time(), time.perf_counter()
  for _ in range(steps):
    out = ready(fn(predictor_params=params, sequences=sequences))
  t1, c1 = time.perf_counter(), time.process_time()
  return t1 - t0, c1 - c0, jnp.mean(jnp.sum(out[1], axis=1))


def main():
  torsos = (['LSTM', 'Transformer', 'Linear'] if ARGS.torso == 'all'
            else ARGS.torso.split(','))
  phases = ARGS.phases.split(',')
  print(f'original thunnini (JAX) | jax {jax.__version__} | '
        f'backend {jax.default_backend()} | devices {jax.devices()} | '
        f'cpus {os.cpu_count()} | dtype {"float64" if ARGS.x64 else "float32"}'
        f' | single_thread {ARGS.single_thread} | steps {ARGS.steps}')
  print(f'XLA_FLAGS={os.environ.get("XLA_FLAGS", "")!r}')
  predictor_config = config_lib.PredictorConfig(token_dimensionality=VOCAB,
                                                embedding_dimensionality=EMBED)
  data_config = config_lib.DirichletCategoricalGeneratorConfig(
      batch_size=BATCH, sequence_length=LENGTH, vocab_size=VOCAB,
      alphas=np.array([1, 1]))
  data_generator = builders.build_datagen(data_config)
  gen_s = time_datagen(data_generator, max(ARGS.steps, 5))
  print(f'data_generator.generate alone (eager, inside every update step): '
        f'{gen_s:.5f} s/batch')
  header = (f'{"torso":12s} {"phase":13s} {"steps":>5s} {"seconds":>8s} '
            f'{"s/step":>8s} {"tokens/s":>10s} {"cpu s/step":>10s} {"last loss":>10s}')
  print(header)
  for name in torsos:
    tcfg = torso_config(name)
    predictor = builders.build_predictor(predictor_config, tcfg)
    # Same init path as training.train (params from predictor_init_seed 0).
    data_rng, data_init_rng = jrandom.split(jrandom.PRNGKey(0))
    del data_rng
    _, init_rng = jrandom.split(jrandom.PRNGKey(0))
    dummy = data_generator.generate(rng_key=data_init_rng,
                                    return_ground_truth_log_probs=False)
    params = to_compute_dtype(predictor.init(rngs=init_rng, sequences=dummy))
    eval_sequences = to_compute_dtype(data_generator.generate(
        rng_key=jrandom.PRNGKey(9), return_ground_truth_log_probs=False))
    for phase in phases:
      match phase:
        case 'pretrain':
          r = time_update_phase(predictor, data_generator, params,
                                'full_parameters', ARGS.steps)
        case 'tune_prefix':
          r = time_update_phase(predictor, data_generator, params,
                                'prefix_soft', ARGS.steps)
        case 'tune_weights':
          r = time_update_phase(predictor, data_generator, params,
                                'embedding', ARGS.steps)
        case 'evaluate':
          r = time_evaluate(predictor, params, eval_sequences, ARGS.steps, False)
        case 'evaluate_jit':
          r = time_evaluate(predictor, params, eval_sequences, ARGS.steps, True)
        case _:
          raise SystemExit(f'unknown phase {phase!r}')
      secs, cpu, loss = r
      print(f'{name:12s} {phase:13s} {ARGS.steps:5d} {secs:8.3f} '
            f'{secs / ARGS.steps:8.4f} {BATCH * LENGTH * ARGS.steps / secs:10.0f} '
            f'{cpu / ARGS.steps:10.4f} {float(loss):10.4f} {loss.dtype}', flush=True)


if __name__ == '__main__':
  sys.exit(main())
