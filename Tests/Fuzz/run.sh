#!/bin/sh
# Builds the libFuzzer targets (address sanitizer on) and runs each one in
# turn: Tests/Fuzz/run.sh [TARGET...]   (default: all six)
#   RUNS=1000000      executions per target (libFuzzer -runs)
#   MAX_TIME=3600     seconds per target at most (libFuzzer -max_total_time)
#   CONFIG=release    build configuration (debug is slower, same checks)
#   SKIP_BUILD=1      run the fuzzer built last time
# Seeds come from the project's own files; corpora, logs and any crash
# inputs go to .build-fuzz/fuzz/TARGET/. Exit status non-zero on a crash.
# Leak detection is off: ZIPFoundation's in-memory archive leaks a few
# hundred bytes when it refuses an archive (harmless in a process that then
# exits; Docs/reliability.md), which would stop every npz/bundle run.
set -eu
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-1000000}
MAX_TIME=${MAX_TIME:-3600}
CONFIG=${CONFIG:-release}
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    THUNNINI_FUZZ=1 swift build -c "$CONFIG" --scratch-path .build-fuzz --product ThunniniFuzz \
        -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -v "warning: Cannot export" | tail -n 1
fi
bin=.build-fuzz/$CONFIG/ThunniniFuzz
work=.build-fuzz/fuzz

seed() {  # seed TARGET: fills $work/TARGET/seeds from the repository
    dir=$work/$1/seeds
    rm -rf "$dir" && mkdir -p "$dir"
    case $1 in
    npy)
        for f in Golden/crosscheck/thunnini-jax/datagen_*/arrays.npz; do
            unzip -qo "$f" -d "$dir/$(basename "$(dirname "$f")")"
        done ;;
    npz)
        cp Golden/crosscheck/thunnini-jax/datagen_categorical_v3/arrays.npz "$dir/categorical.npz"
        cp Golden/crosscheck/thunnini-jax/datagen_mixture_v2/arrays.npz "$dir/mixture.npz" ;;
    config)
        # First byte selects the type: 0 data, 1 predictor, 2 torso, 3 training, 4 tuning.
        for f in Docs/examples/coin-0.2.json Docs/examples/laplace.json Docs/examples/two-coins.json; do
            { printf '\000'; cat "$f"; } > "$dir/data-$(basename "$f")"
        done
        printf '\001{"token_dimensionality": 2, "embedding_dimensionality": 4}' > "$dir/predictor.json"
        printf '\002{"torso_type": "Transformer", "is_trainable": true, "hidden_sizes": [8], "num_attention_heads": 2, "use_lora": true}' > "$dir/torso.json"
        printf '\002{"torso_type": "LSTM", "is_trainable": true, "hidden_sizes": [3, 4]}' > "$dir/lstm.json"
        printf '\003{"num_training_steps": 2, "learning_rate": 0.01, "max_grad_norm": 1, "data_gen_seed": 0, "predictor_init_seed": 0}' > "$dir/training.json"
        printf '\004{"num_tuning_steps": 2, "learning_rate": 0.01, "max_grad_norm": 1, "data_gen_seed": 0, "prefix_init_seed": 0, "tuning_method": "prefix_real", "prefix_length": 2}' > "$dir/tuning.json" ;;
    experiment)
        cp Docs/examples/smoke.json Docs/examples/demo-notebook.json Docs/examples/notebook-default.json "$dir/" ;;
    bundle)
        for b in datagen_categorical_v3 datagen_mixture_v2 datagen_dirichlet_v3; do
            d=Golden/crosscheck/thunnini-jax/$b
            { cat "$d/bundle.json"; printf '\n--arrays.npz--\n'; cat "$d/arrays.npz"; } > "$dir/$b"
        done ;;
    golden)
        cp Golden/io_npz_round_trip.golden.txt Golden/training_tune_prefix_real.golden.txt "$dir/" ;;
    esac
}

status=0
for target in ${*:-npy npz config experiment bundle golden}; do
    seed "$target"
    mkdir -p "$work/$target/corpus"
    echo "== $target"
    if ! SWIFT_BACKTRACE=enable=no THUNNINI_FUZZ_TARGET=$target "$bin" -runs="$RUNS" -max_total_time="$MAX_TIME" -max_len=16384 -detect_leaks=0 \
        -artifact_prefix="$work/$target/" -print_final_stats=1 \
        "$work/$target/corpus" "$work/$target/seeds" > "$work/$target/log.txt" 2>&1; then
        status=1
        echo "CRASH: see $work/$target/log.txt and $work/$target/crash-*"
    fi
    grep -E "^(#[0-9]+\s+DONE|stat::number_of_executed_units|Done [0-9]+ runs)" "$work/$target/log.txt" || tail -n 5 "$work/$target/log.txt"
done
exit $status
