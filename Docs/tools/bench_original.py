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

With --experiment FILE (a thunnini-ref experiment file, e.g.
Docs/examples/notebook-default.json) the settings are that file's instead,
as `thunnini-ref bench FILE` takes them: the predictor and torso configs;
pretrain on its pretraining source with its learning rate and clipping; one
tuning phase per entry of tuning_configs (named tune:NAME, with that
method's learning rate, clipping, prefix length and prefix init) on its
tuning source; evaluate / evaluate_jit on its first evaluation source with
its eval_batch_size. Every tuning method is timed, so each can be set
beside thunnini-ref's step for it.

The package is imported as thunnini.src: put the checkout at DIR/thunnini
and run with PYTHONPATH=DIR. This machine's images set OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE for the Swift toolchain's LAPACK; unset them for the
timing command only (`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ...`).
"""

import argparse
import os
import sys


def parse_args():
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--steps', type=int, default=20, help='timed steps per phase')
  p.add_argument('--experiment', default=None,
                 help='a thunnini-ref experiment file to take the settings from')
  p.add_argument('--torso', default='LSTM,Transformer',
                 help='comma list of LSTM, Transformer, Linear, or "all"')
  p.add_argument('--phases', default=None,
                 help='comma list of phases (with --experiment: pretrain, '
                      'tune (every tuning config), tune:NAME, evaluate, '
                      'evaluate_jit; default all)')
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
import json
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


PREFIX_TYPES = {'prefix_real': 'prepend', 'prefix_simplex': 'simplex',
                'prefix_soft': 'embedding'}


def time_update_phase(predictor, data_generator, params0, tuning_method, steps,
                      lr=LR, max_norm=MAX_NORM, prefix_len=PREFIX_LEN,
                      prefix_init='one_hot', vocab=VOCAB, embed=EMBED):
  """Warm-up + timed loop identical to training.train / tuning.tune bodies."""
  optimizer = optax.chain(optax.clip_by_global_norm(max_norm), optax.adam(lr))
  if tuning_method in PREFIX_TYPES:
    prefix_type = PREFIX_TYPES[tuning_method]
    width = embed if prefix_type == 'embedding' else vocab
    prefix = tuning.generate_prefix(prefix_len, width, prefix_init,
                                    jrandom.PRNGKey(1))
    prefix = to_compute_dtype(prefix)
    opt_state = optimizer.init(params=prefix)
  else:
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


def time_evaluate(predictor, params, sequences, steps, jit, batch_size=-1):
  fn = functools.partial(evaluation.evaluate_predictor_from_sequences,
                         predictor_config=None, torso_config=None,
                         predictor_instance=predictor, batch_size=batch_size)
  if jit:
    fn = jax.jit(fn)
  out = ready(fn(predictor_params=params, sequences=sequences))
  c0, t0 = time.process_time(), time.perf_counter()
  for _ in range(steps):
    out = ready(fn(predictor_params=params, sequences=sequences))
  t1, c1 = time.perf_counter(), time.process_time()
  return t1 - t0, c1 - c0, jnp.mean(jnp.sum(out[1], axis=1))


DATA_CONFIGS = {
    'Dirichlet-Categorical': config_lib.DirichletCategoricalGeneratorConfig,
    'Categorical': config_lib.CategoricalGeneratorConfig,
    'Mixture-of-Categoricals': config_lib.MixtureOfCategoricalsGeneratorConfig,
}
TORSO_CONFIGS = {
    'LSTM': config_lib.LSTMTorsoConfig,
    'Linear': config_lib.LinearTorsoConfig,
    'Transformer': config_lib.TransformerTorsoConfig,
}


def data_config_from(d):
  d = dict(d)
  kind = DATA_CONFIGS[d.pop('generator_type')]
  for key in ('alphas', 'biases', 'mixing_weights'):
    if key in d:
      d[key] = np.array(d[key])
  return kind(**d)


def torso_config_from(d):
  d = dict(d)
  return TORSO_CONFIGS[d.pop('torso_type')](**d)


def print_row(name, phase, secs, cpu, loss, tokens):
  print(f'{name:12s} {phase:34s} {ARGS.steps:5d} {secs:8.3f} '
        f'{secs / ARGS.steps:8.4f} {tokens * ARGS.steps / secs:10.0f} '
        f'{cpu / ARGS.steps:10.4f} {float(loss):10.4f} {loss.dtype}', flush=True)


def main_experiment():
  """The phases of `thunnini-ref bench FILE`, every tuning method apart."""
  with open(ARGS.experiment) as f:
    spec = json.load(f)
  predictor_config = config_lib.PredictorConfig(**spec['predictor_config'])
  tcfg = torso_config_from(spec['torso_config'])
  vocab = predictor_config.token_dimensionality
  embed = predictor_config.embedding_dimensionality
  tuning_configs = spec.get('tuning_configs', [])
  phases = (ARGS.phases or 'pretrain,tune,evaluate,evaluate_jit').split(',')
  if 'tune' in phases:
    i = phases.index('tune')
    phases[i:i + 1] = ['tune:' + t['name'] for t in tuning_configs]
  print(f'original thunnini (JAX) | jax {jax.__version__} | '
        f'backend {jax.default_backend()} | cpus {os.cpu_count()} | '
        f'dtype {"float64" if ARGS.x64 else "float32"} | '
        f'experiment {ARGS.experiment} | steps {ARGS.steps}')
  print(f'XLA_FLAGS={os.environ.get("XLA_FLAGS", "")!r}')
  print(f'{"torso":12s} {"phase":34s} {"steps":>5s} {"seconds":>8s} '
        f'{"s/step":>8s} {"tokens/s":>10s} {"cpu s/step":>10s} {"last loss":>10s}')
  predictor = builders.build_predictor(predictor_config, tcfg)
  init_data = data_config_from((spec.get('pretraining') or {}).get(
      'data_config', spec['tuning_data_config']))
  init_gen = builders.build_datagen(init_data)
  _, data_init_rng = jrandom.split(jrandom.PRNGKey(0))
  _, init_rng = jrandom.split(jrandom.PRNGKey(0))
  dummy = init_gen.generate(rng_key=data_init_rng,
                            return_ground_truth_log_probs=False)
  params = to_compute_dtype(predictor.init(rngs=init_rng, sequences=dummy))
  name = tcfg.torso_type
  for phase in phases:
    if phase == 'pretrain':
      if not spec.get('pretraining'):
        continue
      data = data_config_from(spec['pretraining']['data_config'])
      training = spec['pretraining']['training_config']
      secs, cpu, loss = time_update_phase(
          predictor, builders.build_datagen(data), params, 'full_parameters',
          ARGS.steps, lr=training['learning_rate'],
          max_norm=training['max_grad_norm'], vocab=vocab, embed=embed)
      print_row(name, phase, secs, cpu, loss,
                data.batch_size * data.sequence_length)
    elif phase.startswith('tune:'):
      entry = next(t for t in tuning_configs if t['name'] == phase[5:])
      c = entry['config']
      data = data_config_from(spec['tuning_data_config'])
      secs, cpu, loss = time_update_phase(
          predictor, builders.build_datagen(data), params, c['tuning_method'],
          ARGS.steps, lr=c['learning_rate'], max_norm=c['max_grad_norm'],
          prefix_len=c.get('prefix_length') or 0,
          prefix_init=c.get('prefix_init_method') or 'simplex',
          vocab=vocab, embed=embed)
      print_row(name, f'{phase} ({c["tuning_method"]})', secs, cpu, loss,
                data.batch_size * data.sequence_length)
    elif phase in ('evaluate', 'evaluate_jit'):
      data = data_config_from(spec['eval_data_configs'][0]['config'])
      sequences = to_compute_dtype(builders.build_datagen(data).generate(
          rng_key=jrandom.PRNGKey(9), return_ground_truth_log_probs=False))
      secs, cpu, loss = time_evaluate(
          predictor, params, sequences, ARGS.steps, phase == 'evaluate_jit',
          batch_size=spec.get('eval_batch_size', -1))
      print_row(name, phase, secs, cpu, loss,
                data.batch_size * data.sequence_length)
    else:
      raise SystemExit(f'unknown phase {phase!r}')


def main():
  if ARGS.experiment:
    return main_experiment()
  torsos = (['LSTM', 'Transformer', 'Linear'] if ARGS.torso == 'all'
            else ARGS.torso.split(','))
  phases = (ARGS.phases or
            'pretrain,tune_prefix,tune_weights,evaluate,evaluate_jit').split(',')
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
