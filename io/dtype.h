// Element types shared by every tensor file logq reads or writes (safetensors, .lqm,
// PyTorch checkpoints). Names follow the safetensors spelling.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace logq {

enum class DType : uint8_t {
  BOOL, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16, F32, F64, F8_E4M3, F8_E5M2
};

size_t dtype_size(DType t);
std::string_view dtype_name(DType t);
std::optional<DType> dtype_from_name(std::string_view name);
bool dtype_is_float(DType t);

// Reads element i of a little-endian buffer of type t as a double (exact for every type
// except 64-bit integers beyond 2^53).
double load_as_double(DType t, const uint8_t* data, size_t i);

float half_to_float(uint16_t h);
float bfloat16_to_float(uint16_t b);

}  // namespace logq
