#!/usr/bin/env bash
# Mutation testing of the engine: applies each mutant of mutants.tsv (one
# plausible single-point mistake), runs the tests that should notice it, and
# reports which mutants the suite kills. See Tests/Mutation/README.md.
#
#   Tests/Mutation/run.sh [--separate] [--only ID,ID,...] [--work DIR] [--reuse]
#
# Default (schema mode): every mutant is compiled into ONE copy of the
# package, each behind `mutantIsActive(ID)` (an expression mutant becomes
# `(mutantIsActive(ID) ? (mutated) : (original))`, a statement mutant
# `if mutantIsActive(ID) { mutated } else { original }`), so the package is
# built once; mutant ID is then run with THUNNINI_MUTANT=ID in the
# environment (0: none). --separate instead applies each mutant plainly to a
# fresh copy of the sources and rebuilds for it (slow: one release build per
# mutant). Either way the tests run are the mutant's filter only, after a
# check that they pass on the unmutated code. --reuse runs the tests on the
# schema copy already built in the work directory (after a change of
# filters or descriptions only).
#
# Output under the work directory (default /tmp/thunnini-mutation): log.txt,
# results.tsv (id, verdict, seconds, description) and summary.txt.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work=/tmp/thunnini-mutation
separate=0
reuse=0
only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --separate) separate=1 ;;
        --reuse) reuse=1 ;;
        --only) only=",$2,"; shift ;;
        --work) work="$2"; shift ;;
        *) echo "error: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
mkdir -p "$work"
tree="$work/tree"
log="$work/log.txt"
results="$work/results.tsv"
lock="${MUTATION_BUILD_LOCK:-$work/build.lock}"
flags=(-c release -Xswiftc -enable-testing)
: > "$results"
echo "mutation run $(date -u +%FT%TZ) from $root (separate=$separate)" > "$log"

# Mutants: id, kind (e: expression, a: labelled argument, s: statement), file, test filter,
# original text, mutated text, description; tab-separated; '#' comments.
mutants=()
while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    id="${line%%$'\t'*}"
    if [ -n "$only" ] && [[ "$only" != *",$id,"* ]]; then continue; fi
    mutants+=("$line")
done < "$here/mutants.tsv"
echo "${#mutants[@]} mutants" | tee -a "$log"

# Replaces the only occurrence of $MUT_ORIG in file $1 by $MUT_REPL; fails
# (exit 3) unless the original occurs exactly once.
splice() {
    perl -0777 -e '
        my ($file) = @ARGV; open(my $in, "<", $file) or die "cannot read $file\n"; local $/; my $text = <$in>; close $in;
        my ($orig, $repl) = ($ENV{MUT_ORIG}, $ENV{MUT_REPL});
        my $count = () = $text =~ /\Q$orig\E/g;
        if ($count != 1) { print STDERR "$file: the original occurs $count times\n"; exit 3 }
        my $at = index($text, $orig);
        substr($text, $at, length($orig)) = $repl;
        open(my $out, ">", $file) or die "cannot write $file\n"; print $out $text; close $out;' "$1"
}

fresh_copy() {
    # Everything but the build directory (kept for incremental builds) is replaced.
    mkdir -p "$tree"
    find "$tree" -mindepth 1 -maxdepth 1 ! -name .build -exec rm -rf {} +
    (cd "$root" && tar cf - --exclude=./.build --exclude=./.git --exclude=./.swiftpm .) | (cd "$tree" && tar xf -)
}

build() {
    (cd "$tree" && flock "$lock" swift build "${flags[@]}" --build-tests) >> "$log" 2>&1
}

# Runs a filter with mutant $1 active; prints killed / survived / timeout.
run_filter() {
    local id="$1" filter="$2"
    # The log keeps the first 5000 lines of 300 characters (a killed mutant can print gigabytes of failed expectations).
    if (cd "$tree" && set -o pipefail && THUNNINI_MUTANT="$id" timeout 1800 swift test "${flags[@]}" --skip-build --filter "$filter" 2>&1 \
            | awk 'NR <= 5000 { print substr($0, 1, 300) }') >> "$log"; then
        echo survived
    else
        [ $? -eq 124 ] && echo "killed (timeout)" || echo killed
    fi
}

fields() { IFS=$'\t' read -r id kind file filter orig repl desc <<< "$1"; }

if [ "$separate" -eq 0 ] && [ "$reuse" -eq 0 ]; then
    fresh_copy
    cat > "$tree/Sources/Thunnini/MutantSwitch.swift" <<'SWIFT'
import Foundation
/// The mutant a mutation run activates (THUNNINI_MUTANT; 0 or unset: none).
public let activeMutant: Int = Int(ProcessInfo.processInfo.environment["THUNNINI_MUTANT"] ?? "") ?? 0
@inline(__always) public func mutantIsActive(_ id: Int) -> Bool { activeMutant == id }
SWIFT
    for line in "${mutants[@]}"; do
        fields "$line"
        if [ "$kind" = e ]; then
            schema="(mutantIsActive($id) ? ($repl) : ($orig))"
        elif [ "$kind" = a ]; then
            # An argument "label: expression": the label stays outside the switch.
            schema="${orig%%: *}: (mutantIsActive($id) ? (${repl#*: }) : (${orig#*: }))"
        else
            schema="if mutantIsActive($id) { $repl } else { $orig }"
        fi
        MUT_ORIG="$orig" MUT_REPL="$schema" splice "$tree/$file" 2>>"$log" || { echo "error: mutant $id does not apply to $file" | tee -a "$log"; exit 1; }
    done
    echo "building the schema copy" | tee -a "$log"
    build || { echo "error: the schema copy does not build (see $log)" | tee -a "$log"; exit 1; }
fi
if [ "$separate" -eq 0 ]; then
    filters=$(for line in "${mutants[@]}"; do fields "$line"; echo "$filter"; done | sort -u | paste -sd'|')
    echo "baseline: $filters" | tee -a "$log"
    if [ "$(run_filter 0 "$filters")" != survived ]; then
        echo "error: the filtered tests fail without a mutant (see $log)" | tee -a "$log"; exit 1
    fi
fi

killed=0; total=0
for line in "${mutants[@]}"; do
    fields "$line"
    start=$(date +%s)
    echo "=== mutant $id: $desc ($file) filter $filter" >> "$log"
    if [ "$separate" -eq 1 ]; then
        fresh_copy
        if ! MUT_ORIG="$orig" MUT_REPL="$repl" splice "$tree/$file" 2>>"$log"; then verdict="not applied"
        elif ! build; then verdict="does not build"
        else verdict=$(run_filter 0 "$filter"); fi
    else
        verdict=$(run_filter "$id" "$filter")
    fi
    total=$((total + 1))
    case "$verdict" in killed*) killed=$((killed + 1)) ;; esac
    printf '%s\t%s\t%s\t%s\n' "$id" "$verdict" "$(( $(date +%s) - start ))" "$desc" | tee -a "$results"
done
summary="killed $killed of $total mutants ($(( total > 0 ? 100 * killed / total : 0 ))%)"
echo "$summary" | tee "$work/summary.txt" | tee -a "$log"
grep -P '\tsurvived\t' "$results" | sed 's/^/survivor: /' | tee -a "$work/summary.txt"
