#include "sim/hw_config.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "io/error.h"
#include "io/json_input.h"

namespace logq::sim {

using json = nlohmann::json;

namespace {

// Horowitz, "Computing's energy problem", ISSCC 2014 (45 nm): 8-bit multiply 0.2 pJ + 32-bit add
// 0.1 pJ = 0.3 pJ for the INT8 MAC; the other kinds scale it by their synthesized area relative to
// the INT8 PE (docs/results.md, `logq area`, OSU 0.18 um), switched capacitance ~ cell area.
const std::map<std::string, double>& default_mac_pj() {
  static const std::map<std::string, double> m = {
      {"int8", 0.300}, {"uu4", 0.176}, {"uu6", 0.228}, {"lu", 0.199}, {"lu_exact", 0.262},
      {"ua", 0.297},   {"la", 0.268},  {"lula", 0.294}, {"universal", 0.650},
  };
  return m;
}

// DRAM: 1.3–2.6 nJ per 64-bit access (Horowitz 2014); the midpoint, per byte.
constexpr double kDramPjPerByte = 1950.0 / 8.0;

void check_keys(const json& j, const std::set<std::string>& allowed, const std::string& where) {
  if (!j.is_object()) throw Error(fmt::format("{}: expected a JSON object", where));
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!allowed.count(it.key())) {
      std::string names;
      for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
      throw Error(fmt::format("{}: unknown key '{}' (known: {})", where, it.key(), names));
    }
}

// A physical quantity: finite, > 0 and at most `hi` (units in the key's name). Values outside
// any real accelerator are refused rather than carried into cycle counts where they would wrap.
double positive(const json& j, const std::string& key, const std::string& where, double hi = 1e6) {
  if (!j.is_number()) throw Error(fmt::format("{}.{}: expected a number", where, key));
  const double v = j.get<double>();
  if (!(v > 0) || !std::isfinite(v)) throw Error(fmt::format("{}.{}: must be > 0 (got {})", where, key, v));
  if (v > hi) throw Error(fmt::format("{}.{}: {} is beyond any real accelerator (at most {})", where, key, v, hi));
  return v;
}

// Lowest DRAM bytes per cycle and most latency cycles the cycle model takes: beyond these a
// transfer's cycle count leaves the range SystemC's time and uint64 cycles represent exactly.
constexpr double kMinDramBytesPerCycle = 1e-4, kMaxDramLatencyCycles = 1e9;

int whole(const json& j, const std::string& key, const std::string& where, int lo, int hi) {
  if (!j.is_number_integer()) throw Error(fmt::format("{}.{}: expected a whole number", where, key));
  const int64_t v = j.get<int64_t>();
  if (v < lo || v > hi) throw Error(fmt::format("{}.{}: must be {}..{} (got {})", where, key, lo, hi, v));
  return static_cast<int>(v);
}

int64_t kib(const json& j, const std::string& key, const std::string& where) {
  return static_cast<int64_t>(std::llround(positive(j, key, where, 1024.0 * 1024.0) * 1024.0));  // <= 1 GiB
}

void fill_energy(AccelConfig& h) {
  h.energy.mac_pj_by_kind = default_mac_pj();
  const PeSpec& k = pe_spec(h.pe);
  h.energy.mac_pj = default_mac_pj().at(k.parts.empty() ? h.pe : k.parts[0]);
  h.energy.dram_pj_per_byte = kDramPjPerByte;
  h.energy.source = "Horowitz ISSCC 2014 45 nm (INT8 MAC 0.3 pJ, SRAM 10/20/100 pJ per 64 b at 8 KB/32 KB/1 MB, DRAM 1.95 nJ per 64 b); "
                    "log PEs scaled by synthesized area vs INT8";
}

}  // namespace

double EnergyTable::sram_pj_per_byte(int64_t bytes, bool write) const {
  const auto& fixed = write ? sram_write_pj_per_byte : sram_read_pj_per_byte;
  if (fixed) return *fixed;
  // 64-bit access: 10 pJ at 8 KB, 20 pJ at 32 KB, 100 pJ at 1 MB; power law between the points.
  const double kb = std::max(1.0, double(bytes) / 1024.0);
  const double e64 = kb <= 32 ? 10.0 * std::pow(kb / 8.0, 0.5) : 20.0 * std::pow(kb / 32.0, std::log(5.0) / std::log(32.0));
  return e64 / 8.0;
}

