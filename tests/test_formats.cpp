// golden/ formats against the reference vectors of ../shared/fixtures/quantizers.
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>

#include "golden/formats.h"
#include "io/safetensors.h"
#include "test_util.h"

using namespace logq;

namespace {

const int kBits[] = {3, 4, 6};
const int kQs[] = {10, 23, 37, 61, 100, 119, 137};
const std::pair<const char*, float> kScales[] = {{"1.0", 1.0f}, {"0.37", 0.37f}};

bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }
// Bitwise equal, or both zero: the reference's sign(w)·0 gives −0.0 for negative weights that
// quantize to zero, which is the same real value as +0.0.
bool same_value(float a, float b) { return same_bits(a, b) || (a == 0.0f && b == 0.0f); }

// Categories 4 (straddle) and 5 (exact tie) sit on a float32 log2 rounding boundary, where the
// fixtures' README expects implementations to differ; everything else must match exactly.
bool tie_category(uint8_t c) { return c == 4 || c == 5; }

struct Counts {
  int exact_mismatch = 0, tie_mismatch = 0, ties = 0;
};

}  // namespace

TEST_CASE("AdaLog u, codes and eval values equal the reference's", "[formats][adalog][shared]") {
  REQUIRE_SHARED("fixtures/quantizers/adalog_ref.safetensors");
  const auto f = SafetensorsFile::open(test::shared_path("fixtures/quantizers/adalog_ref.safetensors"));
  const auto x = f.read<float>("input.x", DType::F32);
  const auto cat = f.read<uint8_t>("input.category", DType::U8);
  Counts u_counts;
  for (int q : kQs) {
    for (auto [sname, s] : kScales) {
      const std::string base = fmt::format("adalog.q{}.s{}", q, sname);
      const auto u = f.read<float>(base + ".u", DType::F32);
      const auto cr = f.read<int32_t>(base + ".cr", DType::I32);
      for (size_t i = 0; i < x.size(); ++i) {
        const bool tie = tie_category(cat[i]);
        u_counts.ties += tie;
        const bool ok = same_bits(adalog_u(x[i], s, q), u[i]) && adalog_round(x[i], s, q) == cr[i];
        if (!ok) (tie ? u_counts.tie_mismatch : u_counts.exact_mismatch)++;
        if (!ok && !tie) FAIL_CHECK("u/cr differ for x=" << x[i] << " q=" << q << " s=" << s << " category " << int(cat[i]));
      }
      for (int b : kBits) {
        const AdaLogTable t = make_adalog_table(b, q);
        const std::string bb = fmt::format("adalog.b{}.q{}.s{}", b, q, sname);
        const auto code = f.read<uint8_t>(bb + ".code", DType::U8);
        const auto zero = f.read<uint8_t>(bb + ".zero", DType::BOOL);
        const auto eval = f.read<float>(bb + ".eval", DType::F32);
        for (size_t i = 0; i < x.size(); ++i) {
          if (tie_category(cat[i])) continue;
          const int32_t c = adalog_encode(x[i], s, t);
          INFO("x=" << x[i] << " b=" << b << " q=" << q << " s=" << s);
          CHECK((c == t.zero_code) == (zero[i] != 0));
          if (c != t.zero_code) CHECK(c == code[i]);
          CHECK(same_bits(adalog_decode_ref(c, s, t), eval[i]));
          // The exact value differs from the float32 reference only by its roundings.
          const double v = adalog_value(c, s, t);
          CHECK(std::abs(v - eval[i]) <= std::max(4e-7 * std::abs(v), std::ldexp(1.0, -126)));
        }
      }
    }
  }
  CHECK(u_counts.exact_mismatch == 0);
  WARN("AdaLog u/cr on log2-tie inputs (categories 4-5): " << u_counts.tie_mismatch << " of " << u_counts.ties
                                                            << " differ from ATen's AVX2 log2 (reported, not failed)");
  CHECK(u_counts.tie_mismatch <= u_counts.ties / 20);
}

