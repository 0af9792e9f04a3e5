// Writes the seed corpora of the fuzz harnesses: cc/fuzz/corpus/<harness>/,
// each a few dozen small inputs in that harness's input layout (see the
// comment at the top of each cc/fuzz/*_fuzzer.cc), made with the encoders
// from fixed pseudo-random choices, plus cases taken from tests/golden/.
//
//   tools/fuzz.sh corpus      # = make_corpus cc/fuzz/corpus tests/golden
//
// Deterministic: the same sources write the same files. Existing files in
// the corpus folders are replaced.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cc/bit_coder.h"
#include "cc/cdf_table.h"
#include "cc/crc32.h"
#include "cc/range_encoder.h"
#include "cc/run_length_coder.h"
#include "cc/status.h"
#include "cc/unit_encoder.h"

namespace tensorcoder {
namespace {

using Bytes = std::string;

void Die(const std::string& message) {
  std::fprintf(stderr, "make_corpus: %s\n", message.c_str());
  std::exit(1);
}

template <typename T>
T Check(StatusOr<T> result) {
  if (!result.ok()) Die(result.status().ToString());
  return std::move(result).value();
}

template <typename T>
void Put(Bytes* out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    out->push_back(static_cast<char>(static_cast<uint64_t>(value) >> (8 * i)));
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// The `key values...` lines of a tests/golden/NAME.txt.
std::map<std::string, std::vector<int64_t>> ReadGoldenText(
    const std::string& path) {
  std::map<std::string, std::vector<int64_t>> arrays;
  std::istringstream lines(ReadFile(path));
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "coder") continue;
    int64_t v;
    while (words >> v) arrays[key].push_back(v);
  }
  return arrays;
}

std::vector<std::string> ListDirectory(const std::string& path) {
  std::vector<std::string> names;
  if (DIR* dir = opendir(path.c_str())) {
    while (const dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Writes the seeds of one harness into a cleared folder.
class Folder {
 public:
  Folder(const std::string& root, const std::string& harness)
      : path_(root + "/" + harness) {
    mkdir(root.c_str(), 0755);
    mkdir(path_.c_str(), 0755);
    for (const std::string& name : ListDirectory(path_)) {
      std::remove((path_ + "/" + name).c_str());
    }
  }
  ~Folder() { std::printf("%s: %d seeds\n", path_.c_str(), count_); }

  void Write(const std::string& name, const Bytes& bytes) {
    if (bytes.size() > 4096) Die(name + " is over 4096 bytes (-max_len)");
    std::ofstream out(path_ + "/" + name, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) Die("cannot write " + path_ + "/" + name);
    ++count_;
  }

 private:
  std::string path_;
  int count_ = 0;
};

// ---------------------------------------------------------------------------
// Tables, in fuzz_util.h's ReadTable layout and as lookups.

struct Row {
  int precision;
  bool overflow;
  std::vector<int32_t> cdf;  // 0 .. 2^precision.
};

Row RandomRow(std::mt19937* rng, int precision, bool overflow,
              uint32_t symbols) {
  const int32_t total = int32_t{1} << precision;
  symbols = std::min<uint32_t>(symbols, static_cast<uint32_t>(total));
  // A skewed pmf: counts from a geometric-like weight, at least 1 each.
  std::vector<double> weights(symbols);
  for (uint32_t s = 0; s < symbols; ++s) {
    weights[s] = std::exp(-0.5 * s) + 0.01 * ((*rng)() % 100);
  }
  double sum = 0;
  for (double w : weights) sum += w;
  std::vector<int32_t> counts(symbols, 1);
  int32_t left = total - static_cast<int32_t>(symbols);
  for (uint32_t s = 0; s < symbols && left > 0; ++s) {
    const int32_t extra = std::min<int32_t>(
        left, static_cast<int32_t>(weights[s] / sum * (total - symbols)));
    counts[s] += extra;
    left -= extra;
  }
  counts[0] += left;
  Row row{precision, overflow, {0}};
  for (int32_t c : counts) row.cdf.push_back(row.cdf.back() + c);
  return row;
}

Bytes TableBytes(const std::vector<Row>& rows) {
  Bytes out;
  out.push_back(static_cast<char>(rows.size() - 1));
  for (const Row& row : rows) {
    const uint32_t symbols = static_cast<uint32_t>(row.cdf.size() - 1);
    const bool wide = symbols > 256;
    out.push_back(static_cast<char>((row.precision - 1) |
                                    (row.overflow ? 0x80 : 0) |
                                    (wide ? 0x40 : 0)));
    if (wide) {
      Put<uint16_t>(&out, static_cast<uint16_t>(symbols - 1));
    } else {
      out.push_back(static_cast<char>(symbols - 1));
    }
    for (size_t i = 1; i + 1 < row.cdf.size(); ++i) {
      Put<uint16_t>(&out, static_cast<uint16_t>(row.cdf[i] - row.cdf[i - 1] - 1));
    }
  }
  return out;
}

CdfTable MakeTable(const std::vector<Row>& rows, std::vector<int32_t>* lookup,
                   size_t* width) {
  *width = 0;
  for (const Row& row : rows) *width = std::max(*width, row.cdf.size() + 1);
  lookup->clear();
  for (const Row& row : rows) {
    lookup->push_back(row.overflow ? -row.precision : row.precision);
    lookup->insert(lookup->end(), row.cdf.begin(), row.cdf.end());
    lookup->resize(lookup->size() + *width - row.cdf.size() - 1,
                   int32_t{1} << row.precision);
  }
  return Check(CdfTable::FromMatrix(lookup->data(), rows.size(), *width));
}

std::vector<int32_t> RandomValues(std::mt19937* rng,
                                  const std::vector<Row>& rows,
                                  const std::vector<int32_t>& indexes) {
  std::vector<int32_t> values(indexes.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const Row& row = rows[indexes[i]];
    const int32_t n = static_cast<int32_t>(row.cdf.size() - 1);
    // Mostly the likely low symbols; escapes now and then.
    const uint32_t r = (*rng)() % 100;
    if (row.overflow && r < 8) {
      values[i] = r < 2 ? -static_cast<int32_t>((*rng)() % 1000)
                : r < 3 ? std::numeric_limits<int32_t>::min()
                        : n - 1 + static_cast<int32_t>((*rng)() % 300);
    } else {
      values[i] = static_cast<int32_t>(
          std::min<uint32_t>((*rng)() % 4 + (*rng)() % 3, n - 1 - row.overflow));
      if (n == 1 && !row.overflow) values[i] = 0;
      if (n == 1 && row.overflow) values[i] = static_cast<int32_t>((*rng)() % 5);
    }
  }
  return values;
}

std::vector<std::vector<Row>> SeedTables() {
  std::mt19937 rng(20240601);
  std::vector<std::vector<Row>> tables;
  const int precisions[] = {1, 2, 5, 8, 12, 15, 16};
  for (int p : precisions) {
    for (bool overflow : {false, true}) {
      const uint32_t symbols = 1 + rng() % 12;
      tables.push_back({RandomRow(&rng, p, overflow, symbols)});
    }
  }
  // Several rows, mixed; a single-symbol row; a wide row (bucket index of
  // 10 bits); the binary uniform row.
  tables.push_back({RandomRow(&rng, 8, true, 5), RandomRow(&rng, 3, false, 3),
                    RandomRow(&rng, 16, false, 40)});
  tables.push_back({Row{1, false, {0, 2}}, RandomRow(&rng, 4, true, 6)});
  tables.push_back({RandomRow(&rng, 14, false, 700)});
  tables.push_back({Row{1, false, {0, 1, 2}}, Row{1, true, {0, 1, 2}}});
  return tables;
}

// ---------------------------------------------------------------------------
// range_decoder and range_encoder.

void RangeDecoderSeeds(Folder* folder) {
  std::mt19937 rng(1);
  int k = 0;
  for (const std::vector<Row>& rows : SeedTables()) {
    std::vector<int32_t> lookup;
    size_t width;
    const CdfTable table = MakeTable(rows, &lookup, &width);
    for (int mode = 0; mode < 3; ++mode) {
      // Search mode codes plain symbols: skip tables with overflow there.
      if (mode == 2 && std::any_of(rows.begin(), rows.end(),
                                   [](const Row& r) { return r.overflow; })) {
        continue;
      }
      const size_t count = (k * 37 + 3) % 300;
      Bytes seed(1, static_cast<char>(mode));
      seed += TableBytes(rows);
      Put<uint16_t>(&seed, static_cast<uint16_t>(count));
      std::vector<int32_t> indexes(count);
      if (mode == 0) {
        std::vector<int32_t> pattern(1 + rng() % 5);
        for (int32_t& index : pattern) index = rng() % rows.size();
        seed.push_back(static_cast<char>(pattern.size() - 1));
        for (int32_t index : pattern) seed.push_back(static_cast<char>(index));
        for (size_t i = 0; i < count; ++i) {
          indexes[i] = pattern[i % pattern.size()];
        }
      } else {
        for (size_t i = 0; i < count; ++i) {
          indexes[i] = static_cast<int32_t>(i % rows.size());
        }
      }
      std::vector<int32_t> values = RandomValues(&rng, rows, indexes);
      if (mode == 0) {
        seed += Check(EncodeIndexed(table, indexes.data(), values.data(), count));
      } else if (mode == 1) {
        seed += Check(EncodeChannel(table, values.data(), count));
      } else {
        std::string string;
        RangeEncoder encoder(&string);
        encoder.Reserve(count);
        for (size_t i = 0; i < count; ++i) {
          const Row& row = rows[indexes[i]];
          encoder.Encode(static_cast<uint32_t>(row.cdf[values[i]]),
                         static_cast<uint32_t>(row.cdf[values[i] + 1]),
                         row.precision);
        }
        encoder.Finalize();
        seed += string;
      }
      if (seed.size() > 4096) continue;
      folder->Write(StrCat("gen-", k++, "-mode", mode), seed);
    }
  }
}

void RangeEncoderSeeds(Folder* folder) {
  std::mt19937 rng(2);
  int k = 0;
  for (const std::vector<Row>& rows : SeedTables()) {
    for (int mode : {0, 1, 3}) {  // channel, indexed, indexed in two calls
      Bytes seed(1, static_cast<char>(mode));
      seed += TableBytes(rows);
      if (mode & 1) {
        seed.push_back(static_cast<char>(rows.size() - 1));
        for (size_t r = 0; r < rows.size(); ++r) {
          seed.push_back(static_cast<char>(r));
        }
      }
      if (mode & 2) Put<uint16_t>(&seed, static_cast<uint16_t>(rng() % 64));
      const size_t count = 20 + rng() % 200;
      for (size_t i = 0; i < count; ++i) {
        const uint32_t r = rng() % 100;
        if (r < 85) {
          seed.push_back(static_cast<char>(rng() % 4));  // Likely symbols.
        } else if (r < 95) {
          seed.push_back(static_cast<char>(200 + rng() % 40));  // Raw int32.
          Put<int32_t>(&seed, static_cast<int32_t>(rng()) >> (rng() % 31));
        } else {
          seed.push_back(static_cast<char>(240 + rng() % 16));  // Special.
        }
      }
      folder->Write(StrCat("gen-", k++, "-mode", mode), seed);
    }
  }
}

// ---------------------------------------------------------------------------
// unit_decoder: encoder output (cc/unit_encoder.h) in the harness's layout.

void UnitDecoderSeeds(Folder* folder) {
  std::mt19937 rng(5);
  const std::vector<std::vector<Row>> tables = SeedTables();
  int k = 0;
  for (size_t t = 0; t < tables.size(); t += 2) {
    const std::vector<Row>& rows = tables[t];
    for (const uint8_t flags : {0, 1, 2, 4, 5}) {
      const bool indexed = flags & 1;
      const size_t num_units = (flags & 4) ? 2 : 1;
      const uint16_t count = static_cast<uint16_t>(1 + rng() % 200);
      Bytes seed(1, static_cast<char>(flags));
      seed += TableBytes(rows);
      std::vector<int32_t> offsets(rows.size());
      for (int32_t& o : offsets) {
        o = static_cast<int32_t>(rng() % 201) - 100;
        Put<uint32_t>(&seed, static_cast<uint32_t>(o));
      }
      Put<uint16_t>(&seed, count);
      std::vector<int32_t> pattern;
      if (indexed) {
        pattern.resize(1 + rng() % 4);
        seed.push_back(static_cast<char>(pattern.size() - 1));
        for (int32_t& p : pattern) {
          p = static_cast<int32_t>(rng() % rows.size());
          seed.push_back(static_cast<char>(p));
        }
      }
      std::vector<int32_t> indexes(num_units * count);
      for (size_t i = 0; i < indexes.size(); ++i) {
        indexes[i] = indexed ? pattern[i % pattern.size()]
                             : static_cast<int32_t>((i % count) % rows.size());
      }
      std::vector<int32_t> values = RandomValues(&rng, rows, indexes);
      for (size_t i = 0; i < values.size(); ++i) {
        const int64_t sum = int64_t{values[i]} + offsets[indexes[i]];
        values[i] = sum < std::numeric_limits<int32_t>::min() ||
                            sum > std::numeric_limits<int32_t>::max()
                        ? offsets[indexes[i]]
                        : static_cast<int32_t>(sum);
      }
      std::vector<int32_t> lookup;
      size_t width;
      const CdfTable table = MakeTable(rows, &lookup, &width);
      std::vector<std::string> strings;
      const Status status = EncodeUnits(
          table, offsets.data(), values.data(), num_units,
          indexed ? indexes.data() : nullptr, count, SerialRunner(), &strings);
      if (!status.ok()) Die(status.ToString());
      if (num_units == 2) Put<uint16_t>(&seed, static_cast<uint16_t>(strings[0].size()));
      for (const std::string& s : strings) seed += s;
      if (seed.size() > 4096) continue;
      folder->Write(StrCat("gen-", k++, "-flags", int{flags}), seed);
    }
  }
  // A chunked unit: 2^17 + 3 values of a near-certain symbol, channel mode.
  const std::vector<Row> certain = {Row{15, false, {0, 32767, 32768}}};
  Bytes seed(1, static_cast<char>(31 << 3));
  seed += TableBytes(certain);
  Put<uint32_t>(&seed, 0);
  Put<uint16_t>(&seed, 3);
  std::vector<int32_t> lookup;
  size_t width;
  const CdfTable table = MakeTable(certain, &lookup, &width);
  const std::vector<int32_t> zeros((size_t{1} << 17) + 3, 0);
  const int32_t offset = 0;
  std::vector<std::string> strings;
  const Status status = EncodeUnits(table, &offset, zeros.data(), 1, nullptr,
                                    zeros.size(), SerialRunner(), &strings);
  if (!status.ok()) Die(status.ToString());
  folder->Write(StrCat("gen-", k++, "-chunked"), seed + strings[0]);
}

// ---------------------------------------------------------------------------
// tensor_file.

// A tensor file body (no checksum), one string per slice of the first axis
// (one string for rank <= 1), as tensorcoder.tensor_file writes it. Version
// 2 adds random row offsets and codes each string as a coding unit
// (cc/unit_encoder.h, chunked from 2^17 values on).
// With `zeros`, every symbol is 0 (the most likely one in these tables).
Bytes TensorBody(const std::vector<uint64_t>& shape, const std::vector<Row>& rows,
                 bool indexed, std::mt19937* rng, uint16_t version = 1,
                 bool zeros = false) {
  std::vector<int32_t> lookup;
  size_t width;
  const CdfTable table = MakeTable(rows, &lookup, &width);
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  const uint64_t strings = shape.size() < 2 ? 1 : shape[0];
  Bytes out("TCTENSOR");
  Put<uint16_t>(&out, version);
  Put<uint8_t>(&out, indexed ? 1 : 0);
  Put<uint8_t>(&out, static_cast<uint8_t>(shape.size()));
  for (uint64_t d : shape) Put<uint64_t>(&out, d);
  Put<uint32_t>(&out, static_cast<uint32_t>(rows.size()));
  Put<uint32_t>(&out, static_cast<uint32_t>(width));
  for (int32_t v : lookup) Put<int32_t>(&out, v);
  std::vector<int32_t> offsets(rows.size());
  if (version >= 2) {
    for (int32_t& o : offsets) o = static_cast<int32_t>((*rng)() % 2001) - 1000;
    for (int32_t o : offsets) Put<int32_t>(&out, o);
  }
  std::vector<int32_t> indexes(n);
  for (uint64_t i = 0; i < n; ++i) {
    indexes[i] = indexed ? static_cast<int32_t>((*rng)() % rows.size())
                         : static_cast<int32_t>((i % (n / strings ? n / strings : 1)) %
                                                rows.size());
  }
  if (indexed) {
    for (int32_t v : indexes) Put<int32_t>(&out, v);
  }
  std::vector<int32_t> values = RandomValues(rng, rows, indexes);
  Put<uint64_t>(&out, strings);
  const uint64_t per = strings ? n / strings : 0;
  if (zeros) values.assign(n, 0);
  if (version >= 2) {
    for (uint64_t i = 0; i < n; ++i) {
      // value = symbol + offset; a symbol whose sum leaves int32 becomes 0.
      const int64_t sum = int64_t{values[i]} + offsets[indexes[i]];
      values[i] = sum < std::numeric_limits<int32_t>::min() ||
                          sum > std::numeric_limits<int32_t>::max()
                      ? offsets[indexes[i]]
                      : static_cast<int32_t>(sum);
    }
    std::vector<std::string> units;
    const Status status = EncodeUnits(
        table, offsets.data(), values.data(), strings,
        indexed ? indexes.data() : nullptr, per, SerialRunner(), &units);
    if (!status.ok()) Die(status.ToString());
    for (const std::string& s : units) {
      Put<uint64_t>(&out, s.size());
      out += s;
    }
    return out;
  }
  for (uint64_t k = 0; k < strings; ++k) {
    const std::string s =
        indexed ? Check(EncodeIndexed(table, indexes.data() + k * per,
                                      values.data() + k * per, per))
                : Check(EncodeChannel(table, values.data() + k * per, per));
    Put<uint64_t>(&out, s.size());
    out += s;
  }
  return out;
}

Bytes WithCrc(Bytes body) {
  Put<uint32_t>(&body, Crc32(body.data(), body.size()));
  return body;
}

void TensorFileSeeds(Folder* folder, const std::string& golden) {
  std::mt19937 rng(3);
  const std::vector<std::vector<Row>> tables = SeedTables();
  const std::vector<std::vector<uint64_t>> shapes = {
      {}, {1}, {7}, {3, 4}, {2, 3, 2}, {4, 1, 1, 3}, {0}, {3, 0}, {0, 2}};
  int k = 0;
  for (const std::vector<uint64_t>& shape : shapes) {
    for (bool indexed : {false, true}) {
      // Channel mode needs rank >= 2 in the writer; the format allows any.
      const std::vector<Row>& rows = tables[(k * 5) % tables.size()];
      const Bytes body = TensorBody(shape, rows, indexed, &rng);
      if (body.size() + 5 > 4096) continue;
      // Flag bit 0: the harness appends the checksum; bits 1-7: error
      // buffer size.
      folder->Write(StrCat("gen-", k, "-body"),
                    Bytes(1, static_cast<char>(1 | ((k * 18) % 256 & 0xFE))) + body);
      if (k % 3 == 0) {
        folder->Write(StrCat("gen-", k, "-whole"),
                      Bytes(1, static_cast<char>(64)) + WithCrc(body));
      }
      ++k;
    }
  }
  // Version 2: offsets, and coding units, one of them chunked (2^17 values
  // of a near-certain symbol, so that the file stays small).
  for (const std::vector<uint64_t>& shape :
       std::vector<std::vector<uint64_t>>{{3, 4}, {2, 3, 2}, {5}}) {
    for (bool indexed : {false, true}) {
      const std::vector<Row>& rows = tables[(k * 5) % tables.size()];
      const Bytes body = TensorBody(shape, rows, indexed, &rng, 2);
      if (body.size() + 5 > 4096) continue;
      folder->Write(StrCat("gen-", k, "-v2-body"),
                    Bytes(1, static_cast<char>(1 | ((k * 18) % 256 & 0xFE))) + body);
      ++k;
    }
  }
  {
    const std::vector<Row> certain = {Row{15, false, {0, 32767, 32768}}};
    const Bytes body = TensorBody({1, uint64_t{1} << 17}, certain, false, &rng,
                                  2, /*zeros=*/true);
    if (body.size() + 5 <= 4096) {
      folder->Write(StrCat("gen-", k++, "-v2-chunked-body"),
                    Bytes(1, static_cast<char>(1)) + body);
    }
  }
  // Files written by the Python writer (tests/golden), as they are.
  for (const std::string& name : ListDirectory(golden)) {
    if (!EndsWith(name, ".tct")) continue;
    const Bytes file = ReadFile(golden + "/" + name);
    if (file.size() + 1 > 4096) continue;
    folder->Write("golden-" + name.substr(0, name.size() - 4),
                  Bytes(1, static_cast<char>(200)) + file);
  }
}

// ---------------------------------------------------------------------------
// bit_coder and run_length.

void BitCoderSeeds(Folder* folder) {
  std::mt19937 rng(4);
  for (int k = 0; k < 16; ++k) {
    const size_t count = 1 + rng() % 64;
    Bytes seed(1, static_cast<char>(count - 1));
    BitWriter writer;
    for (size_t i = 0; i < count; ++i) {
      const int kind = static_cast<int>(rng() % 4);
      const uint32_t v = static_cast<uint32_t>(rng()) >> (rng() % 32);
      if (kind == 0) {
        seed.push_back(static_cast<char>(0x00));
        writer.WriteGamma(v | 1);
      } else if (kind == 1) {
        const int m = static_cast<int>(rng() % 32);
        seed.push_back(static_cast<char>(0x40 | m));
        const uint32_t value = v >> (32 - std::min(32, m + 8)) ;
        writer.WriteRice(value, m);
      } else if (kind == 2) {
        const int bits = static_cast<int>(rng() % 33);
        // The harness reads a field width as byte % 33 from 0x80..0xBF.
        seed.push_back(static_cast<char>(0x80 + (bits + 4) % 33));
        writer.WriteBits(bits, v);
      } else {
        seed.push_back(static_cast<char>(0xC0));
        writer.WriteOneBit(v & 1);
      }
    }
    seed += writer.Finish();
    folder->Write(StrCat("gen-", k), seed);
  }
}

Bytes RunLengthHeader(bool general, bool encode, const RunLengthOptions& o) {
  Bytes seed(1, static_cast<char>((general ? 1 : 0) | (encode ? 2 : 0) |
                                  (o.use_run_length_for_non_zeros ? 4 : 0)));
  seed.push_back(static_cast<char>(o.run_length_code + 1));
  seed.push_back(static_cast<char>(o.magnitude_code + 1));
  return seed;
}

void RunLengthSeeds(Folder* folder, const std::string& golden) {
  std::mt19937 rng(5);
  const RunLengthOptions options[] = {
      {-1, -1, false}, {-1, -1, true}, {0, 0, false}, {1, 0, true},
      {3, 5, false},   {-1, 2, true},  {31, 31, false}};
  int k = 0;
  for (const RunLengthOptions& o : options) {
    for (bool general : {false, true}) {
      if (!general && k % 2) continue;
      const size_t count = rng() % 400;
      std::vector<int32_t> values(count);
      for (int32_t& v : values) {
        const uint32_t r = rng() % 100;
        v = r < 70 ? 0
            : r < 97 ? static_cast<int32_t>(rng() % 41) - 20
                     : static_cast<int32_t>(rng()) >> (rng() % 31);
      }
      if (o.magnitude_code >= 0) {
        // Short Rice codes: unary parts of at most 2^8 bits.
        const int64_t limit = std::min<int64_t>(
            int64_t{1} << std::min(30, 8 + o.magnitude_code), 1 << 30);
        for (int32_t& v : values) {
          v = static_cast<int32_t>(std::max<int64_t>(-limit, std::min<int64_t>(limit, v)));
        }
      }
      const std::string code =
          Check(general ? RunLengthEncode(values.data(), count, o)
                        : RunLengthGammaEncode(values.data(), count));
      Bytes decode = RunLengthHeader(general, false, o);
      Put<uint16_t>(&decode, static_cast<uint16_t>(count));
      decode += code;
      if (decode.size() <= 4096) folder->Write(StrCat("gen-", k, "-decode"), decode);
      Bytes encode = RunLengthHeader(general, true, o);
      for (int32_t v : values) {
        if (v == 0) {
          encode.push_back(static_cast<char>(rng() % 160));
        } else if (v >= -45 && v <= 44) {
          encode.push_back(static_cast<char>(v + 205));
        } else {
          encode.push_back(static_cast<char>(250));
          Put<int32_t>(&encode, v);
        }
      }
      if (encode.size() <= 4096) folder->Write(StrCat("gen-", k, "-encode"), encode);
      ++k;
    }
  }
  // TFC's bytes from tests/golden.
  for (const std::string& name : ListDirectory(golden)) {
    if (name.compare(0, 10, "run_length") != 0 || !EndsWith(name, ".txt")) {
      continue;
    }
    const std::string base = name.substr(0, name.size() - 4);
    auto arrays = ReadGoldenText(golden + "/" + name);
    const bool general = arrays.count("options") > 0;
    RunLengthOptions o;
    if (general) {
      o.run_length_code = static_cast<int>(arrays["options"][0]);
      o.magnitude_code = static_cast<int>(arrays["options"][1]);
      o.use_run_length_for_non_zeros = arrays["options"][2] != 0;
    }
    Bytes seed = RunLengthHeader(general, false, o);
    Put<uint16_t>(&seed, static_cast<uint16_t>(arrays["values"].size()));
    seed += ReadFile(golden + "/" + base + ".bin");
    if (seed.size() <= 4096) folder->Write("golden-" + base, seed);
  }
}

// ---------------------------------------------------------------------------
// cdf_table and pmf_to_cdf.

void PutToken(Bytes* out, int32_t v) {
  if (v >= 0 && v < 0x80) {
    out->push_back(static_cast<char>(v));
  } else if (v > 0 && v <= 65536 && (v & (v - 1)) == 0) {
    out->push_back(static_cast<char>(0xC0 + __builtin_ctz(static_cast<uint32_t>(v))));
  } else if (v >= 0 && v < 16384) {
    out->push_back(static_cast<char>(0x80 | (v >> 8)));
    out->push_back(static_cast<char>(v & 0xFF));
  } else if (v >= -31 && v <= -1) {
    out->push_back(static_cast<char>(0xD0 - v));
  } else {
    out->push_back(static_cast<char>(0xF0));
    Put<int32_t>(out, v);
  }
}

void CdfTableSeeds(Folder* folder, const std::string& golden) {
  int k = 0;
  for (const std::vector<Row>& rows : SeedTables()) {
    std::vector<int32_t> lookup;
    size_t width;
    MakeTable(rows, &lookup, &width);
    if (width > 258) continue;  // The harness's matrix widths are 3..258.
    Bytes matrix(1, 1);
    matrix.push_back(static_cast<char>(width - 3));
    for (int32_t v : lookup) PutToken(&matrix, v);
    folder->Write(StrCat("gen-", k, "-matrix"), matrix);
    Bytes flat(1, 0);
    flat.push_back(static_cast<char>(rows[0].precision + 18 * (k % 3)));
    for (const Row& row : rows) {
      PutToken(&flat, row.overflow ? -row.precision : row.precision);
      for (int32_t v : row.cdf) PutToken(&flat, v);
      for (int pad = 0; pad < k % 3; ++pad) PutToken(&flat, row.cdf.back());
    }
    folder->Write(StrCat("gen-", k, "-flat"), flat);
    ++k;
  }
  // A few invalid lookups: precision 0 and 17, not increasing, bad padding,
  // a CDF that overshoots 2^precision, one that never ends.
  const std::vector<std::vector<int32_t>> invalid = {
      {0, 0, 1}, {17, 0, 131072}, {3, 0, 4, 4, 8}, {2, 0, 1, 4, 3},
      {2, 0, 5}, {4, 0, 1, 2, 3}};
  for (size_t i = 0; i < invalid.size(); ++i) {
    Bytes seed(1, static_cast<char>(i % 2));
    seed.push_back(static_cast<char>(invalid[i].size() - 3));
    for (int32_t v : invalid[i]) PutToken(&seed, v);
    folder->Write(StrCat("invalid-", i), seed);
  }
  // The lookups of tests/golden's channel-mode range coder cases (matrix
  // layout; the index-mode cases have lookups of the same kind).
  for (const std::string& name : ListDirectory(golden)) {
    if (name.compare(0, 14, "range_channel_") != 0 || !EndsWith(name, ".txt")) {
      continue;
    }
    auto arrays = ReadGoldenText(golden + "/" + name);
    const std::vector<int64_t>& shape = arrays["lookup_shape"];
    if (shape.size() != 2 || shape[1] < 3 || shape[1] > 258) continue;
    Bytes seed(1, 1);
    seed.push_back(static_cast<char>(shape[1] - 3));
    for (int64_t v : arrays["lookup"]) PutToken(&seed, static_cast<int32_t>(v));
    if (seed.size() <= 4096) {
      folder->Write("golden-" + name.substr(0, name.size() - 4), seed);
    }
  }
}

void PutMass(Bytes* out, double m) {
  const double scaled = std::round(m * 61440.0);
  if (m >= 0 && scaled < 61440.0 && scaled / 61440.0 == m) {
    const int u = static_cast<int>(scaled);
    out->push_back(static_cast<char>(u >> 8));
    out->push_back(static_cast<char>(u & 0xFF));
  } else {
    out->push_back(static_cast<char>(0xF8));
    uint64_t bits;
    std::memcpy(&bits, &m, sizeof(bits));
    Put<uint64_t>(out, bits);
  }
}

void PmfSeeds(Folder* folder) {
  std::mt19937 rng(6);
  int k = 0;
  for (int precision : {1, 2, 4, 8, 10, 12, 14, 15, 16}) {
    for (int shape = 0; shape < 3; ++shape) {
      const size_t n =
          std::min<size_t>(size_t{1} << precision, 1 + rng() % 60);
      std::vector<double> pmf(n);
      double sum = 0;
      for (size_t i = 0; i < n; ++i) {
        pmf[i] = shape == 0   ? 1.0                        // Uniform.
                 : shape == 1 ? std::exp(-0.3 * i)          // Geometric.
                              : (rng() % 4 == 0 ? 0.0 : 1e-6 * (rng() % 1000));
        sum += pmf[i];
      }
      // Normalized by the harness (bit 7) or by hand; some left as counts.
      Bytes seed(1, static_cast<char>(precision | (k % 3 == 0 ? 0x80 : 0)));
      for (double p : pmf) PutMass(&seed, k % 3 == 1 ? p / sum : p);
      folder->Write(StrCat("gen-", k++, "-p", precision), seed);
    }
  }
  // Specials: NaN, infinities, negative, subnormal, too many masses.
  Bytes special(1, 8);
  for (int t = 0xF0; t < 0xF8; ++t) special.push_back(static_cast<char>(t));
  folder->Write("special", special);
  Bytes too_many(1, 1);
  for (int i = 0; i < 3; ++i) PutMass(&too_many, 0.25);
  folder->Write("too-many", too_many);
}

}  // namespace
}  // namespace tensorcoder

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_corpus CORPUS_DIR GOLDEN_DIR\n");
    return 2;
  }
  using namespace tensorcoder;  // NOLINT
  const std::string root = argv[1], golden = argv[2];
  { Folder f(root, "range_decoder"); RangeDecoderSeeds(&f); }
  { Folder f(root, "range_encoder"); RangeEncoderSeeds(&f); }
  { Folder f(root, "tensor_file"); TensorFileSeeds(&f, golden); }
  { Folder f(root, "unit_decoder"); UnitDecoderSeeds(&f); }
  { Folder f(root, "bit_coder"); BitCoderSeeds(&f); }
  { Folder f(root, "run_length"); RunLengthSeeds(&f, golden); }
  { Folder f(root, "cdf_table"); CdfTableSeeds(&f, golden); }
  { Folder f(root, "pmf_to_cdf"); PmfSeeds(&f); }
  return 0;
}
