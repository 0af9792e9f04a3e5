// Example native app: decodes a tensorcoder tensor file (written from Python
// with tensorcoder.tensor_file.save) into a NumPy .npy file, using only the
// decoder-only library (version-2 files, such as an entropy model's strings
// stored with tensorcoder.tensor_file.pack_units, on all cores):
//
//   g++ -std=c++17 -I<repo> decode_tensor.cc libtensorcoder_decoder.a -o decode_tensor
//   ./decode_tensor IN.tct OUT.npy
#include <cstdio>
#include <fstream>
#include <string>

#include "cc/tensor_file.h"

namespace {

// NPY format 1.0: magic, version, header length, a Python-dict header padded
// with spaces to a multiple of 64 bytes, then the little-endian data.
bool WriteNpy(const std::string& path, const tensorcoder::DecodedTensor& t) {
  std::string shape = "(";
  for (size_t i = 0; i < t.shape.size(); ++i) {
    shape += std::to_string(t.shape[i]) + (t.shape.size() == 1 ? "," : "");
    if (i + 1 < t.shape.size()) shape += ", ";
  }
  shape += ")";
  std::string header = "{'descr': '<i4', 'fortran_order': False, 'shape': " +
                       shape + ", }";
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) return false;
  out.write("\x93NUMPY\x01\x00", 8);
  const unsigned short length = static_cast<unsigned short>(header.size());
  const char length_bytes[2] = {static_cast<char>(length & 0xFF),
                                static_cast<char>(length >> 8)};
  out.write(length_bytes, 2);
  out << header;
  for (int32_t v : t.values) {
    const uint32_t u = static_cast<uint32_t>(v);
    const char bytes[4] = {static_cast<char>(u), static_cast<char>(u >> 8),
                           static_cast<char>(u >> 16),
                           static_cast<char>(u >> 24)};
    out.write(bytes, 4);
  }
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s IN.tct OUT.npy\n", argv[0]);
    return 2;
  }
  tensorcoder::DecodedTensor tensor;
  const tensorcoder::Status status =
      tensorcoder::ReadTensorFile(argv[1], &tensor, /*num_threads=*/0);
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[1], status.ToString().c_str());
    return 1;
  }
  if (!WriteNpy(argv[2], tensor)) {
    std::fprintf(stderr, "cannot write %s\n", argv[2]);
    return 1;
  }
  std::printf("decoded %zu values into %s\n", tensor.values.size(), argv[2]);
  return 0;
}
