// golden/hw: the one table of the hardware, and the RTL files generated from it.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "golden/hw.h"

using namespace logq;

TEST_CASE("hw: pairing names, PE datapaths and the pairings they run", "[hw]") {
  CHECK(std::string(pairing_name(Pairing::LxA)) == "LxA");
  CHECK(pe_kind_runs(PeKind::LxU, Pairing::LxU));
  CHECK_FALSE(pe_kind_runs(PeKind::LxU, Pairing::LxA));
  for (Pairing p : {Pairing::UxU, Pairing::UxA, Pairing::LxU, Pairing::LxA}) CHECK(pe_kind_runs(PeKind::Universal, p));
  CHECK(std::string(pe_kind_rtl_name(PeKind::Universal)) == "PE_UNIVERSAL");
  // The dual PE of fully-log transformers: both LogART-weight pairings, nothing else.
  CHECK(pe_kind_runs(PeKind::LxUA, Pairing::LxU));
  CHECK(pe_kind_runs(PeKind::LxUA, Pairing::LxA));
  CHECK_FALSE(pe_kind_runs(PeKind::LxUA, Pairing::UxU));
  CHECK_FALSE(pe_kind_runs(PeKind::LxUA, Pairing::UxA));
  CHECK(std::string(pe_kind_rtl_name(PeKind::LxUA)) == "PE_LULA");
}

TEST_CASE("hw: operand limits follow from each PE's RTL widths", "[hw]") {
  const PeSpec& ua = pe_spec("ua");  // DW 5, MW 5: U(4) weights, A(4) codes
  CHECK(ua.takes(Pairing::UxA, 4, 4));
  CHECK_FALSE(ua.takes(Pairing::UxA, 5, 4));
  CHECK_FALSE(ua.takes(Pairing::UxA, 4, 5));
  const PeSpec& u = pe_spec("universal");  // U 8 bits, L n <= 5, A b <= 6
  CHECK(u.takes(Pairing::UxU, 8, 8));
  CHECK(u.takes(Pairing::LxA, 5, 6));
  CHECK_FALSE(u.takes(Pairing::LxU, 6, 8));
  CHECK_FALSE(u.takes(Pairing::UxA, 8, 7));
  CHECK(u.max_w_bits() == 8);
  CHECK(pe_spec("lu").max_a_bits() == 8);
  CHECK(pe_spec("lu_exact").mant_frac_bits() == 6);
  CHECK(pe_spec("lu+la").mant_frac_bits() == 1);
  CHECK(pe_spec("int8").area_unit() == "pe_int8");
  CHECK(pe_spec("lu+la").area_unit().empty());
  const PeSpec& dual = pe_spec("lula");  // lu's U(8) activations, la's A(4) codes
  CHECK(dual.takes(Pairing::LxU, 4, 8));
  CHECK(dual.takes(Pairing::LxA, 4, 4));
  CHECK_FALSE(dual.takes(Pairing::LxA, 4, 5));
  CHECK_FALSE(dual.takes(Pairing::LxU, 5, 8));
  CHECK(dual.area_unit() == "pe_lula");
  const PeSpec& full = pe_spec("lula+uu4+ua");
  for (Pairing p : {Pairing::UxU, Pairing::UxA, Pairing::LxU, Pairing::LxA}) CHECK(full.runs(p));
  CHECK(&full.part_for(Pairing::LxA, 4, 4) == &dual);
  CHECK(&full.part_for(Pairing::UxA, 4, 4) == &pe_spec("ua"));
  CHECK_THROWS_WITH(pe_spec("nope"), Catch::Contains("known: int8"));
}

TEST_CASE("hw: the odd mantissa, the word layouts and the cycle formula", "[hw]") {
  CHECK(odd_mantissa(1) == 3);   // 1 + 1/2
  CHECK(odd_mantissa(6) == 91);  // round(sqrt2 * 64)
  CHECK(odd_mantissa(0) == 1);
  CHECK(rtl_logw_word({0, 0, 0}, 5) == (1 << 7));
  CHECK(rtl_logw_word({-1, 1, 3}, 5) == ((1 << 6) | (3 << 1) | 1));
  CHECK(rtl_logw_word({1, 0, 15}, 4) == (15 << 1));
  CHECK_THROWS(rtl_logw_word({1, 0, 16}, 4));
  CHECK(stored_x_bits(Pairing::UxA, 4) == 5);
  CHECK(stored_w_bits(Pairing::LxU, 4) == 5);
  CHECK(stored_w_bits(Pairing::UxU, 8) == 8);
  CHECK(array_cycles(4, 4, 4, 4, 1) == 1 * (1 + 7) + 4);
  CHECK(array_cycles(16, 16, 197, 576, 192) == 13 * 36 * (192 + 31) + 16);
  // K-splitting: K = 250 in chunks of 100 is three jobs of K 100, 100 and 50.
  CHECK(k_chunk_count(250, 100) == 3);
  CHECK(k_chunk_count(200, 100) == 2);
  CHECK(k_chunk_len(250, 100, 2) == 50);
  CHECK(array_cycles_k_split(4, 4, 9, 5, 250, 100) == 2 * (6 * (100 + 7) + 4) + 6 * (50 + 7) + 4);
  CHECK(array_cycles_k_split(4, 4, 9, 5, 250, 250) == array_cycles(4, 4, 9, 5, 250));
  CHECK_THROWS(k_chunk_count(10, 0));
}

TEST_CASE("hw: the checked-in rtl/logq_pkg.sv and rtl/logq_units.tsv are the generated ones", "[hw]") {
  for (const auto& [name, text] : {std::pair{"logq_pkg.sv", rtl_package_sv()}, {"logq_units.tsv", rtl_units_tsv()}}) {
    std::ifstream in(std::string(LOGQ_SOURCE_DIR) + "/rtl/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    INFO(name << " is stale: run logq hw --write-rtl rtl");
    CHECK(ss.str() == text);
  }
  CHECK(rtl_package_sv().find("PE_LA = 3,") != std::string::npos);
  CHECK(rtl_package_sv().find("6: odd_mantissa = 91;") != std::string::npos);
  CHECK(rtl_units_tsv().find("pe_lu_exact\tarea\tlogq_pe_lu\tDA=9 KW=4 MANT_F=6 ACC_W=32\t") != std::string::npos);
}