double AccelConfig::clock() const {
  if (!clock_mhz) throw Error("the hardware config has no clock_mhz (logq sim takes it from `logq area` when unset)");
  return *clock_mhz;
}

int64_t AccelConfig::act_bank_words(int bits) const {
  return act_sram_bytes * 8 / bits / rows / (double_buffer ? 2 : 1);
}
int64_t AccelConfig::weight_bank_words(int bits) const {
  return weight_sram_bytes * 8 / bits / cols / (double_buffer ? 2 : 1);
}
int64_t AccelConfig::out_words() const { return out_sram_bytes * 8 / out_bits / (double_buffer ? 2 : 1); }

double AccelConfig::dram_bytes_per_cycle() const {
  const double b = dram_gbps * 1e9 / (clock() * 1e6);
  if (!(b >= kMinDramBytesPerCycle))
    throw Error(fmt::format("{}: {} GB/s at {} MHz is {:.3g} bytes per cycle, below the {} the cycle model takes", path.empty() ? "hardware config" : path,
                            dram_gbps, clock(), b, kMinDramBytesPerCycle));
  return b;
}
uint64_t AccelConfig::dram_latency_cycles() const {
  const double c = std::ceil(dram_latency_ns * clock() / 1000.0 - 1e-9);
  if (!(c >= 0 && c <= kMaxDramLatencyCycles))
    throw Error(fmt::format("{}: {} ns at {} MHz is {:.3g} cycles of DRAM latency, more than the {:.0g} the cycle model takes",
                            path.empty() ? "hardware config" : path, dram_latency_ns, clock(), c, kMaxDramLatencyCycles));
  return static_cast<uint64_t>(c);
}

AccelConfig default_accel() {
  AccelConfig h;
  fill_energy(h);
  return h;
}

