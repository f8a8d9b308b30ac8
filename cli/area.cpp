// `logq area`: area (Yosys + OSU 0.18 um liberty) and timing (OpenSTA) of the PE kinds, decoders
// and arrays, via scripts/area.sh, with results cached per unit by a hash of the RTL, the flow and the unit.
#include "cli/area.h"
#include "cli/common.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "io/error.h"
#include "golden/hw.h"
#include "io/file_io.h"

namespace logq::cli {

namespace {

namespace fs = std::filesystem;

struct Options {
  std::vector<std::string> units = [] {  // every synthesizable unit of golden/hw.cpp's table
    std::vector<std::string> u;
    for (const RtlUnit& r : rtl_units())
      if (r.use == "area") u.push_back(r.name);
    return u;
  }();
  std::vector<std::string> arrays = {"int8:16:16", "lu:16:16"};
  std::string csv;
  bool no_cache = false;
};

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

}  // namespace

std::vector<AreaRow> area_results(const std::vector<std::string>& units, bool no_cache, std::string* csv_text) {
  const fs::path root = project_root();
  if (!fs::exists(root / "scripts/area.sh")) throw Error(fmt::format("{}: scripts/area.sh not found (set LOGQ_ROOT)", root.string()));
  // One cache file per unit, keyed by every RTL source, the flow scripts and the unit: a study that
  // adds one unit synthesizes that one only.
  const uint64_t base = rtl_hash(fnv1a(read_text(root / "scripts/area.sh")));
  const fs::path cache_dir = logq::cli::cache_dir("area");
  const auto cached = [&](const std::string& u) { return cache_dir / fmt::format("{:016x}.csv", fnv1a("unit " + u, base)); };
  std::vector<std::string> missing;
  for (const auto& u : units)
    if ((no_cache || !fs::exists(cached(u))) && std::find(missing.begin(), missing.end(), u) == missing.end()) missing.push_back(u);
  if (!missing.empty()) {
    fs::create_directories(cache_dir);
    // A fresh temp file (O_EXCL, never a planted name) that area.sh fills; its rows become the cache files.
    std::string tmp = (cache_dir / "run.csv.tmp.XXXXXX").string();
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0) throw Error(fmt::format("{}: cannot create a temp file: {}", cache_dir.string(), std::strerror(errno)));
    ::close(fd);
    std::string cmd = fmt::format("bash '{}' '{}'", (root / "scripts/area.sh").string(), tmp);
    for (const auto& u : missing) cmd += " '" + u + "'";
    fmt::print(stderr, "logq area: synthesizing {} unit(s) (a 16x16 array takes about 20 s; results are cached per unit)\n", missing.size());
    if (std::system(cmd.c_str()) != 0) {
      fs::remove(tmp);
      throw Error("scripts/area.sh failed (is Yosys/OpenSTA installed? run scripts/setup.sh)");
    }
    std::istringstream in(read_text(tmp));
    fs::remove(tmp);
    std::string header, line;
    std::getline(in, header);
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const std::string unit = line.substr(0, line.find(','));
      const std::string text = header + "\n" + line + "\n";
      write_file_atomic(cached(unit).string(), text.data(), text.size());
    }
  } else {
    fmt::print(stderr, "logq area: cached results in {}\n", cache_dir.string());
  }
  std::string text = "unit,description,cells,area_um2,nand2_eq,crit_path_ns,fmax_mhz\n";
  for (const auto& u : units) {
    if (!fs::exists(cached(u))) throw Error(fmt::format("scripts/area.sh wrote no row for unit '{}'", u));
    const std::string one = read_text(cached(u));
    text += one.substr(one.find('\n') + 1);
  }
  if (csv_text) *csv_text = text;
  return parse_area_csv(text, cache_dir.string());
}

std::vector<AreaRow> parse_area_csv(const std::string& text, const std::string& where) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // header
  std::vector<AreaRow> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto f = split_csv(line);
    try {
      if (f.size() < 7) throw std::invalid_argument(line);
      AreaRow r{f[0], f[1], std::stoll(f[2]), std::stod(f[3]), std::stod(f[4]), std::stod(f[5]), f[6].empty() ? 0.0 : std::stod(f[6])};
      rows.push_back(r);
    } catch (const std::exception&) {
      throw Error(fmt::format("{}: malformed row '{}' (a cache file: delete it)", where, line.substr(0, 200)));
    }
  }
  return rows;
}

