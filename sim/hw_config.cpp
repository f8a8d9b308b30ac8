#include "sim/hw_config.h"

#include <cmath>
#include <functional>
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "io/error.h"
#include "io/json_input.h"

namespace logq::sim {

using json = nlohmann::json;

extern const char* const kPowerCsv;  // results/power.csv, compiled in (generated power_table.cpp)

namespace {

// The "horowitz45" model (the one before `logq power`): Horowitz, "Computing's energy problem",
// ISSCC 2014 (45 nm): 8-bit multiply 0.2 pJ + 32-bit add 0.1 pJ = 0.3 pJ for the INT8 MAC; the other
// kinds scale it by their synthesized area relative to the INT8 PE (switched capacitance ~ area).
const std::map<std::string, double>& horowitz_mac_pj() {
  static const std::map<std::string, double> m = {
      {"int8", 0.300}, {"uu4", 0.176}, {"uu6", 0.228}, {"lu", 0.199}, {"lu_exact", 0.262},
      {"ua", 0.297},   {"la", 0.268},  {"lula", 0.294}, {"universal", 0.650},
  };
  return m;
}

// SRAM in the activity model: Horowitz's 45 nm figures scaled to 0.18 um by C·V² (classical
// scaling: capacitance with feature size, 180/45 = 4; supply 1.8 V vs 0.9 V, squared 4): x16.
constexpr double kSramScaleTo180nm = 16.0;

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

void fill_energy(AccelConfig& h, const std::string& model) {
  EnergyTable& e = h.energy;
  e.model = model;
  e.dram_pj_per_byte = kDramPjPerByte;
  if (model == "horowitz45") {
    e.sram_scale = 1.0;
    e.source = "horowitz45: Horowitz ISSCC 2014 45 nm (INT8 MAC 0.3 pJ, SRAM 10/20/100 pJ per 64 b at 8 KB/32 KB/1 MB, DRAM 1.95 nJ per 64 b); "
               "log PEs scaled by synthesized area vs INT8";
  } else if (model == "activity") {
    e.sram_scale = kSramScaleTo180nm;
    e.source = "activity: PE energy per MAC and idle energy per PE-cycle from logq power (results/power.csv: OSU 0.18 um liberty, OpenSTA, "
               "gate-level activity of the embedded models' layers); SRAM Horowitz 45 nm x16 (C*V^2 to 0.18 um, 1.8 V); DRAM 1.95 nJ per 64 b";
  } else {
    throw Error(fmt::format("energy model '{}': expected activity or horowitz45", model));
  }
}

void fill_energy(AccelConfig& h) { fill_energy(h, "activity"); }

std::vector<MacEnergy> parse_power_csv(const std::string& text) {
  const std::string where = "results/power.csv (compiled in)";
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  if (line.rfind("model,pe,pairing,macs,cycles,cells,pj_per_mac,idle_pj_per_cycle,", 0) != 0 || line.find(",family") == std::string::npos)
    throw Error(fmt::format("{}: unexpected header '{}'", where, line.substr(0, 120)));
  std::vector<MacEnergy> out;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> c;
    std::istringstream l(line);
    std::string cell;
    while (std::getline(l, cell, ',')) c.push_back(cell);
    if (c.size() < 15) throw Error(fmt::format("{}: a row of {} columns: '{}'", where, c.size(), line.substr(0, 120)));
    MacEnergy m;
    m.kind = c[1];
    m.family = c.back();
    constexpr Pairing kAll[] = {Pairing::UxU, Pairing::UxA, Pairing::LxU, Pairing::LxA};
    const auto p = std::find_if(std::begin(kAll), std::end(kAll), [&](Pairing q) { return c[2] == pairing_name(q); });
    if (p == std::end(kAll) || (m.family != "cnn" && m.family != "transformer"))
      throw Error(fmt::format("{}: bad pairing or family in '{}'", where, line.substr(0, 120)));
    m.pairing = *p;
    pe_spec(m.kind);  // a known single kind
    const double total = std::stod(c[6]);
    m.idle_pj = std::stod(c[7]);
    m.mac_pj = total - m.idle_pj;
    if (!(m.mac_pj > 0) || !(m.idle_pj >= 0)) throw Error(fmt::format("{}: impossible energies in '{}'", where, line.substr(0, 120)));
    out.push_back(m);
  }
  return out;
}

}  // namespace

const std::vector<MacEnergy>& measured_mac_energies() {
  static const std::vector<MacEnergy> m = parse_power_csv(kPowerCsv);
  return m;
}

double EnergyTable::mac_pj(const std::string& kind, std::optional<Pairing> pairing, const std::string& family) const {
  if (const auto it = mac_override.find(kind); it != mac_override.end()) return it->second;
  if (model == "horowitz45") return horowitz_mac_pj().at(kind);
  const auto mean = [&](const std::function<bool(const MacEnergy&)>& pick) {
    double sum = 0;
    int n = 0;
    for (const MacEnergy& m : measured_mac_energies())
      if (m.kind == kind && pick(m)) sum += m.mac_pj, ++n;
    return n ? std::optional<double>(sum / n) : std::nullopt;
  };
  if (pairing) {
    if (auto v = mean([&](const MacEnergy& m) { return m.pairing == *pairing && m.family == family; })) return *v;
    if (auto v = mean([&](const MacEnergy& m) { return m.pairing == *pairing; })) return *v;
  } else if (auto v = mean([&](const MacEnergy& m) { return m.family == family; })) {
    return *v;
  }
  if (auto v = mean([](const MacEnergy&) { return true; })) return *v;
  throw Error(fmt::format("no logq power measurement of PE kind {} in results/power.csv (scripts/power_table.sh)", kind));
}

