#!/usr/bin/env bash
# One entry point for developers and CI. Every command first installs what is
# missing (Debian packages, a virtual environment with requirements.txt),
# then runs Bazel with that environment's python3 first on PATH.
#
#   tools/dev.sh test    all tests: C++ and Python (bazel test //...), then
#                        the C++ tests again under ASan + UBSan
#   tools/dev.sh demo    the main job: compress sample images with the embedded
#                        model, compare with JPEG/WebP, write PNGs into out/
#   tools/dev.sh setup   only install what is missing
#   tools/dev.sh bazel ARGS...   bazel with the project's environment
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
APT_PACKAGES=(bazel-bootstrap bazel-rules-java bazel-platforms libgtest-dev g++
              clang libclang-rt-14-dev)
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/tensorcoder"

log() { printf '[dev.sh] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_apt_packages() {
  local missing=()
  for package in "${APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_venv() {
  local stamp="$VENV/.requirements.sha256"
  local want
  want="$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  if [ ! -x "$VENV/bin/python3" ]; then
    log "creating $VENV"
    if ! python3 -m venv "$VENV" 2>/dev/null; then
      install_python_venv_package
      python3 -m venv "$VENV"
    fi
  fi
  log "installing Python requirements (requirements.txt)"
  "$VENV/bin/python3" -m pip install -q --upgrade pip >/dev/null
  "$VENV/bin/python3" -m pip install -q -r "$ROOT/requirements.txt"
  echo "$want" > "$stamp"
}

install_python_venv_package() {
  local version
  version="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    "python${version}-venv" "python${version}-dev" >/dev/null
}

write_user_bazelrc() {
  # A disk cache shared by every clone on this machine (CI clones are fresh).
  local rc="$ROOT/user.bazelrc"
  if ! grep -q -- '--disk_cache' "$rc" 2>/dev/null; then
    mkdir -p "$CACHE_DIR/bazel-disk-cache"
    echo "build --disk_cache=$CACHE_DIR/bazel-disk-cache" >> "$rc"
  fi
}

setup() {
  install_apt_packages
  install_venv
  write_user_bazelrc
  export PATH="$VENV/bin:$PATH"
  export VIRTUAL_ENV="$VENV"
}

run_bazel() {
  (cd "$ROOT" && bazel "$@")
}

main() {
  local command="${1:-}"
  shift || true
  case "$command" in
    setup)
      setup
      ;;
    test)
      setup
      local log="$ROOT/bazel-test.log"
      : > "$log"
      local status=0
      run_bazel test //... "$@" 2>&1 | tee -a "$log" || status=1
      # The core's tests again under the sanitizers (not the TF and pybind11
      # bindings in cc/tf and cc/python: their tests are the Python ones).
      run_bazel test --config=asan "$@" -- //cc/... -//cc/tf/... -//cc/python/... \
        //tests:golden_test 2>&1 | tee -a "$log" || status=1
      # The libFuzzer harnesses of cc/fuzz/, briefly (FUZZING.md).
      local fuzz=ok
      "$ROOT/tools/fuzz.sh" smoke || { status=1; fuzz=failed; }
      # One closing line over both runs, counted from Bazel's summary.
      printf 'bazel test: %d passed, %d failed\n' \
        "$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log" || true)" \
        "$(grep -cE '^//[^ ]+ +(FAILED|TIMEOUT|NO STATUS)|FAILED TO BUILD|^FAILED: Build did NOT complete|^ERROR: ' "$log" || true)"
      printf 'fuzz smoke: %s\n' "$fuzz"
      return "$status"
      ;;
    demo)
      setup
      run_bazel run -c opt //python/tensorcoder/image_codec:main_job -- "$@"
      ;;
    bazel)
      setup
      run_bazel "$@"
      ;;
    *)
      sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 2
      ;;
  esac
}

main "$@"
