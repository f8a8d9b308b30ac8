#include <filesystem>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "io/error.h"
#include "io/safetensors.h"
#include "test_util.h"

using namespace logq;
using Catch::Matchers::Contains;

namespace {

std::vector<uint8_t> with_header(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> out(8 + header.size() + data_bytes, 0);
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}

void expect_error(const std::vector<uint8_t>& bytes, const std::string& fragment) {
  try {
    SafetensorsFile::parse(Bytes::from_vector(bytes), "bad.safetensors");
    FAIL("no error for a file that should fail with: " << fragment);
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Contains("bad.safetensors") && Contains(fragment));
  }
}

}  // namespace

TEST_CASE("safetensors round trip keeps every dtype, shape, value and metadata", "[safetensors]") {
  SafetensorsWriter w;
  const std::vector<float> f32 = {1.5f, -2.25f, 0.0f, std::ldexp(1.0f, -149), 3.4e38f, -0.0f};
  const std::vector<double> f64 = {1.0 / 3, -1e300};
  const std::vector<int64_t> i64 = {INT64_MIN, -1, 0, INT64_MAX};
  const std::vector<int32_t> i32 = {INT32_MIN, 7};
  const std::vector<uint8_t> u8 = {0, 255, 1};
  const std::vector<int8_t> i8 = {-128, 127};
  const std::vector<uint16_t> f16 = {0x3C00, 0xC000, 0x7C00, 0x0001};  // 1, -2, inf, smallest subnormal
  const std::vector<uint16_t> bf16 = {0x3F80, 0xC040};               // 1, -3
  w.add("f32", DType::F32, {2, 3}, f32);
  w.add("f64", DType::F64, {2}, f64);
  w.add("i64", DType::I64, {4}, i64);
  w.add("i32", DType::I32, {1, 2}, i32);
  w.add("u8", DType::U8, {3}, u8);
  w.add("i8", DType::I8, {2}, i8);
  w.add("f16", DType::F16, {4}, f16);
  w.add("bf16", DType::BF16, {2}, bf16);
  w.add("scalar", DType::F32, {}, std::vector<float>{42.0f});
  w.add("empty", DType::F32, {0, 5}, std::vector<float>{});
  w.set_metadata("producer", "test");
  w.set_metadata("unicode", "µm² ✓");
  const auto bytes = w.serialize();
  uint64_t header_len;
  std::memcpy(&header_len, bytes.data(), 8);
  CHECK(header_len % 8 == 0);

  const auto f = SafetensorsFile::parse(Bytes::from_vector(bytes), "mem");
  CHECK(f.tensors().size() == 10);
  CHECK(f.metadata().at("unicode") == "µm² ✓");
  CHECK(f.read<float>("f32", DType::F32) == f32);
  CHECK(f.read<double>("f64", DType::F64) == f64);
  CHECK(f.read<int64_t>("i64", DType::I64) == i64);
  CHECK(f.read<int32_t>("i32", DType::I32) == i32);
  CHECK(f.read<uint8_t>("u8", DType::U8) == u8);
  CHECK(f.read<int8_t>("i8", DType::I8) == i8);
  CHECK(f.at("i32").shape == std::vector<int64_t>{1, 2});
  CHECK(f.at("scalar").shape.empty());
  CHECK(f.at("scalar").numel() == 1);
  CHECK(f.at("empty").nbytes == 0);
  const auto h = f.to_doubles(f.at("f16"));
  CHECK(h[0] == 1.0);
  CHECK(h[1] == -2.0);
  CHECK(std::isinf(h[2]));
  CHECK(h[3] == std::ldexp(1.0, -24));
  CHECK(f.to_doubles(f.at("bf16")) == std::vector<double>{1.0, -3.0});
  CHECK(std::signbit(f.to_doubles(f.at("f32"))[5]));
  CHECK_THROWS_WITH(f.read<float>("i32", DType::F32), Contains("has dtype I32, expected F32"));
  CHECK_THROWS_WITH(f.at("nope"), Contains("no tensor named 'nope'"));
}

TEST_CASE("safetensors write is atomic and leaves no temp file", "[safetensors]") {
  const std::string path = test::temp_path("atomic.safetensors");
  SafetensorsWriter w;
  w.add("x", DType::F32, {1}, std::vector<float>{1.0f});
  w.write(path);
  CHECK(test::exists(path));
  const std::string dir = path.substr(0, path.rfind('/')), prefix = path.substr(path.rfind('/') + 1) + ".tmp.";
  for (const auto& e : std::filesystem::directory_iterator(dir)) CHECK(e.path().filename().string().rfind(prefix, 0) != 0);
  CHECK(SafetensorsFile::open(path).read<float>("x", DType::F32)[0] == 1.0f);
  std::remove(path.c_str());
  CHECK_THROWS_WITH(w.write("/nonexistent-dir/x.safetensors"), Contains("cannot create"));
}

TEST_CASE("safetensors written by Python's torch are read exactly", "[safetensors]") {
  // tests/data/pickle/expected.safetensors comes from scripts/fixtures/gen_pickle_cases.py.
  const auto f = SafetensorsFile::open(test::data_path("pickle/expected.safetensors"));
  CHECK(f.metadata().at("producer") == "scripts/fixtures/gen_pickle_cases.py");
  CHECK(f.read<int64_t>("i64", DType::I64) == std::vector<int64_t>{-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6});
  CHECK(f.read<int32_t>("i32", DType::I32) == std::vector<int32_t>{INT32_MIN, -1, 0, INT32_MAX});
  CHECK(f.read<float>("scalar", DType::F32) == std::vector<float>{3.25f});
}

