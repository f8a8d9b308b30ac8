// `logq power`'s pieces without the flow (sim/power.h): the stimulus an array position gets, the
// array words, and the parsers of the VCD, the netlist and OpenSTA's reports; the join's formula
// on a hand-made flow directory. The flow itself runs in CTest power_flow.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "golden/formats.h"
#include "golden/hw.h"
#include "io/error.h"
#include "sim/power.h"

using namespace logq;
using namespace logq::sim;

namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("array words: the fields logq_pe_slot reads", "[power]") {
  const RtlParams r = pe_spec("la").rtl;  // MW 5, EW 6, KW 4
  const AdaLogTable t = make_adalog_table(4, 3);
  // AdaLog {zero, E, M}: M in bits [0, MW), E in [MW, MW + EW), zero at MW + EW.
  CHECK(array_a_word(Pairing::LxA, 5, &t, r) == ((uint32_t(t.E[5]) << 5) | uint32_t(t.M[5])));
  CHECK(array_a_word(Pairing::LxA, t.zero_code, &t, r) == ((1u << 11) | (uint32_t(t.E[0]) << 5) | uint32_t(t.M[0])));
  // LogART {zero, neg, odd, k}: k in [0, KW), odd at KW, neg at KW + 1, zero at KW + 2.
  const LogWeightInt w{-1, 1, 6};
  CHECK(array_w_word(Pairing::LxA, 0, &w, r) == ((1u << 5) | (1u << 4) | 6u));
  const LogWeightInt zero{};
  CHECK(array_w_word(Pairing::LxA, 0, &zero, r) == (1u << 6));
  const LogWeightInt too_far{1, 0, 16};
  CHECK_THROWS_WITH(array_w_word(Pairing::LxA, 0, &too_far, r), Catch::Contains("k = 16"));
  // Uniform d: two's complement in DA / DW bits.
  const RtlParams u = pe_spec("int8").rtl;
  CHECK(array_a_word(Pairing::UxU, -3, nullptr, u) == 0x1fdu);
  CHECK(array_w_word(Pairing::UxU, 255, nullptr, u) == 0xffu);
  CHECK_THROWS_WITH(array_a_word(Pairing::UxU, 256, nullptr, u), Catch::Contains("does not fit DA = 9"));
  // The bits each kind reads: an array of that kind keeps only these operand-register bits.
  CHECK(array_a_word_bits(pe_spec("int8")) == 9);
  CHECK(array_w_word_bits(pe_spec("lu")) == 7);
  CHECK(array_a_word_bits(pe_spec("ua")) == 12);
  CHECK(array_a_word_bits(pe_spec("universal")) == 16);
}

TEST_CASE("power stimulus: each output's K terms in order, its golden sum checked on the next cycle", "[power]") {
  // 2 x 3 x 4 U x U job on the int8 position.
  const std::vector<int32_t> x = {1, -2, 3, 4, 5, 6, -7, 8};
  const std::vector<int32_t> w = {1, 1, 1, 1, 2, 0, 0, -1, 0, 3, 0, 0};
  const GemmProblem p{Pairing::UxU, 2, 3, 4, x.data(), w.data(), nullptr, nullptr};
  PowerStimulus s(pe_spec("int8"));
  s.add(p, HwConfig{}, 1);
  CHECK(s.macs() == 24);
  CHECK(s.outputs() == 6);
  const auto l = lines_of(s.text());
  REQUIRE(l.size() == 1 + 24 + 1);
  CHECK(l[0] == "mode 0 frac 0 half 0 accw 32");
  CHECK(l[1] == "1 1 1 1");     // (m 0, n 0), k 0: first; no check yet
  CHECK(l[2] == "1 0 1fe 1");   // x = -2 in 9 bits
  CHECK(l[5] == "1 1 1 2 6");   // (m 0, n 1) starts; output (0, 0) = 1 - 2 + 3 + 4 = 6
  CHECK(l[9] == "1 1 1 0 -2");   // (0, 2) starts; (0, 1) = 1*2 + 4*(-1)
  CHECK(l[13] == "1 1 5 1 -6");  // (1, 0) starts; (0, 2) = -2*3
  CHECK(l.back() == "0 0 0 0 18");  // an idle cycle holds the last output, (1, 2) = 6*3
}