TEST_CASE("AdaLog LUTs equal the reference tables and the spec's mantissas", "[formats][adalog][shared]") {
  REQUIRE_SHARED("fixtures/quantizers/adalog_ref.safetensors");
  const auto f = SafetensorsFile::open(test::shared_path("fixtures/quantizers/adalog_ref.safetensors"));
  for (int b : kBits)
    for (int q : kQs) {
      const AdaLogTable t = make_adalog_table(b, q);
      CHECK(t.t1 == f.read<float>(fmt::format("adalog.table.b{}.q{}.t1", b, q), DType::F32));
      CHECK(t.t2 == f.read<float>(fmt::format("adalog.table.b{}.q{}.t2", b, q), DType::F32));
    }
  // The mantissa lists printed in spec/adalog.md §1.2 (j = 0..36); M[c] = list[(c·q) mod 37].
  const std::map<int, std::vector<int>> spec = {
      {3, {14, 14, 13, 13, 13, 13, 13, 12, 12, 12, 12, 11, 11, 11, 11, 11, 10, 10, 10, 10, 10, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 7, 7, 7}},
      {4, {30, 29, 29, 28, 28, 27, 27, 26, 26, 25, 25, 24, 24, 24, 23, 23, 22, 22, 21, 21, 21, 20, 20, 19, 19, 19, 18, 18, 18, 17, 17, 17, 16, 16, 16, 16, 15}},
      {6, {126, 124, 121, 119, 117, 115, 113, 111, 108, 106, 104, 103, 101, 99, 97, 95, 93, 92, 90, 88, 87, 85, 83, 82, 80, 79, 77, 76, 75, 73, 72, 70, 69, 68, 67, 65, 64}}};
  for (const auto& [b, list] : spec)
    for (int q : kQs) {
      const AdaLogTable t = make_adalog_table(b, q);
      CHECK(t.D == (1 << (b + 1)) - 2);
      for (int c = 0; c < (1 << b); ++c) {
        CHECK(t.M[c] == list[(c * q) % 37]);
        CHECK(t.E[c] == c * q / 37);
      }
    }
}

TEST_CASE("Shift-AdaLog (post-GELU) codes and values equal the reference's", "[formats][adalog][shared]") {
  REQUIRE_SHARED("fixtures/quantizers/adalog_ref.safetensors");
  const auto f = SafetensorsFile::open(test::shared_path("fixtures/quantizers/adalog_ref.safetensors"));
  const auto x = f.read<float>("input.gelu_x", DType::F32);
  const auto cat = f.read<uint8_t>("input.gelu_category", DType::U8);
  int tie_mismatch = 0;
  for (int q : kQs)
    for (auto [sname, s] : kScales)
      for (int b : kBits) {
        const AdaLogTable t = make_adalog_table(b, q);
        const std::string bb = fmt::format("shiftadalog.b{}.q{}.s{}", b, q, sname);
        const auto code = f.read<uint8_t>(bb + ".code", DType::U8);
        const auto zero = f.read<uint8_t>(bb + ".zero", DType::BOOL);
        const auto before = f.read<float>(bb + ".eval_before", DType::F32);
        const auto after = f.read<float>(bb + ".eval_after", DType::F32);
        for (size_t i = 0; i < x.size(); ++i) {
          const int32_t c = adalog_encode(x[i] + kGeluShift, s, t);
          const bool ok = (c == t.zero_code) == (zero[i] != 0) && (c == t.zero_code || c == code[i]);
          if (tie_category(cat[i])) {
            tie_mismatch += !ok;
            continue;
          }
          INFO("x=" << x[i] << " b=" << b << " q=" << q << " s=" << s);
          CHECK(ok);
          CHECK(same_bits(adalog_decode_ref(c, s, t), after[i]));
          CHECK(same_bits(adalog_decode_ref(c, s, t) - kGeluShift, before[i]));
        }
      }
  WARN("Shift-AdaLog codes on tie inputs differing from ATen: " << tie_mismatch);
}

TEST_CASE("uniform codes and values equal the reference's for every variant", "[formats][uniform][shared]") {
  REQUIRE_SHARED("fixtures/quantizers/adalog_ref.safetensors");
  const auto f = SafetensorsFile::open(test::shared_path("fixtures/quantizers/adalog_ref.safetensors"));
  const auto x = f.read<float>("uniform.input.x", DType::F32);  // [24, 64]
  for (int b : {3, 4, 6, 8})
    for (const char* v : {"pt", "pt_zhalf", "pr", "pr_clip", "pr_zfrac"}) {
      const std::string p = fmt::format("uniform.b{}.{}", b, v);
      const auto s = f.read<float>(p + ".scale", DType::F32);
      const auto z = f.read<float>(p + ".zero_point", DType::F32);
      const auto code = f.read<uint8_t>(p + ".code", DType::U8);
      const auto eval = f.read<float>(p + ".eval", DType::F32);
      for (size_t i = 0; i < x.size(); ++i) {
        const size_t r = s.size() == 1 ? 0 : i / 64;
        const int32_t c = uniform_encode(x[i], s[r], z[r], b);
        INFO(p << " element " << i);
        CHECK(c == code[i]);
        CHECK(same_bits(uniform_decode_ref(c, s[r], z[r]), eval[i]));
      }
    }
}

