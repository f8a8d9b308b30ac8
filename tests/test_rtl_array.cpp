// The Verilated 4x4 universal array against golden/ GEMM: random shapes (not multiples of R or C),
// K from 1 to 4096, every pairing, extreme operands; cycle counts against the schedule.
#include <array>
#include <fstream>
#include <random>
#include <vector>

#include "test_util.h"
#include "testbenches/random_jobs.h"
#include "testbenches/rtl_array.h"

using namespace logq;
using Catch::Matchers::Contains;


using Shape = std::array<int64_t, 3>;

// Runs ordinary and extreme random jobs of every pairing × shape on the array, bit for bit and
// cycle for cycle against golden; returns how many ran.
int check_random_jobs(RtlArray& rtl, std::mt19937& rng, const std::vector<Pairing>& pairings, const std::vector<Shape>& shapes) {
  int jobs = 0;
  for (Pairing pr : pairings)
    for (const Shape& s : shapes)
      for (bool extreme : {false, true}) {
        const RandomJob j = random_job(rng, pr, s[0], s[1], s[2], extreme);
        const VerifyReport r = verify_gemm(rtl, j.problem(), j.hw, VerifyOptions{"random", "", -1});
        INFO(rtl.config().unit << " pairing " << pairing_name(pr) << " " << s[0] << "x" << s[1] << "x" << s[2] << (extreme ? " extreme" : "") << "\n"
                               << r.mismatch);
        CHECK(r.pass);
        CHECK(r.cycles == expected_cycles(rtl.config(), s[0], s[1], s[2]));
        ++jobs;
      }
  return jobs;
}

TEST_CASE("RTL array GEMM is bit-exact with golden on random shapes, every pairing, K up to 4096", "[rtl][array]") {
  auto rtl = make_rtl_array_universal_4x4();
  std::mt19937 rng(31337);
  const std::vector<Shape> shapes = {{1, 1, 1}, {4, 4, 1}, {5, 3, 2}, {7, 9, 13}, {3, 17, 64}, {13, 6, 255}, {9, 5, 1000}, {2, 3, 4096}};
  CHECK(check_random_jobs(*rtl, rng, {Pairing::UxU, Pairing::UxA, Pairing::LxU, Pairing::LxA}, shapes) == 64);
}

TEST_CASE("the dual-PE (L x U / L x A) array is bit-exact with golden and keeps the schedule", "[rtl][array]") {
  auto rtl = make_rtl_array_lula_4x4();
  CHECK(rtl->config().kind == PeKind::LxUA);
  std::mt19937 rng(4242);
  const std::vector<Shape> shapes = {{1, 1, 1}, {5, 3, 2}, {7, 9, 13}, {13, 6, 255}, {2, 3, 1000}};
  // L x U, then L x A, then L x U again: the activation format switches per job.
  CHECK(check_random_jobs(*rtl, rng, {Pairing::LxU, Pairing::LxA, Pairing::LxU}, shapes) == 30);
  // A U x U job is not the dual PE's: refused with a reason, not computed wrongly.
  const RandomJob uu = random_job(rng, Pairing::UxU, 3, 3, 3, false);
  CHECK_THROWS_WITH(verify_gemm(*rtl, uu.problem(), uu.hw, VerifyOptions{}), Contains("UxU"));
}

TEST_CASE("an array passing only the word bits its PEs read is bit-exact", "[rtl][array]") {
  // The synthesized arrays keep A_USED / W_USED bits from PE to PE (rtl/logq_pe_array.sv); this
  // model does the same (L x U: 9 of 16 activation bits, 8 of 9 weight bits).
  std::string params;
  for (const RtlUnit& u : rtl_units())
    if (u.name == "gemm_lu_4x4") params = u.params;
  CHECK_THAT(params, Contains("KIND=2") && Contains("A_USED=9 W_USED=8"));
  auto rtl = make_rtl_array_lu_4x4();
  CHECK(rtl->config().kind == PeKind::LxU);
  std::mt19937 rng(777);
  const std::vector<Shape> shapes = {{1, 1, 1}, {4, 4, 3}, {7, 9, 13}, {13, 6, 255}, {2, 3, 1000}};
  CHECK(check_random_jobs(*rtl, rng, {Pairing::LxU}, shapes) == 10);
}

TEST_CASE("K-splitting: chunks of K added in the output buffer equal golden's unsplit GEMM, cycle for cycle", "[rtl][array][ksplit]") {
  std::mt19937 rng(2718);
  auto universal = make_rtl_array_universal_4x4();
  auto lula = make_rtl_array_lula_4x4();
  struct Split { int64_t M, N, K, kc; };
  // Chunks that divide K and ones that leave a short last chunk; a chunk of 1; more rows than one tile.
  const Split splits[] = {{9, 7, 64, 16}, {5, 3, 37, 8}, {4, 4, 5, 1}, {13, 6, 255, 100}};
  int jobs = 0;
  for (RtlArray* rtl : {universal.get(), lula.get()})
    for (Pairing pr : {Pairing::UxU, Pairing::UxA, Pairing::LxU, Pairing::LxA}) {
      if (!pe_kind_runs(rtl->config().kind, pr)) continue;
      for (const Split& s : splits)
        for (bool extreme : {false, true}) {
          const RandomJob j = random_job(rng, pr, s.M, s.N, s.K, extreme);
          const RtlRunResult r = rtl->run_k_split(j.problem(), j.hw, s.kc);
          INFO(rtl->config().unit << " " << pairing_name(pr) << " " << s.M << "x" << s.N << "x" << s.K << " in chunks of " << s.kc);
          CHECK(r.acc == gemm(j.problem(), j.hw).acc);
          CHECK(r.cycles == expected_cycles_k_split(rtl->config(), s.M, s.N, s.K, s.kc));
          CHECK(r.cycles > expected_cycles(rtl->config(), s.M, s.N, s.K));  // each extra chunk costs its skew and drain
          ++jobs;
        }
    }
  CHECK(jobs == 4 * 4 * 2 + 2 * 4 * 2);
  // Without acc_i the buffer forgets the earlier chunks: the last chunk's sums alone.
  const RandomJob j = random_job(rng, Pairing::UxU, 5, 5, 20, false);
  const OwnedGemm tail = gemm_k_chunk(j.problem(), 10, 10);
  universal->run(gemm_k_chunk(j.problem(), 0, 10).problem(), j.hw);
  CHECK(universal->run(tail.problem(), j.hw).acc == gemm(tail.problem(), j.hw).acc);
  CHECK(universal->run(tail.problem(), j.hw).acc != gemm(j.problem(), j.hw).acc);
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
