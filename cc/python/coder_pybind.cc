// pybind11 bindings of the tensorcoder C++ core: numpy arrays in, bytes out
// (and back). The Python-facing documentation lives in coder.py / coder.pyi;
// this file only converts arguments, releases the GIL around the coding work
// and turns non-OK statuses into Python exceptions.
//
// Every argument is converted (and checked) while the GIL is held. What the
// core then reads without the GIL is either a buffer this module owns or an
// object it holds a reference to (an int32 C-contiguous numpy array, an
// immutable bytes object), so it stays alive and in place while other Python
// threads run.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cc/batch_coder.h"
#include "cc/cdf_table.h"
#include "cc/pmf_to_cdf.h"
#include "cc/range_decoder.h"
#include "cc/range_encoder.h"
#include "cc/run_length_coder.h"
#include "cc/status.h"
#include "cc/unit_decoder.h"
#include "cc/unit_encoder.h"

namespace py = pybind11;
namespace tc = tensorcoder;

namespace {

using Shape = std::vector<py::ssize_t>;
using Int32Array = py::array_t<int32_t, py::array::c_style>;

// ---------------------------------------------------------------------------
// Errors.

// Raises the Python exception for a non-OK status: ValueError for bad
// arguments and corrupted strings, MemoryError when out of resources,
// RuntimeError for anything else. The message is the core's.
void ThrowIfError(const tc::Status& status) {
  switch (status.code()) {
    case tc::StatusCode::kOk:
      return;
    case tc::StatusCode::kInvalidArgument:
    case tc::StatusCode::kOutOfRange:
    case tc::StatusCode::kDataLoss:
      throw py::value_error(status.message());
    case tc::StatusCode::kResourceExhausted:
      PyErr_SetString(PyExc_MemoryError, status.message().c_str());
      throw py::error_already_set();
    default:
      throw std::runtime_error(status.ToString());
  }
}

// Runs `work` (which returns a Status) with the GIL released and raises its
// error, if any, once the GIL is back. `work` must not touch Python objects.
template <typename Work>
void RunWithoutGil(Work&& work) {
  tc::Status status;
  {
    py::gil_scoped_release release;
    status = work();
  }
  ThrowIfError(status);
}

std::string TypeName(py::handle obj) {
  return py::str(py::type::handle_of(obj).attr("__name__"));
}

// ---------------------------------------------------------------------------
// Shapes.

Shape ShapeOf(const py::array& array) {
  return Shape(array.shape(), array.shape() + array.ndim());
}

// The number of elements of shape[begin:end].
size_t SizeOf(const Shape& shape, size_t begin = 0,
              size_t end = std::numeric_limits<size_t>::max()) {
  size_t size = 1;
  for (size_t i = begin; i < shape.size() && i < end; ++i) {
    size *= static_cast<size_t>(shape[i]);
  }
  return size;
}

// "(2, 3)", "(4,)", "()": as Python prints tuples. Needs no GIL.
std::string ShapeString(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}

void CheckMinRank(const Shape& shape, size_t rank, const char* what) {
  if (shape.size() < rank) {
    throw py::value_error(std::string(what) + " must have rank >= " +
                          std::to_string(rank) + ", got shape " +
                          ShapeString(shape));
  }
}

// Converts a shape argument: an int or an iterable of ints (anything with
// __index__), each non-negative.
Shape ToShape(py::handle obj, const char* name) {
  std::vector<py::object> dims;
  if (PyIndex_Check(obj.ptr()) && !py::isinstance<py::iterable>(obj)) {
    dims.push_back(py::reinterpret_borrow<py::object>(obj));
  } else if (py::isinstance<py::str>(obj) || py::isinstance<py::bytes>(obj) ||
             !py::isinstance<py::iterable>(obj)) {
    throw py::type_error(std::string(name) +
                         " must be an int or a sequence of ints, got " +
                         TypeName(obj));
  } else {
    for (py::handle dim : obj) {
      dims.push_back(py::reinterpret_borrow<py::object>(dim));
    }
  }
  Shape shape;
  py::ssize_t total = 1;
  for (const py::object& dim : dims) {
    const py::ssize_t value = PyNumber_AsSsize_t(dim.ptr(), PyExc_ValueError);
    if (value == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (value < 0) {
      throw py::value_error(std::string(name) +
                            " must hold non-negative sizes, got " +
                            std::string(py::repr(obj)));
    }
    constexpr py::ssize_t kMaxElements =
        std::numeric_limits<py::ssize_t>::max() /
        static_cast<py::ssize_t>(sizeof(int32_t));
    if (value != 0 && total > kMaxElements / value) {
      throw py::value_error(std::string(name) + " " +
                            std::string(py::repr(obj)) + " is too large");
    }
    total *= value;
    shape.push_back(value);
  }
  return shape;
}

// ---------------------------------------------------------------------------
// Integer arrays.

template <typename T>
void CopyToInt32(const py::array& source, const char* name, int32_t* out) {
  // Same kind and size as the source: only a byte swap or a copy, if any.
  const auto typed = py::array_t<T, py::array::c_style>::ensure(source);
  if (!typed) {
    throw py::type_error(std::string(name) + ": cannot read the array as " +
                         std::string(py::str(py::dtype::of<T>())));
  }
  const T* in = typed.data();
  const py::ssize_t size = typed.size();
  for (py::ssize_t i = 0; i < size; ++i) {
    const T value = in[i];
    bool fits;
    if constexpr (std::is_signed_v<T>) {
      fits = value >= std::numeric_limits<int32_t>::min() &&
             value <= std::numeric_limits<int32_t>::max();
    } else {
      fits = value <= static_cast<T>(std::numeric_limits<int32_t>::max());
    }
    if (!fits) {
      throw py::value_error(std::string(name) + ": value " +
                            std::to_string(value) + " at flat index " +
                            std::to_string(i) + " does not fit in int32");
    }
    out[i] = static_cast<int32_t>(value);
  }
}

// numpy turns a list such as [2**70] into an object array: name its first
// out-of-range int (ValueError), else reject the array (TypeError).
[[noreturn]] void RejectObjectArray(const py::array& array, const char* name) {
  for (py::handle item : array.attr("ravel")()) {
    if (PyLong_Check(item.ptr()) && !PyBool_Check(item.ptr())) {
      int overflow = 0;
      const long long value =
          PyLong_AsLongLongAndOverflow(item.ptr(), &overflow);
      if (overflow != 0 || value < std::numeric_limits<int32_t>::min() ||
          value > std::numeric_limits<int32_t>::max()) {
        throw py::value_error(std::string(name) + ": value " +
                              std::string(py::repr(item)) +
                              " does not fit in int32");
      }
    }
  }
  throw py::type_error(std::string(name) +
                       " must be an integer array, got dtype object");
}

// Converts an integer array-like into a C-contiguous int32 numpy array.
// An aligned, native int32 C-contiguous ndarray is used as is (the result
// holds a reference); anything else is copied into a new array after checking
// that every value fits in int32 (ValueError otherwise). Float, bool,
// complex, object... arrays raise TypeError; an empty list is accepted.
Int32Array ToInt32Array(py::handle obj, const char* name) {
  const bool is_ndarray = py::isinstance<py::array>(obj);
  const py::array array =
      is_ndarray ? py::reinterpret_borrow<py::array>(obj)
                 : py::array(py::module_::import("numpy").attr("asarray")(obj));
  const py::dtype dtype = array.dtype();
  const char kind = dtype.kind();
  if (kind != 'i' && kind != 'u') {
    // np.asarray([]) is float64, yet an empty list is a valid empty input.
    if (!is_ndarray && array.size() == 0) return Int32Array(ShapeOf(array));
    if (!is_ndarray && kind == 'O') RejectObjectArray(array, name);
    throw py::type_error(std::string(name) +
                         " must be an integer array, got dtype " +
                         std::string(py::str(dtype)) + " (" + TypeName(obj) +
                         ")");
  }
  const int flags = array.flags();
  if (is_ndarray && kind == 'i' && dtype.itemsize() == 4 &&
      dtype.attr("isnative").cast<bool>() &&
      (flags & py::array::c_style) != 0 &&
      (flags & py::detail::npy_api::NPY_ARRAY_ALIGNED_) != 0) {
    return py::reinterpret_borrow<Int32Array>(array);
  }
  Int32Array result(ShapeOf(array));
  int32_t* out = result.mutable_data();
  const bool is_signed = kind == 'i';
  switch (dtype.itemsize()) {
    case 1:
      is_signed ? CopyToInt32<int8_t>(array, name, out)
                : CopyToInt32<uint8_t>(array, name, out);
      break;
    case 2:
      is_signed ? CopyToInt32<int16_t>(array, name, out)
                : CopyToInt32<uint16_t>(array, name, out);
      break;
    case 4:
      is_signed ? CopyToInt32<int32_t>(array, name, out)
                : CopyToInt32<uint32_t>(array, name, out);
      break;
    case 8:
      is_signed ? CopyToInt32<int64_t>(array, name, out)
                : CopyToInt32<uint64_t>(array, name, out);
      break;
    default:
      throw py::type_error(std::string(name) + ": unsupported dtype " +
                           std::string(py::str(dtype)));
  }
  return result;
}

// ---------------------------------------------------------------------------
// Byte strings.

// A bytes-like argument that stays valid while the GIL is released: an
// immutable bytes object is referenced, a bytearray or memoryview (whose
// content another thread may change) is copied.
class ByteString {
 public:
  ByteString(py::handle obj, const char* name) {
    if (PyBytes_Check(obj.ptr())) {
      bytes_ = py::reinterpret_borrow<py::object>(obj);
      return;
    }
    if (!PyByteArray_Check(obj.ptr()) && !PyMemoryView_Check(obj.ptr())) {
      throw py::type_error(std::string(name) +
                           " must be bytes, bytearray or memoryview, got " +
                           TypeName(obj));
    }
    Py_buffer view;
    if (PyObject_GetBuffer(obj.ptr(), &view, PyBUF_SIMPLE) != 0) {
      PyErr_Clear();
      throw py::type_error(std::string(name) +
                           ": the buffer must be C-contiguous bytes");
    }
    copy_.assign(static_cast<const char*>(view.buf),
                 static_cast<size_t>(view.len));
    PyBuffer_Release(&view);
  }

  // Needs no GIL.
  std::string_view view() const {
    if (bytes_) {
      return std::string_view(
          PyBytes_AS_STRING(bytes_.ptr()),
          static_cast<size_t>(PyBytes_GET_SIZE(bytes_.ptr())));
    }
    return copy_;
  }

 private:
  py::object bytes_;  // The bytes object, or null if copied.
  std::string copy_;
};

// Converts a sequence of bytes-like strings.
std::vector<ByteString> ToByteStrings(py::handle obj, const char* name) {
  if (PyBytes_Check(obj.ptr()) || PyByteArray_Check(obj.ptr()) ||
      PyMemoryView_Check(obj.ptr()) || py::isinstance<py::str>(obj) ||
      !py::isinstance<py::iterable>(obj)) {
    throw py::type_error(std::string(name) +
                         " must be a sequence of bytes objects, got " +
                         TypeName(obj));
  }
  std::vector<ByteString> strings;
  for (py::handle item : obj) strings.emplace_back(item, name);
  return strings;
}

std::vector<std::string_view> Views(const std::vector<ByteString>& strings) {
  std::vector<std::string_view> views;
  views.reserve(strings.size());
  for (const ByteString& s : strings) views.push_back(s.view());
  return views;
}

py::list ToBytesList(const std::vector<std::string>& strings) {
  py::list list(strings.size());
  for (size_t k = 0; k < strings.size(); ++k) {
    list[k] = py::bytes(strings[k]);
  }
  return list;
}

// ---------------------------------------------------------------------------
// Lookups.

// A lookup: the converted array, rank 1 (flat) or 2 (matrix).
Int32Array ToLookup(py::handle obj, const char* name = "lookup") {
  Int32Array lookup = ToInt32Array(obj, name);
  if (lookup.ndim() != 1 && lookup.ndim() != 2) {
    throw py::value_error(std::string(name) +
                          " must have rank 1 (flat) or 2 (one CDF row per "
                          "row), got shape " +
                          ShapeString(ShapeOf(lookup)));
  }
  return lookup;
}

// Parses a lookup converted by ToLookup(); needs no GIL.
tc::StatusOr<tc::CdfTable> ParseLookup(const int32_t* data, const Shape& shape,
                                       const char* name = "lookup") {
  const std::vector<int64_t> dims(shape.begin(), shape.end());
  return tc::CdfTable::FromArray(data, dims.size(), dims.data(), name);
}

// Channel mode codes flat value i with row (i mod num_rows), which for an
// array whose innermost axis has num_rows entries is the row that axis names.
tc::Status CheckChannelAxis(const Shape& shape, const tc::CdfTable& table,
                            const char* what) {
  if (static_cast<size_t>(shape.back()) != table.num_rows()) {
    return tc::InvalidArgumentError(
        what, " ", ShapeString(shape),
        ": the innermost axis selects the CDF row, so its size must equal "
        "the number of lookup rows, ",
        table.num_rows());
  }
  return tc::OkStatus();
}

void CheckSameShape(const py::array& indexes, const py::array& values) {
  const Shape a = ShapeOf(indexes), b = ShapeOf(values);
  if (a != b) {
    throw py::value_error("indexes and values must have the same shape, got " +
                          ShapeString(a) + " and " + ShapeString(b));
  }
}

// ---------------------------------------------------------------------------
// Range coding.

py::bytes EncodeIndex(py::handle lookup_obj, py::handle indexes_obj,
                      py::handle values_obj) {
  const Int32Array lookup = ToLookup(lookup_obj);
  const Int32Array indexes = ToInt32Array(indexes_obj, "indexes");
  const Int32Array values = ToInt32Array(values_obj, "values");
  CheckSameShape(indexes, values);
  const Shape lookup_shape = ShapeOf(lookup);
  const size_t count = static_cast<size_t>(values.size());
  std::string encoded;
  RunWithoutGil([&]() -> tc::Status {
    auto table = ParseLookup(lookup.data(), lookup_shape);
    if (!table.ok()) return table.status();
    auto result =
        tc::EncodeIndexed(*table, indexes.data(), values.data(), count);
    if (!result.ok()) return result.status();
    encoded = std::move(*result);
    return tc::OkStatus();
  });
  return py::bytes(encoded);
}

py::array DecodeIndex(py::handle lookup_obj, py::handle indexes_obj,
                      py::handle data_obj) {
  const Int32Array lookup = ToLookup(lookup_obj);
  const Int32Array indexes = ToInt32Array(indexes_obj, "indexes");
  const ByteString data(data_obj, "data");
  const Shape lookup_shape = ShapeOf(lookup);
  const size_t count = static_cast<size_t>(indexes.size());
  Int32Array values(ShapeOf(indexes));
  int32_t* out = values.mutable_data();
  RunWithoutGil([&]() -> tc::Status {
    auto table = ParseLookup(lookup.data(), lookup_shape);
    if (!table.ok()) return table.status();
    const tc::DecodeTable decode_table(std::move(*table));
    const std::string_view bytes = data.view();
    return tc::DecodeIndexed(decode_table, bytes.data(), bytes.size(),
                             indexes.data(), out, count);
  });
  return std::move(values);
}

py::bytes EncodeChannel(py::handle lookup_obj, py::handle values_obj) {
  const Int32Array lookup = ToLookup(lookup_obj);
  const Int32Array values = ToInt32Array(values_obj, "values");
  const Shape shape = ShapeOf(values);
  CheckMinRank(shape, 1, "values");
  const Shape lookup_shape = ShapeOf(lookup);
  std::string encoded;
  RunWithoutGil([&]() -> tc::Status {
    auto table = ParseLookup(lookup.data(), lookup_shape);
    if (!table.ok()) return table.status();
    TC_RETURN_IF_ERROR(CheckChannelAxis(shape, *table, "values of shape"));
    auto result = tc::EncodeChannel(*table, values.data(), SizeOf(shape));
    if (!result.ok()) return result.status();
    encoded = std::move(*result);
    return tc::OkStatus();
  });
  return py::bytes(encoded);
}

py::array DecodeChannel(py::handle lookup_obj, py::handle data_obj,
                        py::handle shape_obj) {
  const Int32Array lookup = ToLookup(lookup_obj);
  const ByteString data(data_obj, "data");
  const Shape shape = ToShape(shape_obj, "shape");
  CheckMinRank(shape, 1, "shape");
  const Shape lookup_shape = ShapeOf(lookup);
  Int32Array values(shape);
  int32_t* out = values.mutable_data();
  RunWithoutGil([&]() -> tc::Status {
    auto table = ParseLookup(lookup.data(), lookup_shape);
    if (!table.ok()) return table.status();
    TC_RETURN_IF_ERROR(CheckChannelAxis(shape, *table, "shape"));
    const tc::DecodeTable decode_table(std::move(*table));
    const std::string_view bytes = data.view();
    return tc::DecodeChannel(decode_table, bytes.data(), bytes.size(), out,
                             SizeOf(shape));
  });
  return std::move(values);
}

// ---------------------------------------------------------------------------
// Batched range coding: one string per entry of the leading axis.

py::list EncodeIndexBatch(py::handle lookup_obj, py::handle indexes_obj,
                          py::handle values_obj, int num_threads) {
  const Int32Array lookup = ToLookup(lookup_obj);
  const Int32Array indexes = ToInt32Array(indexes_obj, "indexes");
  const Int32Array values = ToInt32Array(values_obj, "values");
  CheckSameShape(indexes, values);
  const Shape shape = ShapeOf(values);
  CheckMinRank(shape, 1, "values");
  const Shape lookup_shape = ShapeOf(lookup);
  std::vector<std::string> strings;
  RunWithoutGil([&]() -> tc::Status {
    auto table = ParseLookup(lookup.data(), lookup_shape);
    if (!table.ok()) return table.status();
    return tc::EncodeBatch(*table, indexes.data(), values.data(),
                           static_cast<size_t>(shape[0]), SizeOf(shape, 1),
                           num_threads, &strings);
  });
  return ToBytesList(strings);
}

py::array DecodeIndexBatch(py::handle lookup_obj, py::handle indexes_obj,
                           py::handle strings_obj, int num_threads) {
  const Int32Array lookup = ToLookup(lookup_obj);
  const Int32Array indexes = ToInt32Array(indexes_obj, "indexes");
  const std::vector<ByteString> strings =
      ToByteStrings(strings_obj, "strings");
  const Shape shape = ShapeOf(indexes);
  CheckMinRank(shape, 1, "indexes");
  if (static_cast<size_t>(shape[0]) != strings.size()) {
    throw py::value_error(
        "indexes must have shape [len(strings), ...], got shape " +
        ShapeString(shape) + " for " + std::to_string(strings.size()) +
        " strings");
  }
  const Shape lookup_shape = ShapeOf(lookup);
  const std::vector<std::string_view> views = Views(strings);
  Int32Array values(shape);
  int32_t* out = values.mutable_data();
  RunWithoutGil([&]() -> tc::Status {
    auto table = ParseLookup(lookup.data(), lookup_shape);
    if (!table.ok()) return table.status();
    const tc::DecodeTable decode_table(std::move(*table));
    return tc::DecodeBatch(decode_table, views.data(), views.size(),
                           indexes.data(), SizeOf(shape, 1), num_threads, out);
  });
  return std::move(values);
}

py::list EncodeChannelBatch(py::handle lookup_obj, py::handle values_obj,
                            int num_threads) {
  const Int32Array lookup = ToLookup(lookup_obj);
  const Int32Array values = ToInt32Array(values_obj, "values");
  const Shape shape = ShapeOf(values);
  CheckMinRank(shape, 2, "values");
  const Shape lookup_shape = ShapeOf(lookup);
  std::vector<std::string> strings;
  RunWithoutGil([&]() -> tc::Status {
    auto table = ParseLookup(lookup.data(), lookup_shape);
    if (!table.ok()) return table.status();
    TC_RETURN_IF_ERROR(CheckChannelAxis(shape, *table, "values of shape"));
    return tc::EncodeBatch(*table, nullptr, values.data(),
                           static_cast<size_t>(shape[0]), SizeOf(shape, 1),
                           num_threads, &strings);
  });
  return ToBytesList(strings);
}

py::array DecodeChannelBatch(py::handle lookup_obj, py::handle strings_obj,
                             py::handle shape_obj, int num_threads) {
  const Int32Array lookup = ToLookup(lookup_obj);
  const std::vector<ByteString> strings =
      ToByteStrings(strings_obj, "strings");
  const Shape shape = ToShape(shape_obj, "shape");
  CheckMinRank(shape, 1, "shape");
  const Shape lookup_shape = ShapeOf(lookup);
  const std::vector<std::string_view> views = Views(strings);
  Shape out_shape = {static_cast<py::ssize_t>(strings.size())};
  out_shape.insert(out_shape.end(), shape.begin(), shape.end());
  Int32Array values(out_shape);
  int32_t* out = values.mutable_data();
  RunWithoutGil([&]() -> tc::Status {
    auto table = ParseLookup(lookup.data(), lookup_shape);
    if (!table.ok()) return table.status();
    TC_RETURN_IF_ERROR(CheckChannelAxis(shape, *table, "shape"));
    const tc::DecodeTable decode_table(std::move(*table));
    return tc::DecodeBatch(decode_table, views.data(), views.size(), nullptr,
                           SizeOf(shape), num_threads, out);
  });
  return std::move(values);
}

// ---------------------------------------------------------------------------
// Coding units (the strings of the entropy models, cc/unit_encoder.h).

// The `cdf_offset` argument: rank 1, one entry per row (checked by the core).
Int32Array ToOffsets(py::handle obj) {
  Int32Array offsets = ToInt32Array(obj, "cdf_offset");
  if (offsets.ndim() != 1) {
    throw py::value_error("cdf_offset must have rank 1, got shape " +
                          ShapeString(ShapeOf(offsets)));
  }
  return offsets;
}

// The indexes of indexed mode, which must have `shape`; ignored (and not
// converted) otherwise.
Int32Array ToUnitIndexes(py::handle obj, bool indexed, const Shape& shape,
                         const char* what) {
  if (!indexed) return Int32Array(Shape{0});
  Int32Array indexes = ToInt32Array(obj, "indexes");
  if (ShapeOf(indexes) != shape) {
    throw py::value_error("indexes must have the shape of " +
                          std::string(what) + ", " + ShapeString(shape) +
                          ", got " + ShapeString(ShapeOf(indexes)));
  }
  return indexes;
}

// Codes `values`, already converted to a C-contiguous array of T.
template <typename T>
std::vector<std::string> EncodeUnitsOf(const T* values, const Shape& shape,
                                       const Int32Array& indexes, bool indexed,
                                       const Int32Array& cdf,
                                       const Int32Array& offsets,
                                       int num_threads) {
  const size_t count = static_cast<size_t>(shape.back());
  const size_t num_units = SizeOf(shape, 0, shape.size() - 1);
  const Shape cdf_shape = ShapeOf(cdf);
  std::vector<std::string> strings;
  RunWithoutGil([&]() -> tc::Status {
    auto table = ParseLookup(cdf.data(), cdf_shape, "cdf");
    if (!table.ok()) return table.status();
    TC_RETURN_IF_ERROR(tc::CheckOffsets(
        *table, static_cast<size_t>(offsets.size()), "cdf_offset"));
    return tc::EncodeUnits(*table, offsets.data(), values, num_units,
                           indexed ? indexes.data() : nullptr, count,
                           tc::ThreadRunner(num_threads), &strings);
  });
  return strings;
}

template <typename T>
std::vector<std::string> EncodeFloatUnits(const py::array& values,
                                          const Int32Array& indexes,
                                          bool indexed, const Int32Array& cdf,
                                          const Int32Array& offsets,
                                          int num_threads) {
  using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;
  const Array typed = Array::ensure(values);
  if (!typed) throw py::type_error("values: cannot read the array as float");
  return EncodeUnitsOf(typed.data(), ShapeOf(typed), indexes, indexed, cdf,
                       offsets, num_threads);
}

py::list EncodeUnits(py::handle values_obj, py::handle indexes_obj,
                     py::handle cdf_obj, py::handle offset_obj, bool indexed,
                     int num_threads) {
  const py::array values =
      py::array(py::module_::import("numpy").attr("asarray")(values_obj));
  const char kind = values.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw py::type_error("values must be a real array, got dtype " +
                         std::string(py::str(values.dtype())));
  }
  const Shape shape = ShapeOf(values);
  CheckMinRank(shape, 1, "values");
  const Int32Array indexes =
      ToUnitIndexes(indexes_obj, indexed, shape, "values");
  const Int32Array cdf = ToLookup(cdf_obj, "cdf");
  const Int32Array offsets = ToOffsets(offset_obj);
  if (kind != 'f') {
    // Integers are coded exactly (any int32), without rounding.
    const Int32Array ints = ToInt32Array(values, "values");
    return ToBytesList(EncodeUnitsOf(ints.data(), shape, indexes, indexed,
                                     cdf, offsets, num_threads));
  }
  // float32 is rounded as float32 (as the op does); wider floats as float64.
  return ToBytesList(
      values.dtype().itemsize() == 4
          ? EncodeFloatUnits<float>(values, indexes, indexed, cdf, offsets,
                                    num_threads)
          : EncodeFloatUnits<double>(values, indexes, indexed, cdf, offsets,
                                     num_threads));
}

template <typename T>
py::array DecodeUnitsAs(const std::vector<std::string_view>& views,
                        const Int32Array& indexes, bool indexed, size_t count,
                        const Int32Array& cdf, const Int32Array& offsets,
                        bool check, int num_threads) {
  const Shape cdf_shape = ShapeOf(cdf);
  py::array_t<T, py::array::c_style> values(
      Shape{static_cast<py::ssize_t>(views.size()),
            static_cast<py::ssize_t>(count)});
  T* out = values.mutable_data();
  RunWithoutGil([&]() -> tc::Status {
    auto table = ParseLookup(cdf.data(), cdf_shape, "cdf");
    if (!table.ok()) return table.status();
    TC_RETURN_IF_ERROR(tc::CheckOffsets(
        *table, static_cast<size_t>(offsets.size()), "cdf_offset"));
    const tc::DecodeTable decode_table(std::move(*table));
    return tc::DecodeUnits(decode_table, offsets.data(), views.data(),
                           views.size(), indexed ? indexes.data() : nullptr,
                           count, check, tc::ThreadRunner(num_threads), out);
  });
  return std::move(values);
}

// Decodes a flat sequence of strings into a [len(strings), count] array of
// `dtype` (float32, float64 or int32); tensorcoder.coder reshapes it.
py::array DecodeUnits(py::handle strings_obj, py::handle indexes_obj,
                      int64_t count, py::handle cdf_obj, py::handle offset_obj,
                      bool indexed, bool check, const std::string& dtype,
                      int num_threads) {
  if (count < 0) {
    throw py::value_error("count must be >= 0, got " + std::to_string(count));
  }
  const std::vector<ByteString> strings =
      ToByteStrings(strings_obj, "strings");
  const Shape shape = {static_cast<py::ssize_t>(strings.size()),
                       static_cast<py::ssize_t>(count)};
  const Int32Array indexes =
      ToUnitIndexes(indexes_obj, indexed, shape, "[len(strings), count]");
  const Int32Array cdf = ToLookup(cdf_obj, "cdf");
  const Int32Array offsets = ToOffsets(offset_obj);
  const std::vector<std::string_view> views = Views(strings);
  const size_t n = static_cast<size_t>(count);
  if (dtype == "float32") {
    return DecodeUnitsAs<float>(views, indexes, indexed, n, cdf, offsets,
                                check, num_threads);
  }
  if (dtype == "float64") {
    return DecodeUnitsAs<double>(views, indexes, indexed, n, cdf, offsets,
                                 check, num_threads);
  }
  if (dtype == "int32") {
    return DecodeUnitsAs<int32_t>(views, indexes, indexed, n, cdf, offsets,
                                  check, num_threads);
  }
  throw py::value_error("dtype must be float32, float64 or int32, got " +
                        dtype);
}

// ---------------------------------------------------------------------------
// CDF construction.

py::array PmfToQuantizedCdf(py::handle pmf_obj, int precision) {
  const py::array pmf =
      py::array(py::module_::import("numpy").attr("asarray")(pmf_obj));
  const char kind = pmf.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw py::type_error("pmf must be a real (float) array, got dtype " +
                         std::string(py::str(pmf.dtype())));
  }
  const Shape shape = ShapeOf(pmf);
  CheckMinRank(shape, 1, "pmf");
  // float32 (and narrower) converts to float64 exactly. A float64
  // C-contiguous pmf is referenced, anything else converted into a new array.
  using DoubleArray =
      py::array_t<double, py::array::c_style | py::array::forcecast>;
  const DoubleArray masses = DoubleArray::ensure(pmf);
  if (!masses) throw py::type_error("pmf: cannot convert to float64");
  const size_t n = static_cast<size_t>(shape.back());
  const size_t num_vectors = SizeOf(shape, 0, shape.size() - 1);
  Shape out_shape = shape;
  out_shape.back() += 1;
  Int32Array cdfs(out_shape);
  int32_t* out = cdfs.mutable_data();
  RunWithoutGil([&]() -> tc::Status {
    for (size_t k = 0; k < num_vectors; ++k) {
      auto cdf = tc::PmfToQuantizedCdf(masses.data() + k * n, n, precision);
      if (!cdf.ok()) {
        if (num_vectors == 1) return cdf.status();
        return tc::Status(cdf.status().code(),
                          tc::StrCat(cdf.status().message(),
                                     " (in pmf vector ", k, ")"));
      }
      std::copy(cdf->begin(), cdf->end(), out + k * (n + 1));
    }
    return tc::OkStatus();
  });
  return std::move(cdfs);
}