TEST_CASE("safetensors fixture from the reference generator has the documented content", "[safetensors][shared]") {
  REQUIRE_SHARED("fixtures/quantizers/adalog_ref.safetensors");
  const auto f = SafetensorsFile::open(test::shared_path("fixtures/quantizers/adalog_ref.safetensors"));
  CHECK(f.tensors().size() == 682);  // fixtures/README.md
  for (const char* k : {"producer", "reference", "torch", "cases", "stats"}) CHECK(f.metadata().count(k) == 1);
  CHECK(f.at("input.x").shape == std::vector<int64_t>{2155});
  CHECK(f.at("input.category").dtype == DType::U8);
  // t2 = float32(round(D * 2^(-(c*q mod 37)/37)) / D), computed independently here (spec/adalog.md §1.2).
  for (int b : {3, 4, 6}) {
    for (int q : {10, 37, 137}) {
      const auto t1 = f.read<float>(fmt::format("adalog.table.b{}.q{}.t1", b, q), DType::F32);
      const auto t2 = f.read<float>(fmt::format("adalog.table.b{}.q{}.t2", b, q), DType::F32);
      const double D = std::ldexp(1.0, b + 1) - 2;
      REQUIRE(t2.size() == size_t{1} << b);
      for (int c = 0; c < (1 << b); ++c) {
        CHECK(t1[c] == static_cast<float>((c * q) / 37));
        CHECK(t2[c] == static_cast<float>(std::nearbyint(D * std::exp2(-((c * q) % 37) / 37.0)) / D));
      }
    }
  }
  const auto lf = SafetensorsFile::open(test::shared_path("fixtures/quantizers/logart_ref.safetensors"));
  const auto grid = lf.read<float>("logart.search_grid", DType::F32);
  REQUIRE(grid.size() == 100);
  CHECK(grid[0] == 1.0f);
  CHECK(grid[10] == std::nextafter(0.9f, 1.0f));  // README "Surprises" 1: 0.90000004, not 0.9
}

TEST_CASE("malformed safetensors files give an error naming the file and the problem", "[safetensors][bad-input]") {
  const std::string ok_entry = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  SECTION("too short") { expect_error({1, 2, 3}, "fewer than the 8-byte header length"); }
  SECTION("header length beyond the file") {
    auto b = with_header("{}", 0);
    const uint64_t n = 1000;
    std::memcpy(b.data(), &n, 8);
    expect_error(b, "exceeds the 2 bytes after the length field");
  }
  SECTION("header length above 100 MB") {
    auto b = with_header("{}", 0);
    const uint64_t n = uint64_t{1} << 40;
    std::memcpy(b.data(), &n, 8);
    expect_error(b, "exceeds the 100 MB limit");
  }
  SECTION("invalid JSON") { expect_error(with_header("{\"t\":", 0), "header is not valid JSON"); }
  SECTION("header not an object") { expect_error(with_header("[1,2]", 0), "header is not a JSON object"); }
  SECTION("unknown dtype") { expect_error(with_header(R"({"t":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}})", 16), "unknown dtype 'F128'"); }
  SECTION("negative shape") { expect_error(with_header(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4), "not a non-negative integer"); }
  SECTION("missing field") { expect_error(with_header(R"({"t":{"dtype":"F32","shape":[1]}})", 4), "has no 'data_offsets'"); }
  SECTION("reversed offsets") { expect_error(with_header(R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8), "are reversed"); }
  SECTION("offsets beyond the data (truncated)") { expect_error(with_header("{" + ok_entry + "}", 4), "is beyond the 4-byte data section"); }
  SECTION("size disagrees with shape") { expect_error(with_header(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "needs 12 bytes but data_offsets give 8"); }
  SECTION("shape overflow") { expect_error(with_header(R"({"t":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,8]}})", 8), "overflows"); }
  SECTION("overlap") {
    expect_error(with_header("{" + ok_entry + R"(,"u":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8), "overlaps");
  }
  SECTION("gap") { expect_error(with_header(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8), "gap of 4 bytes"); }
  SECTION("trailing bytes") { expect_error(with_header("{" + ok_entry + "}", 12), "data section has 12 bytes but tensors cover 8"); }
  SECTION("duplicate names") { expect_error(with_header("{" + ok_entry + "," + ok_entry + "}", 8), "tensor name 't' appears twice"); }
  SECTION("non-string metadata") { expect_error(with_header(R"({"__metadata__":{"a":1}})", 0), "__metadata__ value of 'a' is not a string"); }
  SECTION("every truncation of a valid file fails cleanly") {
    SafetensorsWriter w;
    w.add("a", DType::F32, {3}, std::vector<float>{1, 2, 3});
    w.add("b", DType::I64, {2}, std::vector<int64_t>{4, 5});
    const auto full = w.serialize();
    for (size_t n = 0; n < full.size(); ++n) {
      std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      CHECK_THROWS_AS(SafetensorsFile::parse(Bytes::from_vector(cut), "cut"), Error);
    }
  }
  SECTION("a missing file") { CHECK_THROWS_WITH(SafetensorsFile::open("/no/such/file.safetensors"), Contains("/no/such/file.safetensors: cannot open")); }
}
