// `logq hw`: prints the PE table (golden/hw.h) and writes or checks the RTL files generated from it
// (rtl/logq_pkg.sv, rtl/logq_units.tsv). The CTest hw_generated runs `logq hw --check rtl`.
#include "cli/hw_cmd.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "io/error.h"
#include "io/file_io.h"
#include "golden/hw.h"

namespace logq::cli {

namespace {

struct Options {
  std::string write_dir, check_dir, json_out;
};

struct Generated {
  const char* name;
  std::string (*text)();
};
const Generated kGenerated[] = {{"logq_pkg.sv", rtl_package_sv}, {"logq_units.tsv", rtl_units_tsv}};

void print_table() {
  fmt::print("{:<12} {:<18} {:>5} {:>5}  {:<18} {:<30} {}\n", "PE", "datapath", "max W", "max A", "mantissa", "RTL", "description");
  for (const PeSpec& k : pe_specs()) {
    const std::string dp = k.composite() ? fmt::format("{}", fmt::join(k.parts, " + ")) : pe_kind_rtl_name(*k.kind);
    const int f = k.mant_frac_bits();
    const std::string mant = k.runs(Pairing::LxU) || k.runs(Pairing::LxA) ? fmt::format("f={} K_ODD={}", f, odd_mantissa(f)) : "-";
    fmt::print("{:<12} {:<18} {:>5} {:>5}  {:<18} {:<30} {}\n", k.name, dp, k.max_w_bits(), k.max_a_bits(), mant,
               k.composite() ? "-" : fmt::format("{} ACC_W={}", k.top, k.rtl.acc_w), k.description);
  }
  fmt::print("\ncycles of an MxNxK job on an RxC array: tiles*(K + R + C - 1) + R, tiles = ceil(M/R)*ceil(N/C)\n");
}

nlohmann::json table_json() {
  nlohmann::json pes = nlohmann::json::array();
  for (const PeSpec& k : pe_specs()) {
    nlohmann::json j = {{"name", k.name}, {"max_w_bits", k.max_w_bits()}, {"max_a_bits", k.max_a_bits()}, {"description", k.description}};
    if (k.composite()) j["parts"] = k.parts;
    else {
      j["kind"] = pe_kind_rtl_name(*k.kind);
      j["top"] = k.top;
      j["params"] = rtl_params_string(k.rtl, k.top);
      j["area_unit"] = k.area_unit();
    }
    j["pairings"] = nlohmann::json::array();
    for (Pairing p : {Pairing::UxU, Pairing::UxA, Pairing::LxU, Pairing::LxA})
      if (k.runs(p)) j["pairings"].push_back(pairing_name(p));
    pes.push_back(j);
  }
  return {{"pe_kinds", pes}};
}

int check(const std::string& dir) {
  int stale = 0;
  for (const Generated& g : kGenerated) {
    const std::string path = dir + "/" + g.name;
    std::string have;
    try {
      have = read_text_file(path);
    } catch (const Error& e) {
      fmt::print(stderr, "{}: cannot read ({})\n", path, e.what());
      ++stale;
      continue;
    }
    if (have != g.text()) {
      fmt::print(stderr, "{}: differs from the table in golden/hw.cpp (regenerate: logq hw --write-rtl {})\n", path, dir);
      ++stale;
    } else {
      fmt::print("{}: up to date\n", path);
    }
  }
  return stale;
}

}  // namespace

void add_hw(CLI::App& app) {
  static Options o;
  auto* c = app.add_subcommand("hw", "The hardware table (PE kinds, RTL parameters, word layouts, cycle formula) and the RTL files generated from it");
  c->add_option("--write-rtl", o.write_dir, "write logq_pkg.sv and logq_units.tsv into DIR (the project's rtl/)")->type_name("DIR");
  c->add_option("--check", o.check_dir, "exit 1 when DIR's logq_pkg.sv / logq_units.tsv differ from the table")->type_name("DIR");
  c->add_option("--json", o.json_out, "write the PE table as JSON to FILE (- for stdout)")->type_name("FILE");
  c->callback([] {
    if (!o.write_dir.empty()) {
      for (const Generated& g : kGenerated) {
        const std::string text = g.text();
        write_file_atomic(o.write_dir + "/" + g.name, text.data(), text.size());
        fmt::print("wrote {}/{}\n", o.write_dir, g.name);
      }
      return;
    }
    if (!o.check_dir.empty()) {
      if (const int n = check(o.check_dir)) throw Error(fmt::format("logq hw --check: {} generated file(s) out of date", n));
      return;
    }
    if (!o.json_out.empty()) {
      write_text(o.json_out, table_json().dump(2) + "\n");
      return;
    }
    print_table();
  });
}

}  // namespace logq::cli