double EnergyTable::idle_pj(const PeSpec& pe) const {
  if (pe.composite()) {
    double m = 0;
    for (const auto& p : pe.parts) m = std::max(m, idle_pj(pe_spec(p)));
    return m;
  }
  if (const auto it = idle_override.find(pe.name); it != idle_override.end()) return it->second;
  if (model == "horowitz45") return 0;
  for (const MacEnergy& m : measured_mac_energies())
    if (m.kind == pe.name) return m.idle_pj;
  throw Error(fmt::format("no logq power measurement of PE kind {} in results/power.csv (scripts/power_table.sh)", pe.name));
}

double EnergyTable::sram_pj_per_byte(int64_t bytes, bool write) const {
  const auto& fixed = write ? sram_write_pj_per_byte : sram_read_pj_per_byte;
  if (fixed) return *fixed;
  // 64-bit access: 10 pJ at 8 KB, 20 pJ at 32 KB, 100 pJ at 1 MB; power law between the points.
  const double kb = std::max(1.0, double(bytes) / 1024.0);
  const double e64 = kb <= 32 ? 10.0 * std::pow(kb / 8.0, 0.5) : 20.0 * std::pow(kb / 32.0, std::log(5.0) / std::log(32.0));
  return sram_scale * e64 / 8.0;
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
int64_t AccelConfig::out_words() const { return out_words(out_bits); }
int64_t AccelConfig::out_words(int bits) const { return out_sram_bytes * 8 / bits / (double_buffer ? 2 : 1); }

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
  check_keys(j, {"description", "array", "clock_mhz", "sram", "dram", "words", "energy_pj", "vector"}, where);
  if (j.contains("vector")) h.vector = parse_vector_config(j["vector"], where + ".vector");
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
    check_keys(e, {"model", "mac", "idle", "sram_read_per_byte", "sram_write_per_byte", "dram_per_byte"}, w);
    if (e.contains("model")) {
      if (!e["model"].is_string()) throw Error(fmt::format("{}.model: expected \"activity\" or \"horowitz45\"", w));
      try {
        fill_energy(h, e["model"].get<std::string>());
      } catch (const Error& x) {
        throw Error(fmt::format("{}.model: {}", w, x.what()));
      }
    }
    const auto kinds = [] { std::set<std::string> s; for (const auto& k : pe_specs()) if (!k.composite()) s.insert(k.name); return s; };
    if (e.contains("idle")) {
      check_keys(e["idle"], kinds(), w + ".idle");
      for (auto it = e["idle"].begin(); it != e["idle"].end(); ++it) {
        if (!it.value().is_number() || !(it.value().get<double>() >= 0) || it.value().get<double>() > 1e6)
          throw Error(fmt::format("{}.idle.{}: expected a number in [0, 1e6] pJ", w, it.key()));
        h.energy.idle_override[it.key()] = it.value().get<double>();
      }
    }
    if (e.contains("mac")) {
      check_keys(e["mac"], kinds(), w + ".mac");
      for (auto it = e["mac"].begin(); it != e["mac"].end(); ++it) h.energy.mac_override[it.key()] = positive(it.value(), it.key(), w + ".mac");
    }
    if (e.contains("sram_read_per_byte")) h.energy.sram_read_pj_per_byte = positive(e["sram_read_per_byte"], "sram_read_per_byte", w);
    if (e.contains("sram_write_per_byte")) h.energy.sram_write_pj_per_byte = positive(e["sram_write_per_byte"], "sram_write_per_byte", w);
    if (e.contains("dram_per_byte")) h.energy.dram_pj_per_byte = positive(e["dram_per_byte"], "dram_per_byte", w);
    if (e.size() > (e.contains("model") ? 1u : 0u)) h.energy.source += " (with overrides from " + where + ")";
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
            {"energy_pj", {{"model", h.energy.model}, {"dram_per_byte", h.energy.dram_pj_per_byte}}},
            {"vector", to_json(h.vector)}};
  if (!h.energy.mac_override.empty()) j["energy_pj"]["mac"] = h.energy.mac_override;
  if (!h.energy.idle_override.empty()) j["energy_pj"]["idle"] = h.energy.idle_override;
  if (h.clock_mhz) j["clock_mhz"] = *h.clock_mhz;
  if (h.act_bits) j["words"]["act_bits"] = *h.act_bits;
  if (h.weight_bits) j["words"]["weight_bits"] = *h.weight_bits;
  return j;
}

void set_energy_model(json& config, const std::string& model) {
  if (!config.is_object()) return;  // parse_accel names the error
  if (!config.contains("energy_pj")) config["energy_pj"] = json::object();
  if (config["energy_pj"].is_object()) config["energy_pj"]["model"] = model;  // else parse_accel names the error
}

}  // namespace logq::sim
