// The Verilated 4x4 universal array against golden/ GEMM: random shapes (not multiples of R or C),
// K from 1 to 4096, every pairing, extreme operands; cycle counts against the schedule.
#include <fstream>
#include <random>

#include "test_util.h"
#include "testbenches/random_jobs.h"
#include "testbenches/rtl_array.h"

using namespace logq;
using Catch::Matchers::Contains;


TEST_CASE("RTL array GEMM is bit-exact with golden on random shapes, every pairing, K up to 4096", "[rtl][array]") {
  auto rtl = make_rtl_array_universal_4x4();
  std::mt19937 rng(31337);
  const int64_t shapes[][3] = {{1, 1, 1}, {4, 4, 1}, {5, 3, 2}, {7, 9, 13}, {3, 17, 64}, {13, 6, 255}, {9, 5, 1000}, {2, 3, 4096}};
  int jobs = 0;
  for (Pairing pr : {Pairing::UxU, Pairing::UxA, Pairing::LxU, Pairing::LxA})
    for (const auto& s : shapes)
      for (bool extreme : {false, true}) {
        const RandomJob j = random_job(rng, pr, s[0], s[1], s[2], extreme);
        const VerifyReport r = verify_gemm(*rtl, j.problem(), j.hw, VerifyOptions{"random", "", -1});
        INFO("pairing " << int(pr) << " " << s[0] << "x" << s[1] << "x" << s[2] << (extreme ? " extreme" : "") << "\n" << r.mismatch);
        CHECK(r.pass);
        CHECK(r.cycles == expected_cycles(rtl->config(), s[0], s[1], s[2]));
        ++jobs;
      }
  CHECK(jobs == 64);
}

TEST_CASE("the cycle count follows the schedule: tiles * (K + R + C - 1) + R", "[rtl][array]") {
  RtlArrayConfig c;  // 4 x 4: per tile K feed steps + R + C - 1 skew (incl. the edge register)
  CHECK(expected_cycles(c, 4, 4, 1) == 1 * (1 + 7) + 4);
  CHECK(expected_cycles(c, 5, 4, 10) == 2 * (10 + 7) + 4);
  CHECK(expected_cycles(c, 8, 9, 100) == 2 * 3 * (100 + 7) + 4);
  c.rows = c.cols = 16;
  CHECK(expected_cycles(c, 197, 576, 192) == 13 * 36 * (192 + 31) + 16);
}

TEST_CASE("an injected error is reported with the element, tile, operands and a waveform", "[rtl][array]") {
  auto rtl = make_rtl_array_universal_4x4();
  std::mt19937 rng(5);
  const RandomJob j = random_job(rng, Pairing::LxU, 9, 7, 20, false);
  VerifyOptions opt;
  opt.label = "blocks.0.mlp.fc1";
  opt.waveform_path = test::temp_path("mismatch.vcd");
  opt.flip_expected_bit = 5 * 7 + 6;  // element [5, 6]: tile row 1, tile col 1, PE (1, 2)
  const VerifyReport r = verify_gemm(*rtl, j.problem(), j.hw, opt);
  CHECK_FALSE(r.pass);
  CHECK_THAT(r.mismatch, Contains("MISMATCH in blocks.0.mlp.fc1") && Contains("element [m=5, n=6]") &&
                             Contains("tile 3 (tile row 1, tile col 1), PE row 1 col 2") && Contains("xor    0x1") &&
                             Contains("k=0") && Contains("L:"));
  REQUIRE(r.waveform == opt.waveform_path);
  std::ifstream vcd(r.waveform);
  const std::string text((std::istreambuf_iterator<char>(vcd)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Contains("$enddefinitions") && Contains("clk_i") && Contains("u_array"));
  CHECK(text.size() > 10000);
  std::remove(r.waveform.c_str());
}

TEST_CASE("jobs the array cannot run are refused with a reason", "[rtl][array][bad-input]") {
  auto rtl = make_rtl_array_universal_4x4();
  std::mt19937 rng(1);
  RandomJob j = random_job(rng, Pairing::UxU, 3, 3, 3, false);
  j.hw.acc_bits = 32;
  CHECK_THROWS_WITH(rtl->run(j.problem(), j.hw), Contains("ACC_W = 48"));
  RandomJob big = random_job(rng, Pairing::UxU, 1, 1, 1, false);
  big.M = 70000;
  CHECK_THROWS_WITH(rtl->run(big.problem(), big.hw), Contains("dimensions must be 1..65535"));
}
