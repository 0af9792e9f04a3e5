#include "cc/batch_coder.h"

#include "cc/range_encoder.h"

namespace tensorcoder {

namespace {

// Names string k in the error of its task.
Status InString(size_t k, const Status& status) {
  if (status.ok()) return status;
  return Status(status.code(), StrCat("string ", k, ": ", status.message()));
}

}  // namespace

Status EncodeBatch(const CdfTable& table, const int32_t* indexes,
                   const int32_t* values, size_t num_strings,
                   size_t values_per_string, int num_threads,
                   std::vector<std::string>* strings) {
  strings->assign(num_strings, std::string());
  return RunTasks(
      ThreadRunner(num_threads), num_strings, 0, [&](size_t k) -> Status {
        const size_t offset = k * values_per_string;
        TableEncoder encoder(table);
        TC_RETURN_IF_ERROR(InString(
            k, indexes == nullptr
                   ? encoder.EncodeChannel(values + offset, values_per_string)
                   : encoder.EncodeIndexed(indexes + offset, values + offset,
                                           values_per_string)));
        (*strings)[k] = encoder.Finish();
        return OkStatus();
      });
}

Status DecodeBatch(const DecodeTable& table, const std::string_view* strings,
                   size_t num_strings, const int32_t* indexes,
                   size_t values_per_string, int num_threads, int32_t* values) {
  return RunTasks(
      ThreadRunner(num_threads), num_strings, 0, [&](size_t k) -> Status {
        const size_t offset = k * values_per_string;
        const std::string_view s = strings[k];
        return InString(
            k, indexes == nullptr
                   ? DecodeChannel(table, s.data(), s.size(), values + offset,
                                   values_per_string)
                   : DecodeIndexed(table, s.data(), s.size(), indexes + offset,
                                   values + offset, values_per_string));
      });
}

}  // namespace tensorcoder
