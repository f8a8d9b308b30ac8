#include "io/dtype.h"

#include <cmath>
#include <cstring>

namespace logq {

namespace {
struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
  bool is_float;
};
constexpr DTypeInfo kInfo[] = {
    {DType::BOOL, "BOOL", 1, false}, {DType::U8, "U8", 1, false},
    {DType::I8, "I8", 1, false},     {DType::I16, "I16", 2, false},
    {DType::U16, "U16", 2, false},   {DType::I32, "I32", 4, false},
    {DType::U32, "U32", 4, false},   {DType::I64, "I64", 8, false},
    {DType::U64, "U64", 8, false},   {DType::F16, "F16", 2, true},
    {DType::BF16, "BF16", 2, true},  {DType::F32, "F32", 4, true},
    {DType::F64, "F64", 8, true},    {DType::F8_E4M3, "F8_E4M3", 1, true},
    {DType::F8_E5M2, "F8_E5M2", 1, true},
};
const DTypeInfo& info(DType t) { return kInfo[static_cast<size_t>(t)]; }

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // unaligned-safe; every host logq supports is little-endian
  return v;
}

// OCP FP8 E4M3 (bias 7, no infinities, S.1111.111 is NaN) and E5M2 (IEEE-like, bias 15).
float fp8_e4m3_to_float(uint8_t v) {
  const int sign = v >> 7, exp = (v >> 3) & 0xF, man = v & 0x7;
  float mag;
  if (exp == 0xF && man == 0x7) mag = NAN;
  else if (exp == 0) mag = std::ldexp(static_cast<float>(man), -9);
  else mag = std::ldexp(1.0f + man / 8.0f, exp - 7);
  return sign ? -mag : mag;
}
float fp8_e5m2_to_float(uint8_t v) { return half_to_float(static_cast<uint16_t>(v) << 8); }
}  // namespace

size_t dtype_size(DType t) { return info(t).size; }
std::string_view dtype_name(DType t) { return info(t).name; }
bool dtype_is_float(DType t) { return info(t).is_float; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& i : kInfo)
    if (i.name == name) return i.type;
  return std::nullopt;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
  float mag;
  if (exp == 0) mag = std::ldexp(static_cast<float>(man), -24);
  else if (exp == 0x1F) mag = man ? NAN : INFINITY;
  else mag = std::ldexp(static_cast<float>(man | 0x400), static_cast<int>(exp) - 25);
  return sign ? -mag : mag;
}

float bfloat16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

double load_as_double(DType t, const uint8_t* data, size_t i) {
  const uint8_t* p = data + i * dtype_size(t);
  switch (t) {
    case DType::BOOL: return *p != 0;
    case DType::U8: return *p;
    case DType::I8: return static_cast<int8_t>(*p);
    case DType::I16: return load<int16_t>(p);
    case DType::U16: return load<uint16_t>(p);
    case DType::I32: return load<int32_t>(p);
    case DType::U32: return load<uint32_t>(p);
    case DType::I64: return static_cast<double>(load<int64_t>(p));
    case DType::U64: return static_cast<double>(load<uint64_t>(p));
    case DType::F16: return half_to_float(load<uint16_t>(p));
    case DType::BF16: return bfloat16_to_float(load<uint16_t>(p));
    case DType::F32: return load<float>(p);
    case DType::F64: return load<double>(p);
    case DType::F8_E4M3: return fp8_e4m3_to_float(*p);
    case DType::F8_E5M2: return fp8_e5m2_to_float(*p);
  }
  return 0.0;
}

}  // namespace logq