py::array PmfsToLookup(py::handle pmf_obj, py::handle lengths_obj,
                       int precision, bool overflow, int num_threads) {
  const py::array pmf =
      py::array(py::module_::import("numpy").attr("asarray")(pmf_obj));
  const char kind = pmf.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw py::type_error("pmf must be a real (float) array, got dtype " +
                         std::string(py::str(pmf.dtype())));
  }
  const Shape shape = ShapeOf(pmf);
  if (shape.size() != 2) {
    throw py::value_error("pmf must have rank 2 (one pmf per row), got shape " +
                          ShapeString(shape));
  }
  using DoubleArray =
      py::array_t<double, py::array::c_style | py::array::forcecast>;
  const DoubleArray masses = DoubleArray::ensure(pmf);
  if (!masses) throw py::type_error("pmf: cannot convert to float64");
  const Int32Array lengths = ToInt32Array(lengths_obj, "lengths");
  if (ShapeOf(lengths) != Shape{shape[0]}) {
    throw py::value_error("lengths must have one entry per pmf row, shape " +
                          ShapeString(Shape{shape[0]}) + ", got " +
                          ShapeString(ShapeOf(lengths)));
  }
  const size_t rows = static_cast<size_t>(shape[0]);
  const size_t max_length = static_cast<size_t>(shape[1]);
  Int32Array lookup(Shape{
      shape[0], static_cast<py::ssize_t>(tc::LookupWidth(max_length, overflow))});
  int32_t* out = lookup.mutable_data();
  RunWithoutGil([&]() -> tc::Status {
    return tc::PmfsToLookup(masses.data(), lengths.data(), rows, max_length,
                            precision, overflow, tc::ThreadRunner(num_threads),
                            out);
  });
  return std::move(lookup);
}