namespace {

void run(const Options& o) {
  std::vector<std::string> units = o.units;
  for (const auto& a : o.arrays) units.push_back("array:" + a);
  std::string text;
  const std::vector<AreaRow> res = area_results(units, o.no_cache, &text);
  if (!o.csv.empty()) write_file_atomic(o.csv, text.data(), text.size());
  std::map<std::string, double> area;
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : res) {
    area[r.unit] = r.area_um2;
    rows.push_back({r.unit, r.description, std::to_string(r.cells), fmt::format("{}", r.area_um2), fmt::format("{}", r.nand2_eq),
                    fmt::format("{}", r.crit_ns), r.fmax_mhz > 0 ? fmt::format("{}", r.fmax_mhz) : ""});
  }
  const std::string int8 = pe_spec("int8").area_unit();
  const double base = area.count(int8) ? area[int8] : 0, acc = area.count("acc32") ? area["acc32"] : 0;
  fmt::print("{:<16} {:>7} {:>12} {:>9} {:>8} {:>10} {:>8} {:>8}  {}\n", "unit", "cells", "area um^2", "NAND2-eq", "vs INT8",
             "datapath", "crit ns", "fmax MHz", "description");
  for (const auto& r : rows) {
    const double a = std::stod(r[3]);
    const bool pe32 = r[0].rfind("pe_", 0) == 0 && r[1].find("32-bit acc") != std::string::npos;
    const std::string ratio = base > 0 && (pe32 || r[0].rfind("array:", 0) == 0) ? fmt::format("{:.3f}", a / base) : "";
    const std::string dp = base > acc && acc > 0 && pe32 ? fmt::format("{:.3f}", (a - acc) / (base - acc)) : "";
    fmt::print("{:<16} {:>7} {:>12.0f} {:>9} {:>8} {:>10} {:>8} {:>8}  {}\n", r[0], r[2], a, r[4], ratio, dp, r[5], r[6], r[1]);
  }
  fmt::print("\nvs INT8: area / INT8 x INT8 MAC PE. datapath: the same without the shared 32-bit accumulator\n"
             "(area - acc32). Arrays compare to one INT8 PE; divide by R*C for per-PE. OSU 0.18 um, 10 ns clock.\n");
}

}  // namespace

void add_area(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("area",
                                 "Area and timing of the MAC/dequant units, PE kinds and arrays: Yosys synthesis to the\n"
                                 "OSU 0.18 um liberty (cells, um^2, NAND2 equivalents) and OpenSTA critical path / fmax.\n"
                                 "Prints a table with ratios against the INT8 x INT8 MAC baseline; --csv writes the rows.");
  // The unit and array names come from the hardware table (golden/hw.cpp rtl_units()).
  std::string units, arrays;
  for (const RtlUnit& u : rtl_units()) {
    if (u.use == "area") units += (units.empty() ? "" : " ") + u.name;
    if (u.use == "array") arrays += (arrays.empty() ? "" : ", ") + u.name.substr(std::string("array_").size());
  }
  cmd->add_option("--units", o->units, fmt::format("units to synthesize ({})", units))->delimiter(',');
  cmd->add_option("--arrays", o->arrays, fmt::format("arrays as KIND:R:C, KIND one of {} (e.g. lu:16:16); '' for none", arrays))->delimiter(',');
  cmd->add_option("--csv", o->csv, "also write the results as CSV to this file");
  cmd->add_flag("--no-cache", o->no_cache, "re-run synthesis even if cached results exist");
  cmd->callback([o] {
    Options opts = *o;
    opts.arrays.erase(std::remove(opts.arrays.begin(), opts.arrays.end(), std::string()), opts.arrays.end());
    run(opts);
  });
}

std::vector<const PeSpec*> parts_of(const PeSpec& kind) {
  if (kind.parts.empty()) return {&kind};
  std::vector<const PeSpec*> v;
  for (const auto& n : kind.parts) v.push_back(&pe_spec(n));
  return v;
}

bool rtl_array_fits(int rows, int cols) {
  return rows >= kMinArraySide && cols >= kMinArraySide && rows <= kMaxArraySide && cols <= kMaxArraySide;
}

std::vector<std::string> clock_units(const PeSpec& kind, int rows, int cols) {
  const bool array = rtl_array_fits(rows, cols);
  std::vector<std::string> units;
  for (const PeSpec* part : parts_of(kind))
    units.push_back(array ? fmt::format("array:{}:{}:{}", part->name, rows, cols) : part->area_unit());
  return units;
}

double clock_mhz(const PeSpec& kind, int rows, int cols, const std::map<std::string, AreaRow>& area) {
  double f = 0;
  for (const auto& u : clock_units(kind, rows, cols)) {
    const auto it = area.find(u);
    if (it == area.end()) throw Error(fmt::format("area results lack unit '{}'", u));
    if (it->second.fmax_mhz <= 0) throw Error(fmt::format("logq area gave no fmax for {}; set clock_mhz in the hardware config", u));
    f = f > 0 ? std::min(f, it->second.fmax_mhz) : it->second.fmax_mhz;
  }
  return f;
}

}  // namespace logq::cli
