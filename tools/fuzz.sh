#!/usr/bin/env bash
# Builds and runs the libFuzzer harnesses of cc/fuzz/ with clang (no Bazel).
# FUZZING.md describes the harnesses and their properties.
#
#   tools/fuzz.sh smoke [SECONDS]   each harness SECONDS (default 10) over its
#                                   seed corpus; non-zero exit on any finding
#   tools/fuzz.sh long [SECONDS] [HARNESS...]
#                                   each harness (default all) SECONDS (default
#                                   600), one at a time, one worker, keeping
#                                   the corpus it grows; FUZZ_RUNS=N stops a
#                                   harness after N executions instead
#   tools/fuzz.sh replay            the seed corpora through the plain
#                                   (non-libFuzzer) builds of the harnesses
#   tools/fuzz.sh corpus            regenerate cc/fuzz/corpus/ (make_corpus.cc)
#   tools/fuzz.sh build             only build
#   tools/fuzz.sh list              harness names
#
# Needs Debian's clang and libclang-rt-14-dev (tools/dev.sh setup installs
# them). Environment: CLANGXX (default clang++), FUZZ_BUILD_DIR (default a
# folder under ${TMPDIR:-/tmp} named after this checkout).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLANGXX="${CLANGXX:-clang++}"
BUILD="${FUZZ_BUILD_DIR:-${TMPDIR:-/tmp}/tensorcoder-fuzz-$(printf %s "$ROOT" | cksum | cut -d' ' -f1)}"
CORPUS="$ROOT/cc/fuzz/corpus"

# Harness name -> the core sources (cc/NAME.cc) it links.
declare -A SOURCES=(
  [range_decoder]="status cdf_table range_decoder range_encoder"
  [range_encoder]="status cdf_table range_decoder range_encoder"
  [tensor_file]="status cdf_table crc32 parallel range_decoder unit_decoder tensor_file"
  [bit_coder]="status bit_coder"
  [run_length]="status bit_coder run_length_coder"
  [cdf_table]="status cdf_table range_decoder range_encoder"
  [pmf_to_cdf]="status cdf_table parallel pmf_to_cdf"
  [unit_decoder]="status cdf_table parallel range_decoder range_encoder unit_decoder unit_encoder"
)
HARNESSES=(range_decoder range_encoder tensor_file bit_coder run_length
           cdf_table pmf_to_cdf unit_decoder)

CXXFLAGS=(-std=c++17 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -I"$ROOT")
FUZZ_SANITIZERS=(-fsanitize=address,undefined -fno-sanitize-recover=all)
# Options every libFuzzer run gets; a unit slower than -timeout, or a run
# above -rss_limit_mb, is a finding.
LIBFUZZER_OPTIONS=(-timeout=30 -rss_limit_mb=2560 -max_len=4096
                   -print_final_stats=1)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

log() { printf '[fuzz.sh] %s\n' "$*" >&2; }

check_toolchain() {
  if ! command -v "$CLANGXX" >/dev/null 2>&1; then
    log "$CLANGXX not found: apt-get install clang libclang-rt-14-dev (or tools/dev.sh setup)"
    exit 2
  fi
  local probe="$BUILD/probe"
  mkdir -p "$BUILD"
  if [ ! -x "$probe" ]; then
    printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
      > "$BUILD/probe.cc"
    if ! "$CLANGXX" -fsanitize=fuzzer,address,undefined "$BUILD/probe.cc" \
        -o "$probe" 2>"$BUILD/probe.log"; then
      cat "$BUILD/probe.log" >&2
      log "$CLANGXX cannot link libFuzzer: apt-get install libclang-rt-14-dev"
      exit 2
    fi
  fi
}

# True if $1 is missing or older than any of the remaining files.
stale() {
  local target="$1"
  shift
  [ -e "$target" ] || return 0
  local f
  for f in "$@"; do
    [ "$f" -nt "$target" ] && return 0
  done
  return 1
}