// ---------------------------------------------------------------------------
// Run-length codes.

tc::RunLengthOptions Options(int run_length_code, int magnitude_code,
                             bool use_run_length_for_non_zeros) {
  tc::RunLengthOptions options;
  options.run_length_code = run_length_code;
  options.magnitude_code = magnitude_code;
  options.use_run_length_for_non_zeros = use_run_length_for_non_zeros;
  return options;
}

py::bytes RunLengthGammaEncode(py::handle data_obj) {
  const Int32Array data = ToInt32Array(data_obj, "data");
  const size_t count = static_cast<size_t>(data.size());
  std::string encoded;
  RunWithoutGil([&]() -> tc::Status {
    tc::StatusOr<std::string> result = tc::RunLengthGammaEncode(data.data(), count);
    if (!result.ok()) return result.status();
    encoded = std::move(result).value();
    return tc::OkStatus();
  });
  return py::bytes(encoded);
}

py::array RunLengthGammaDecode(py::handle code_obj, py::handle shape_obj) {
  const ByteString code(code_obj, "code");
  const Shape shape = ToShape(shape_obj, "shape");
  Int32Array data(shape);
  int32_t* out = data.mutable_data();
  RunWithoutGil([&]() -> tc::Status {
    const std::string_view bytes = code.view();
    return tc::RunLengthGammaDecode(bytes.data(), bytes.size(), out,
                                    SizeOf(shape));
  });
  return std::move(data);
}