TEST_CASE("power stimulus: stride samples whole outputs across jobs, one configuration only", "[power]") {
  std::vector<int32_t> x(4 * 8, 1), w(4 * 8, 1);
  const GemmProblem p{Pairing::UxU, 4, 4, 8, x.data(), w.data(), nullptr, nullptr};
  PowerStimulus s(pe_spec("uu4"));
  s.add(p, HwConfig{}, 3);  // outputs 0, 3, 6, ... of 16
  s.add(p, HwConfig{}, 3);  // the count runs on: 18, 21, ... (outputs 2, 5, ... of this job)
  CHECK(s.outputs() == 6 + 5);
  CHECK(s.macs() == 11 * 8);
  HwConfig other;
  other.frac_bits = 3;
  const GemmProblem pa{Pairing::UxA, 4, 4, 8, x.data(), w.data(), nullptr, nullptr};
  CHECK_THROWS_WITH(s.add(pa, other, 1), Catch::Contains("configured once"));
  CHECK_THROWS_WITH(PowerStimulus(pe_spec("int8+ua")), Catch::Contains("composite"));
  // Measured port activities for OpenSTA's vectorless estimate: x = w = 1 is constant, first toggles.
  const std::string tcl = s.ports_tcl();
  CHECK_THAT(tcl, Catch::Contains("[get_ports {a_word_i[0]}] -activity 0.0"));
  CHECK_THAT(tcl, Catch::Contains("[get_ports {first_i}]"));
  CHECK_THAT(tcl, !Catch::Contains("a_word_i[5]"));  // uu4 reads 5 bits
}

TEST_CASE("VCD transitions: per bit of the top scope, first value not counted", "[power]") {
  const std::string vcd =
      "$timescale 1ps $end\n$scope module TOP $end\n $var wire 1 ! clk $end\n"
      " $scope module dut $end\n  $var wire 1 # _01_ $end\n  $var wire 3 $ acc_o [2:0] $end\n  $var wire 1 # alias $end\n"
      "  $scope module cell $end\n   $var wire 1 % inner $end\n  $upscope $end\n $upscope $end\n$upscope $end\n$enddefinitions $end\n"
      "#0\n0#\nb101 $\n0%\n#1\n1#\nb100 $\n1%\n#2\n0#\nb10 $\n#3\n0#\n";
  const auto t = vcd_transitions(vcd, "t.vcd");
  CHECK(t.at("_01_") == 2);
  CHECK(t.at("alias") == 2);
  CHECK(t.at("acc_o[0]") == 1);  // 101 -> 100 -> 010
  CHECK(t.at("acc_o[1]") == 1);
  CHECK(t.at("acc_o[2]") == 1);
  CHECK(t.count("inner") == 0);  // inside a cell
  CHECK(t.count("clk") == 0);    // TOP's own copy of the port
  CHECK_THROWS_WITH(vcd_transitions(std::string("$scope module TOP $end\n"), "cut.vcd"), Catch::Contains("cut.vcd: no $enddefinitions"));
  CHECK_THROWS_WITH(vcd_transitions(std::string("$scope module a $end\n$scope module b $end\n$var wire x ! n $end\n"), "bad.vcd"),
                    Catch::Contains("bad.vcd: malformed $var"));
}