# compile SRC OBJ FLAVOUR: FLAVOUR "fuzz" adds libFuzzer's coverage
# instrumentation, "plain" only the sanitizers.
compile() {
  local src="$1" obj="$2" flavour="$3"
  local extra=()
  [ "$flavour" = fuzz ] && extra=(-fsanitize=fuzzer-no-link)
  if stale "$obj" "$src" "$ROOT"/cc/*.h "$ROOT"/cc/fuzz/*.h "${BASH_SOURCE[0]}"; then
    mkdir -p "$(dirname "$obj")"
    "$CLANGXX" "${CXXFLAGS[@]}" "${FUZZ_SANITIZERS[@]}" "${extra[@]}" \
      -c "$src" -o "$obj"
  fi
}

build_harness() {
  local name="$1" flavour objects=()
  for flavour in fuzz plain; do
    objects=()
    local lib
    for lib in ${SOURCES[$name]}; do
      compile "$ROOT/cc/$lib.cc" "$BUILD/obj/$flavour/$lib.o" "$flavour"
      objects+=("$BUILD/obj/$flavour/$lib.o")
    done
    compile "$ROOT/cc/fuzz/${name}_fuzzer.cc" \
      "$BUILD/obj/$flavour/${name}_fuzzer.o" "$flavour"
    objects+=("$BUILD/obj/$flavour/${name}_fuzzer.o")
    if [ "$flavour" = fuzz ]; then
      if stale "$BUILD/${name}_fuzzer" "${objects[@]}"; then
        "$CLANGXX" -fsanitize=fuzzer "${FUZZ_SANITIZERS[@]}" "${objects[@]}" \
          -o "$BUILD/${name}_fuzzer"
      fi
    else
      compile "$ROOT/cc/fuzz/replay_main.cc" "$BUILD/obj/plain/replay_main.o" plain
      objects+=("$BUILD/obj/plain/replay_main.o")
      if stale "$BUILD/${name}_replay" "${objects[@]}"; then
        "$CLANGXX" "${FUZZ_SANITIZERS[@]}" "${objects[@]}" \
          -o "$BUILD/${name}_replay"
      fi
    fi
  done
}

build_all() {
  check_toolchain
  local name
  for name in "${HARNESSES[@]}"; do build_harness "$name"; done
  log "harnesses built in $BUILD"
}

# Prints "EXECS CORPUS_SIZE" from a libFuzzer log.
stats() {
  local execs corpus
  execs="$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$1" | grep -oE '[0-9]+$' | tail -1)"
  corpus="$(grep -oE 'corp: [0-9]+' "$1" | grep -oE '[0-9]+$' | tail -1)"
  printf '%s %s\n' "${execs:-?}" "${corpus:-?}"
}

# run_fuzzer NAME WORK_DIR LOG LIBFUZZER_ARGS...: returns libFuzzer's status.
run_fuzzer() {
  local name="$1" work="$2" logfile="$3"
  shift 3
  mkdir -p "$work" "$BUILD/artifacts"
  "$BUILD/${name}_fuzzer" "${LIBFUZZER_OPTIONS[@]}" \
    -artifact_prefix="$BUILD/artifacts/${name}-" "$@" \
    "$work" "$CORPUS/$name" >"$logfile" 2>&1
}

report_failure() {
  local name="$1" logfile="$2"
  log "$name: FINDING (log $logfile); last lines:"
  tail -n 40 "$logfile" >&2
  grep -E 'Test unit written to' "$logfile" >&2 || true
}

smoke() {
  local seconds="${1:-10}" failed=() name
  build_all
  mkdir -p "$BUILD/logs"
  for name in "${HARNESSES[@]}"; do
    local work logfile="$BUILD/logs/${name}-smoke.log"
    work="$(mktemp -d "$BUILD/smoke-XXXXXX")"
    if run_fuzzer "$name" "$work" "$logfile" -max_total_time="$seconds"; then
      read -r execs corpus < <(stats "$logfile")
      log "$name: ok ($execs executions, corpus $corpus)"
    else
      report_failure "$name" "$logfile"
      failed+=("$name")
    fi
    rm -rf "$work"
  done
  if [ "${#failed[@]}" -gt 0 ]; then
    log "smoke FAILED: ${failed[*]}"
    return 1
  fi
  log "smoke ok: ${#HARNESSES[@]} harnesses, ${seconds}s each"
}

long() {
  local seconds="${1:-600}"
  shift || true
  local names=("$@") failed=() name
  [ "${#names[@]}" -gt 0 ] || names=("${HARNESSES[@]}")
  build_all
  mkdir -p "$BUILD/logs"
  for name in "${names[@]}"; do
    [ -n "${SOURCES[$name]:-}" ] || { log "unknown harness $name"; exit 2; }
    local logfile="$BUILD/logs/${name}-long.log" args=(-max_total_time="$seconds")
    [ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
    log "$name: running (${seconds}s${FUZZ_RUNS:+ or $FUZZ_RUNS runs}), log $logfile"
    local start=$SECONDS
    if run_fuzzer "$name" "$BUILD/corpus/$name" "$logfile" "${args[@]}"; then
      read -r execs corpus < <(stats "$logfile")
      log "$name: ok, $execs executions in $((SECONDS - start))s, corpus $corpus inputs, 0 findings"
    else
      report_failure "$name" "$logfile"
      failed+=("$name")
    fi
  done
  if [ "${#failed[@]}" -gt 0 ]; then
    log "long run FAILED: ${failed[*]}"
    return 1
  fi
}

replay() {
  build_all
  local name
  for name in "${HARNESSES[@]}"; do
    "$BUILD/${name}_replay" "$CORPUS/$name"
  done
}

corpus() {
  check_toolchain
  local objects=() lib
  for lib in status cdf_table crc32 parallel range_decoder range_encoder \
             unit_decoder unit_encoder bit_coder run_length_coder; do
    compile "$ROOT/cc/$lib.cc" "$BUILD/obj/plain/$lib.o" plain
    objects+=("$BUILD/obj/plain/$lib.o")
  done
  compile "$ROOT/cc/fuzz/make_corpus.cc" "$BUILD/obj/plain/make_corpus.o" plain
  "$CLANGXX" "${FUZZ_SANITIZERS[@]}" "${objects[@]}" \
    "$BUILD/obj/plain/make_corpus.o" -o "$BUILD/make_corpus"
  "$BUILD/make_corpus" "$CORPUS" "$ROOT/tests/golden"
}

main() {
  local command="${1:-}"
  shift || true
  case "$command" in
    smoke) smoke "$@" ;;
    long) long "$@" ;;
    replay) replay ;;
    corpus) corpus ;;
    build) build_all ;;
    list) printf '%s\n' "${HARNESSES[@]}" ;;
    *)
      sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 2
      ;;
  esac
}

main "$@"
