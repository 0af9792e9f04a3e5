// Reader of the golden test vectors in tests/golden/ (see make_golden.py):
// NAME.txt holds `key value value ...` lines, NAME.bin the expected bytes.
#ifndef TENSORCODER_TESTS_GOLDEN_CASES_H_
#define TENSORCODER_TESTS_GOLDEN_CASES_H_

#include <dirent.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace tensorcoder {
namespace golden {

struct Case {
  std::string name;
  std::string coder;
  std::map<std::string, std::vector<int64_t>> arrays;
  std::string expected;  // The encoded bytes.

  std::vector<int32_t> Int32(const std::string& key) const {
    auto it = arrays.find(key);
    if (it == arrays.end()) return {};
    return std::vector<int32_t>(it->second.begin(), it->second.end());
  }
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

// Loads every case of `directory`, sorted by name.
inline std::vector<Case> LoadCases(const std::string& directory) {
  std::vector<std::string> names;
  if (DIR* dir = opendir(directory.c_str())) {
    while (dirent* entry = readdir(dir)) {
      const std::string file = entry->d_name;
      if (file.size() > 4 && file.substr(file.size() - 4) == ".txt") {
        names.push_back(file.substr(0, file.size() - 4));
      }
    }
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  std::vector<Case> cases;
  for (const std::string& name : names) {
    Case c;
    c.name = name;
    std::istringstream lines(ReadFile(directory + "/" + name + ".txt"));
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream words(line);
      std::string key;
      words >> key;
      if (key == "coder") {
        words >> c.coder;
        continue;
      }
      std::vector<int64_t>& values = c.arrays[key];
      int64_t v;
      while (words >> v) values.push_back(v);
    }
    c.expected = ReadFile(directory + "/" + name + ".bin");
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace golden
}  // namespace tensorcoder

#endif  // TENSORCODER_TESTS_GOLDEN_CASES_H_