py::bytes RunLengthEncode(py::handle data_obj, int run_length_code,
                          int magnitude_code,
                          bool use_run_length_for_non_zeros) {
  const Int32Array data = ToInt32Array(data_obj, "data");
  const size_t count = static_cast<size_t>(data.size());
  const tc::RunLengthOptions options =
      Options(run_length_code, magnitude_code, use_run_length_for_non_zeros);
  std::string encoded;
  RunWithoutGil([&]() -> tc::Status {
    auto result = tc::RunLengthEncode(data.data(), count, options);
    if (!result.ok()) return result.status();
    encoded = std::move(*result);
    return tc::OkStatus();
  });
  return py::bytes(encoded);
}

py::array RunLengthDecode(py::handle code_obj, py::handle shape_obj,
                          int run_length_code, int magnitude_code,
                          bool use_run_length_for_non_zeros) {
  const ByteString code(code_obj, "code");
  const Shape shape = ToShape(shape_obj, "shape");
  const tc::RunLengthOptions options =
      Options(run_length_code, magnitude_code, use_run_length_for_non_zeros);
  Int32Array data(shape);
  int32_t* out = data.mutable_data();
  RunWithoutGil([&]() -> tc::Status {
    const std::string_view bytes = code.view();
    return tc::RunLengthDecode(bytes.data(), bytes.size(), out, SizeOf(shape),
                               options);
  });
  return std::move(data);
}

}  // namespace