namespace {

struct WeightRows {
  std::vector<float> w;
  int64_t rows = 0, cols = 0;
};

WeightRows weight(const SafetensorsFile& f, const std::string& name) {
  const TensorInfo& t = f.at(name);
  WeightRows r;
  r.w = f.read<float>(name, DType::F32);
  r.rows = t.shape[0];
  r.cols = t.numel() / r.rows;
  return r;
}

std::pair<float, float> row_range(const WeightRows& w, int64_t r) {
  float hi = 0, lo = 0;
  for (int64_t k = 0; k < w.cols; ++k) {
    hi = std::max(hi, w.w[r * w.cols + k]);
    lo = std::max(lo, -w.w[r * w.cols + k]);
  }
  return {hi, lo};
}

}  // namespace

TEST_CASE("LogART per-row codebooks, regions and dequantized weights equal the reference's", "[formats][logart][shared]") {
  REQUIRE_SHARED("fixtures/quantizers/logart_ref.safetensors");
  const auto f = SafetensorsFile::open(test::shared_path("fixtures/quantizers/logart_ref.safetensors"));
  const auto grid = f.read<float>("logart.search_grid", DType::F32);
  int cases = 0;
  for (int n : {3, 4}) {
    const int N = 1 << (n - 1);
    for (const char* wname : {"conv", "lin", "special"}) {
      const WeightRows w = weight(f, std::string("logart.w.") + wname);
      for (bool sym : {false, true}) {
        if (sym && std::string(wname) != "lin") continue;
        for (int c2 = N; c2 >= 0; c2 -= 2) {
          const std::string p = fmt::format("logart.n{}.{}{}.c2_{}", n, wname, sym ? ".sym" : "", c2);
          INFO(p);
          ++cases;
          const auto z2 = f.read<int32_t>(p + ".z2", DType::I32), zr = f.read<int32_t>(p + ".zr", DType::I32);
          const auto M2 = f.read<int32_t>(p + ".M2", DType::I32), Mr = f.read<int32_t>(p + ".Mr", DType::I32);
          const auto A = f.read<int32_t>(p + ".A", DType::I32);
          const auto T = f.read<float>(p + ".T", DType::F32);
          const auto base2 = f.read<uint8_t>(p + ".base2", DType::BOOL);
          std::vector<LogArtRow> rows;
          for (int64_t r = 0; r < w.rows; ++r) {
            const auto [hi, lo] = row_range(w, r);
            rows.push_back(logart_row(hi, lo, n, c2, sym));
            const LogArtRow& row = rows.back();
            INFO("row " << r);
            CHECK(row.z2 == z2[r]);
            CHECK(row.zr == zr[r]);
            CHECK(row.M2 == M2[r]);
            CHECK(row.Mr == Mr[r]);
            CHECK(row.A == A[r]);
            CHECK(same_bits(row.T, T[r]));
            for (int64_t k = 0; k < w.cols; ++k)
              CHECK(logart_encode(w.w[r * w.cols + k], 1.0f, row).base2 == (base2[r * w.cols + k] != 0));
          }
          for (int si : {0, 7, 29, 50})
            for (int hw : {0, 1}) {
              const auto deq = f.read<float>(fmt::format("{}.s{}.hw{}.deq", p, si, hw), DType::F32);
              for (int64_t r = 0; r < w.rows; ++r)
                for (int64_t k = 0; k < w.cols; ++k) {
                  const int64_t i = r * w.cols + k;
                  const LogWeight c = logart_encode(w.w[i], grid[si], rows[r]);
                  INFO("s" << si << " hw" << hw << " row " << r << " col " << k << " w=" << w.w[i]);
                  CHECK(same_value(logart_decode_ref(c, grid[si], hw), deq[i]));
                  const double exact = logart_value(c, grid[si], hw);
                  // float32 √2 is off by 2.6e-8 relative, and pow() multiplies that by |level|.
                  const double tol = 4e-7 + (c.base2 ? 0.0 : 3e-8 * std::abs(c.E));
                  CHECK(std::abs(exact - deq[i]) <= tol * std::abs(exact));
                  // The fixtures' own derivation of E: round(2·log2(|deq_hw0| / s)).
                  if (hw == 0 && deq[i] != 0.0f) CHECK(c.E == std::lround(2 * std::log2(std::abs(deq[i]) / grid[si])));
                }
            }
        }
        if (sym) continue;
        // log_sqrt2 method: the √2 branch on the c2 = 0 code map (zero-capable).
        std::vector<LogArtRow> rows;
        for (int64_t r = 0; r < w.rows; ++r) {
          const auto [hi, lo] = row_range(w, r);
          rows.push_back(logart_row(hi, lo, n, 0, false));
        }
        for (int si : {0, 7})
          for (int hw : {0, 1}) {
            const auto deq = f.read<float>(fmt::format("logart.n{}.{}.sqrt2method.s{}.hw{}.deq", n, wname, si, hw), DType::F32);
            for (int64_t i = 0; i < static_cast<int64_t>(w.w.size()); ++i) {
              const LogWeight c = logart_encode(w.w[i], grid[si], rows[i / w.cols], true);
              INFO("sqrt2method n" << n << " " << wname << " s" << si << " hw" << hw << " element " << i);
              CHECK(same_value(logart_decode_ref(c, grid[si], hw), deq[i]));
            }
          }
      }
    }
  }
  CHECK(cases == 4 * (3 + 5));  // conv, lin, lin.sym, special × (n=3: c2 ∈ {4,2,0}; n=4: {8,6,4,2,0})
}