AccelConfig parse_accel(const json& j, const std::string& where) {
  AccelConfig h;
  h.path = where;
  check_keys(j, {"description", "array", "clock_mhz", "sram", "dram", "words", "energy_pj"}, where);
  if (j.contains("array")) {
    const json& a = j["array"];
    const std::string w = where + ".array";
    check_keys(a, {"rows", "cols", "pe"}, w);
    if (a.contains("rows")) h.rows = whole(a["rows"], "rows", w, 1, 256);
    if (a.contains("cols")) h.cols = whole(a["cols"], "cols", w, 1, 256);
    if (a.contains("pe")) {
      if (!a["pe"].is_string()) throw Error(fmt::format("{}.pe: expected a string ({})", w, pe_spec_names()));
      h.pe = a["pe"].get<std::string>();
      try {
        pe_spec(h.pe);
      } catch (const Error& e) {
        throw Error(fmt::format("{}.pe: {}", w, e.what()));
      }
    }
  }
  if (j.contains("clock_mhz")) h.clock_mhz = positive(j["clock_mhz"], "clock_mhz", where, 1e5);
  if (j.contains("sram")) {
    const json& s = j["sram"];
    const std::string w = where + ".sram";
    check_keys(s, {"act_kib", "weight_kib", "out_kib", "double_buffer"}, w);
    if (s.contains("act_kib")) h.act_sram_bytes = kib(s["act_kib"], "act_kib", w);
    if (s.contains("weight_kib")) h.weight_sram_bytes = kib(s["weight_kib"], "weight_kib", w);
    if (s.contains("out_kib")) h.out_sram_bytes = kib(s["out_kib"], "out_kib", w);
    if (s.contains("double_buffer")) {
      if (!s["double_buffer"].is_boolean()) throw Error(fmt::format("{}.double_buffer: expected true or false", w));
      h.double_buffer = s["double_buffer"].get<bool>();
    }
  }
  if (j.contains("dram")) {
    const json& d = j["dram"];
    const std::string w = where + ".dram";
    check_keys(d, {"bandwidth_gbps", "latency_ns"}, w);
    if (d.contains("bandwidth_gbps")) h.dram_gbps = positive(d["bandwidth_gbps"], "bandwidth_gbps", w, 1e5);
    if (d.contains("latency_ns")) {
      if (!d["latency_ns"].is_number() || !(d["latency_ns"].get<double>() >= 0) || d["latency_ns"].get<double>() > 1e7)
        throw Error(fmt::format("{}.latency_ns: expected a number in [0, 1e7] ns", w));
      h.dram_latency_ns = d["latency_ns"].get<double>();
    }
  }
  if (j.contains("words")) {
    const json& b = j["words"];
    const std::string w = where + ".words";
    check_keys(b, {"act_bits", "weight_bits", "out_bits"}, w);
    if (b.contains("act_bits")) h.act_bits = whole(b["act_bits"], "act_bits", w, 1, 32);
    if (b.contains("weight_bits")) h.weight_bits = whole(b["weight_bits"], "weight_bits", w, 1, 32);
    if (b.contains("out_bits")) h.out_bits = whole(b["out_bits"], "out_bits", w, 1, 64);
  }
  fill_energy(h);
  if (j.contains("energy_pj")) {
    const json& e = j["energy_pj"];
    const std::string w = where + ".energy_pj";
    check_keys(e, {"mac", "sram_read_per_byte", "sram_write_per_byte", "dram_per_byte"}, w);
    if (e.contains("mac")) {
      check_keys(e["mac"], [] { std::set<std::string> s; for (const auto& k : pe_specs()) if (!k.composite()) s.insert(k.name); return s; }(), w + ".mac");
      for (auto it = e["mac"].begin(); it != e["mac"].end(); ++it) h.energy.mac_pj_by_kind[it.key()] = positive(it.value(), it.key(), w + ".mac");
      const PeSpec& k = pe_spec(h.pe);
      h.energy.mac_pj = h.energy.mac_pj_by_kind.at(k.parts.empty() ? h.pe : k.parts[0]);
    }
    if (e.contains("sram_read_per_byte")) h.energy.sram_read_pj_per_byte = positive(e["sram_read_per_byte"], "sram_read_per_byte", w);
    if (e.contains("sram_write_per_byte")) h.energy.sram_write_pj_per_byte = positive(e["sram_write_per_byte"], "sram_write_per_byte", w);
    if (e.contains("dram_per_byte")) h.energy.dram_pj_per_byte = positive(e["dram_per_byte"], "dram_per_byte", w);
    h.energy.source += " (with overrides from " + where + ")";
  }
  return h;
}

AccelConfig load_accel(const std::string& path) { return parse_accel(load_accel_json(path), path); }

json load_accel_json(const std::string& path) {
  try {
    return read_json_file(path, "hardware config");
  } catch (const Error& e) {
    const std::string m = e.what();
    throw Error(m.rfind(path, 0) == 0 ? m : fmt::format("{}: {}", path, m));
  }
}

json to_json(const AccelConfig& h) {
  json j = {{"array", {{"rows", h.rows}, {"cols", h.cols}, {"pe", h.pe}}},
            {"sram", {{"act_kib", h.act_sram_bytes / 1024.0}, {"weight_kib", h.weight_sram_bytes / 1024.0},
                      {"out_kib", h.out_sram_bytes / 1024.0}, {"double_buffer", h.double_buffer}}},
            {"dram", {{"bandwidth_gbps", h.dram_gbps}, {"latency_ns", h.dram_latency_ns}}},
            {"words", {{"out_bits", h.out_bits}}},
            {"energy_pj", {{"mac", h.energy.mac_pj_by_kind}, {"dram_per_byte", h.energy.dram_pj_per_byte}}}};
  if (h.clock_mhz) j["clock_mhz"] = *h.clock_mhz;
  if (h.act_bits) j["words"]["act_bits"] = *h.act_bits;
  if (h.weight_bits) j["words"]["weight_bits"] = *h.weight_bits;
  return j;
}

}  // namespace logq::sim
