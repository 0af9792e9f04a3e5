#!/usr/bin/env bash
# Builds the example apps with plain g++/gcc against the packaged static
# library and header (as a program outside Bazel would), then decodes tensor
# files written from Python and compares with NumPy's own .npy of the values.
set -euo pipefail
root="$PWD"
lib="$root/cc/libtensorcoder_decoder.a"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

g++ -std=c++17 -O2 -I"$root" examples/native_decoder/decode_tensor.cc "$lib" \
  -o "$work/decode_tensor"
gcc -O2 -c -I"$root" examples/native_decoder/decode_tensor_c.c \
  -o "$work/decode_tensor_c.o"
g++ "$work/decode_tensor_c.o" "$lib" -o "$work/decode_tensor_c"

count=0
for tct in tests/golden/tensor_file_*.tct; do
  expected="${tct%.tct}.npy"
  "$work/decode_tensor" "$tct" "$work/out.npy" > /dev/null
  cmp "$work/out.npy" "$expected"
  "$work/decode_tensor_c" "$tct" > /dev/null
  count=$((count + 1))
done
[ "$count" -ge 2 ] || { echo "no golden tensor files found"; exit 1; }

# A corrupted file is refused with a clear message, not a crash.
head -c 40 "$(ls tests/golden/tensor_file_*.tct | head -1)" > "$work/bad.tct"
if "$work/decode_tensor" "$work/bad.tct" "$work/bad.npy" 2> "$work/err"; then
  echo "corrupt file was accepted"; exit 1
fi
grep -q "checksum" "$work/err"
echo "native decoder: $count files decoded and matched; corrupt file refused"