PYBIND11_MODULE(_coder, m) {
  m.doc() = "tensorcoder C++ core bindings; use tensorcoder.coder instead.";

  m.def("encode_index", &EncodeIndex, py::arg("lookup"), py::arg("indexes"),
        py::arg("values"));
  m.def("decode_index", &DecodeIndex, py::arg("lookup"), py::arg("indexes"),
        py::arg("data"));
  m.def("encode_channel", &EncodeChannel, py::arg("lookup"),
        py::arg("values"));
  m.def("decode_channel", &DecodeChannel, py::arg("lookup"), py::arg("data"),
        py::arg("shape"));

  m.def("encode_index_batch", &EncodeIndexBatch, py::arg("lookup"),
        py::arg("indexes"), py::arg("values"), py::arg("num_threads") = 0);
  m.def("decode_index_batch", &DecodeIndexBatch, py::arg("lookup"),
        py::arg("indexes"), py::arg("strings"), py::arg("num_threads") = 0);
  m.def("encode_channel_batch", &EncodeChannelBatch, py::arg("lookup"),
        py::arg("values"), py::arg("num_threads") = 0);
  m.def("decode_channel_batch", &DecodeChannelBatch, py::arg("lookup"),
        py::arg("strings"), py::arg("shape"), py::arg("num_threads") = 0);

  m.def("encode_units", &EncodeUnits, py::arg("values"), py::arg("indexes"),
        py::arg("cdf"), py::arg("cdf_offset"), py::arg("indexed"),
        py::arg("num_threads") = 0);
  m.def("decode_units", &DecodeUnits, py::arg("strings"), py::arg("indexes"),
        py::arg("count"), py::arg("cdf"), py::arg("cdf_offset"),
        py::arg("indexed"), py::arg("check") = true,
        py::arg("dtype") = "float32", py::arg("num_threads") = 0);

  m.def("pmf_to_quantized_cdf", &PmfToQuantizedCdf, py::arg("pmf"),
        py::arg("precision"));
  m.def("pmfs_to_lookup", &PmfsToLookup, py::arg("pmf"), py::arg("lengths"),
        py::arg("precision"), py::arg("overflow"), py::arg("num_threads") = 0);

  m.def("run_length_gamma_encode", &RunLengthGammaEncode, py::arg("data"));
  m.def("run_length_gamma_decode", &RunLengthGammaDecode, py::arg("code"),
        py::arg("shape"));
  m.def("run_length_encode", &RunLengthEncode, py::arg("data"),
        py::arg("run_length_code") = -1, py::arg("magnitude_code") = -1,
        py::arg("use_run_length_for_non_zeros") = false);
  m.def("run_length_decode", &RunLengthDecode, py::arg("code"),
        py::arg("shape"), py::arg("run_length_code") = -1,
        py::arg("magnitude_code") = -1,
        py::arg("use_run_length_for_non_zeros") = false);
}