TEST_CASE("LogART worked example of spec/logart.md §1.4 (with the fixtures' erratum A = 2)", "[formats][logart]") {
  // Row x⁺ = 0.30, x⁻ = 0.2 (the erratum: the row's minimum is −0.2), n = 4, c2 = 4, s = 1.
  const LogArtRow r = logart_row(0.30f, 0.2f, 4, 4, false);
  CHECK(r.Mr == -3);
  CHECK(r.zr == -6);
  CHECK(r.M2 == -4);
  CHECK(r.z2 == -7);
  CHECK(r.T == std::exp2(-3.5f));
  CHECK(r.A == 2);
  auto deq = [&](float w, bool hw) { return logart_decode_ref(logart_encode(w, 1.0f, r), 1.0f, hw); };
  CHECK(deq(-0.2f, false) == Approx(-0.17678).epsilon(1e-4));
  CHECK(deq(-0.2f, true) == -0.1875f);
  CHECK(deq(0.05f, false) == 0.0625f);
  CHECK(deq(0.003f, false) == 0.00390625f);
  CHECK(deq(0.001f, false) == 0.0f);  // below the zero-capable range
  CHECK(deq(0.3f, true) == 0.375f);
  CHECK(deq(0.09f, false) == Approx(0.125f).epsilon(1e-6));  // above T: √2 region, clamped up to zr
  const LogArtRow t = logart_row(0.30f, 0.2f, 4, 4, false, M2Rounding::Trunc);  // PyTorch 1.10's //
  CHECK(t.M2 == -3);
  CHECK(t.z2 == -6);
  CHECK(t.T == 0.125f);
}

TEST_CASE("LogART budget mode uses at most 2^n codes per row and changes only the lowest levels", "[formats][logart]") {
  std::mt19937 rng(4);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  int over_budget_rows = 0;
  for (int n : {3, 4}) {
    const int N = 1 << (n - 1);
    for (int c2 = N; c2 >= 0; c2 -= 2)
      for (int trial = 0; trial < 20; ++trial) {
        std::vector<float> row(256);
        for (auto& v : row) v = nd(rng) * (trial % 3 == 0 ? 1.0f : 1.0f + trial);
        if (trial % 5 == 0) for (auto& v : row) v = std::abs(v);  // one-signed: A saturates
        float hi = 0, lo = 0;
        for (float v : row) hi = std::max(hi, v), lo = std::max(lo, -v);
        const LogArtRow r = logart_row(hi, lo, n, c2, false);
        // Every magnitude from far below the smallest level to the largest, both signs.
        std::set<std::pair<int, int>> faithful, budget;
        for (float mag = hi * 1e-6f; mag <= hi * 1.5f; mag *= 1.01f)
          for (float sgn : {1.0f, -1.0f}) {
            const LogWeight f = logart_encode(sgn * mag, 1.0f, r, false, false);
            const LogWeight b = logart_encode(sgn * mag, 1.0f, r, false, true);
            faithful.insert({f.sign, f.sign ? f.E : 0});
            budget.insert({b.sign, b.sign ? b.E : 0});
            // Above the lowest level z of its region, nothing changes (z in half-octaves).
            const int32_t z = f.base2 ? 2 * r.z2 : r.zr;
            if (f.sign != 0 && f.E > z) {
              CHECK(b.sign == f.sign);
              CHECK(b.E == f.E);
            }
          }
        INFO("n=" << n << " c2=" << c2 << " A=" << r.A);
        CHECK(static_cast<int>(budget.size()) <= (1 << n));
        CHECK(budget.size() <= faithful.size());
        over_budget_rows += static_cast<int>(faithful.size()) > (1 << n);
      }
  }
  CHECK(over_budget_rows > 50);  // the faithful codebook does exceed 2^n codes (spec/numerics.md §1)
}