TEST_CASE("netlist cells and OpenSTA reports", "[power]") {
  const std::string net =
      "module top(a, y);\n  input a;\n  NAND2X1 _10_ (\n    .A(a),\n    .B(_3_),\n    .Y(y[1])\n  );\n"
      "  FAX1 _11_ (\n    .A(a),\n    .B(a),\n    .C(a),\n    .YC(_4_),\n    .YS(_5_)\n  );\nendmodule\n";
  const auto cells = netlist_cells(net, "NAND2X1 Y\nFAX1 YC\nFAX1 YS\n", "n.v");
  REQUIRE(cells.size() == 2);
  CHECK(cells[0].output_nets == std::vector<std::string>{"y[1]"});
  CHECK(cells[1].output_nets == std::vector<std::string>{"_4_", "_5_"});
  CHECK_THROWS_WITH(netlist_cells("  NAND2X1 _10_ (\n    .A(a)\n  );\n", "NAND2X1 Y\n", "n.v"), Catch::Contains("drives no net"));
  const std::string inst = "       Internal\n------\n 1.0e-05 2.0e-06 3.0e-10 1.20003e-05 _10_\n 4.0e-05 0 1e-10 4.00001e-05 _11_\n";
  const auto p = sta_instance_power(inst, "a.txt");
  CHECK(p.at("_10_") == Approx(1.20003e-05));
  CHECK(p.size() == 2);
  CHECK_THROWS_WITH(sta_instance_power("Error: no design\n", "a.txt"), Catch::Contains("a.txt: no instance rows"));
  CHECK(sta_total_power("Total                2.5e-03 3.3e-04 7.0e-08 2.8e-03 100.0%\n", "v.txt") == Approx(2.8e-3));
}

TEST_CASE("join: energy = P0 T cycles + (P1 - P0) T transitions per cell, over the MACs", "[power]") {
  namespace fs = std::filesystem;
  const fs::path d = fs::temp_directory_path() / "logq_test_power_join";
  fs::create_directories(d);
  const auto put = [&](const char* f, const std::string& s) { std::ofstream(d / f) << s; };
  put("flow.txt", "period_ns 10\n");
  put("outputs.txt", "INVX1 Y\nDFFPOSX1 Q\n");
  put("net.v", "  INVX1 _1_ (\n    .A(a),\n    .Y(n)\n  );\n  DFFPOSX1 _2_ (\n    .CLK(clk),\n    .D(n),\n    .Q(q)\n  );\n");
  // 4 cycles: n toggles 3 times, q twice.
  put("sim.vcd", "$scope module TOP $end\n$scope module top $end\n$var wire 1 ! n $end\n$var wire 1 \" q $end\n$upscope $end\n$upscope $end\n"
                 "$enddefinitions $end\n#0\n0!\n0\"\n#1\n1!\n#2\n0!\n1\"\n#3\n1!\n0\"\n");
  put("sta_a0.txt", " 0 0 1e-9 1e-9 _1_\n 3e-5 0 2e-9 3.0002e-5 _2_\n");
  put("sta_a1.txt", " 1e-5 5e-6 1e-9 1.5001e-5 _1_\n 9e-5 1e-5 2e-9 1.00002e-4 _2_\n");
  put("sta_vectorless.txt", "Total 0 0 0 5e-5 100%\n");
  const PowerResult r = join_power(d.string(), 4, 2);
  const double t = 10e-9;
  const double e = (1e-9 * t * 4 + (1.5001e-5 - 1e-9) * t * 3) + (3.0002e-5 * t * 4 + (1.00002e-4 - 3.0002e-5) * t * 2);
  CHECK(r.pj_per_mac == Approx(e * 1e12 / 2));
  CHECK(r.idle_pj_per_cycle == Approx((1e-9 + 3.0002e-5) * t * 1e12));
  CHECK(r.leakage_pj_per_cycle == Approx(3e-9 * t * 1e12));
  CHECK(r.vectorless_pj_per_mac == Approx(5e-5 * t * 4 * 1e12 / 2));
  CHECK(r.mean_toggle_rate == Approx((3.0 + 2.0) / 2 / 4));
  put("sim.vcd", "$scope module TOP $end\n$scope module top $end\n$var wire 1 ! n $end\n$upscope $end\n$upscope $end\n$enddefinitions $end\n#0\n0!\n");
  CHECK_THROWS_WITH(join_power(d.string(), 4, 2), Catch::Contains("net q (cell _2_) is not in the simulation dump"));
  fs::remove_all(d);
}
