#include "sim/power.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>

#include <fmt/format.h>

#include "io/error.h"
#include "io/file_io.h"

namespace logq::sim {

namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

PowerStimulus::PowerStimulus(const PeSpec& pe) : pe_(pe) {
  if (pe.composite()) throw Error(fmt::format("logq power: {} is a composite; price its parts ({})", pe.name, fmt::join(pe.parts, ", ")));
}

void PowerStimulus::add(const GemmProblem& p, const HwConfig& layer_hw, int64_t stride) {
  if (stride < 1) throw Error("PowerStimulus::add: stride must be >= 1");
  const RtlParams& r = pe_.rtl;
  const int mode = (log_weights(p.pairing) ? 1 : 0) | (log_activations(p.pairing) ? 2 : 0);
  const int frac = layer_hw.frac_bits, half = layer_hw.rounding == ShiftRounding::HalfUp;
  if (config_set_ && (mode != mode_ || frac != frac_ || half != half_))
    throw Error(fmt::format("logq power: the {} position is configured once; a job with another pairing or F/rounding cannot join it", pe_.name));
  mode_ = mode, frac_ = frac, half_ = half, config_set_ = true;
  HwConfig hw = layer_hw;
  hw.acc_bits = r.acc_w;
  hw.mant_frac_bits = r.mant_f;
  const GemmResult g = gemm(p, hw);
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t n = 0; n < p.N; ++n) {
      if (seen_++ % stride) continue;
      for (int64_t k = 0; k < p.K; ++k) {
        Line l;
        l.valid = true;
        l.first = k == 0;
        l.a = array_a_word(p.pairing, p.x[m * p.K + k], p.a_table, r);
        l.w = array_w_word(p.pairing, p.w_u ? p.w_u[n * p.K + k] : 0, p.w_l ? &p.w_l[n * p.K + k] : nullptr, r);
        if (k == 0 && pending_) l.check = true, l.expect = pending_acc_;
        lines_.push_back(l);
      }
      macs_ += p.K;
      ++outputs_;
      pending_ = true;
      pending_acc_ = g.acc[size_t(m * p.N + n)];
    }
}

std::vector<PowerStimulus::Line> PowerStimulus::finished() const {
  std::vector<Line> out = lines_;
  Line idle;  // the last output's accumulator, held on an idle cycle
  idle.check = pending_;
  idle.expect = pending_acc_;
  out.push_back(idle);
  return out;
}

std::string PowerStimulus::text() const {
  std::string s = fmt::format("mode {} frac {} half {} accw {}\n", mode_, frac_, half_, pe_.rtl.acc_w);
  for (const Line& l : finished()) {
    s += fmt::format("{} {} {:x} {:x}", int(l.valid), int(l.first), l.a, l.w);
    s += l.check ? fmt::format(" {}\n", l.expect) : "\n";
  }
  return s;
}

std::string PowerStimulus::ports_tcl() const {
  const std::vector<Line> ls = finished();
  std::string s = "# Input-port activities measured on stim.txt (transitions per cycle, fraction of cycles high).\n";
  const auto port = [&](const std::string& name, const std::function<bool(const Line&)>& bit) {
    int64_t toggles = 0, high = 0;
    for (size_t i = 0; i < ls.size(); ++i) {
      high += bit(ls[i]);
      if (i) toggles += bit(ls[i]) != bit(ls[i - 1]);
    }
    const double n = double(ls.size());
    s += fmt::format("set_power_activity -input_ports [get_ports {{{}}}] -activity {:.6f} -duty {:.6f}\n", name,
                     n > 1 ? toggles / (n - 1) : 0.0, high / n);
  };
  port("valid_i", [](const Line& l) { return l.valid; });
  port("first_i", [](const Line& l) { return l.first; });
  for (int b = 0; b < array_a_word_bits(pe_); ++b) port(fmt::format("a_word_i[{}]", b), [b](const Line& l) { return (l.a >> b) & 1; });
  for (int b = 0; b < array_w_word_bits(pe_); ++b) port(fmt::format("w_word_i[{}]", b), [b](const Line& l) { return (l.w >> b) & 1; });
  const auto constant = [&](const std::string& name, int v) {
    s += fmt::format("set_power_activity -input_ports [get_ports {{{}}}] -activity 0 -duty {}\n", name, v);
  };
  for (int b = 0; b < 2; ++b) constant(fmt::format("mode_i[{}]", b), (mode_ >> b) & 1);
  for (int b = 0; b < pe_.rtl.fw; ++b) constant(fmt::format("frac_bits_i[{}]", b), (frac_ >> b) & 1);
  constant("half_up_i", half_);
  constant("rst_ni", 1);
  return s;
}

std::map<std::string, int64_t> vcd_transitions(const std::string& text, const std::string& where) {
  std::istringstream in(text);
  return vcd_transitions(in, where);
}

std::map<std::string, int64_t> vcd_transitions(std::istream& in, const std::string& where) {
  struct Var {
    std::string name;
    int width = 1;
    std::string value;  // MSB first, width chars once set
  };
  std::map<std::string, std::vector<size_t>> by_id;  // VCD id -> vars (an id can alias)
  std::vector<Var> vars;
  std::string line;
  int depth = 0;
  bool defs = true;
  std::map<std::string, int64_t> out;
  const auto apply = [&](const std::string& id, std::string v) {
    const auto it = by_id.find(id);
    if (it == by_id.end()) return;
    for (size_t vi : it->second) {
      Var& x = vars[vi];
      if (int(v.size()) > x.width) throw Error(fmt::format("{}: value of {} wider than its {} bits", where, x.name, x.width));
      std::string full = std::string(size_t(x.width) - v.size(), v[0] == '1' ? '0' : v[0]) + v;
      if (!x.value.empty())
        for (int b = 0; b < x.width; ++b)
          if (full[size_t(b)] != x.value[size_t(b)]) ++out[x.width == 1 ? x.name : fmt::format("{}[{}]", x.name, x.width - 1 - b)];
      x.value = full;
    }
  };
  while (std::getline(in, line)) {
    if (defs) {
      std::istringstream t(line);
      std::string w;
      t >> w;
      if (w == "$scope") ++depth;
      else if (w == "$upscope") --depth;
      else if (w == "$enddefinitions") defs = false;
      else if (w == "$var" && depth == 2) {  // TOP, then the module itself; not the cells inside
        std::string type, id, name;
        int width = 0;
        if (!(t >> type >> width >> id >> name) || width < 1 || width > 4096)
          throw Error(fmt::format("{}: malformed $var line '{}'", where, line.substr(0, 120)));
        by_id[id].push_back(vars.size());
        vars.push_back({name, width, ""});
        for (int b = 0; b < width; ++b) out[width == 1 ? name : fmt::format("{}[{}]", name, b)] += 0;
      }
      continue;
    }
    if (line.empty() || line[0] == '#' || line[0] == '$') continue;
    if (line[0] == 'b' || line[0] == 'B') {
      const size_t sp = line.find(' ');
      if (sp == std::string::npos) throw Error(fmt::format("{}: malformed vector change '{}'", where, line.substr(0, 120)));
      apply(trim(line.substr(sp + 1)), line.substr(1, sp - 1));
    } else if (line[0] == '0' || line[0] == '1' || line[0] == 'x' || line[0] == 'z') {
      apply(trim(line.substr(1)), line.substr(0, 1));
    }
  }
  if (defs) throw Error(fmt::format("{}: no $enddefinitions (not a VCD, or cut short)", where));
  return out;
}

std::vector<NetlistCell> netlist_cells(const std::string& verilog, const std::string& outputs, const std::string& where) {
  std::map<std::string, std::vector<std::string>> out_pins;  // cell -> output pins
  {
    std::istringstream in(outputs);
    std::string cell, pin;
    while (in >> cell >> pin) out_pins[cell].push_back(pin);
  }
  std::vector<NetlistCell> cells;
  std::istringstream in(verilog);
  std::string line;
  NetlistCell* cur = nullptr;
  while (std::getline(in, line)) {
    const std::string t = trim(line);
    if (!cur) {
      // "CELL NAME (" opens an instance of a liberty cell.
      std::istringstream s(t);
      std::string cell, name, paren;
      if (s >> cell >> name >> paren && paren == "(" && out_pins.count(cell)) {
        cells.push_back({name, cell, {}});
        cur = &cells.back();
      }
      continue;
    }
    if (t == ");") {
      if (cur->output_nets.empty()) throw Error(fmt::format("{}: cell {} ({}) drives no net", where, cur->name, cur->cell));
      cur = nullptr;
      continue;
    }
    // ".PIN(net)," — keep the nets on output pins.
    if (t.size() < 4 || t[0] != '.') throw Error(fmt::format("{}: unexpected line in cell {}: '{}'", where, cur->name, t.substr(0, 120)));
    const size_t open = t.find('('), close = t.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open)
      throw Error(fmt::format("{}: malformed connection '{}'", where, t.substr(0, 120)));
    const std::string pin = t.substr(1, open - 1), net = trim(t.substr(open + 1, close - open - 1));
    const auto& pins = out_pins.at(cur->cell);
    if (std::find(pins.begin(), pins.end(), pin) != pins.end() && !net.empty()) {
      std::string n = net;
      n.erase(std::remove(n.begin(), n.end(), ' '), n.end());
      cur->output_nets.push_back(n);
    }
  }
  if (cur) throw Error(fmt::format("{}: cell {} not closed", where, cur->name));
  if (cells.empty()) throw Error(fmt::format("{}: no liberty cells in the netlist", where));
  return cells;
}

std::map<std::string, double> sta_instance_power(const std::string& text, const std::string& where) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    double internal, switching, leakage, total;
    std::string name;
    if (s >> internal >> switching >> leakage >> total >> name) {
      if (!std::isfinite(total) || total < 0) throw Error(fmt::format("{}: power of {} is {}", where, name, total));
      out[name] = total;
    }
  }
  if (out.empty()) throw Error(fmt::format("{}: no instance rows (did OpenSTA fail? see the file)", where));
  return out;
}

double sta_total_power(const std::string& text, const std::string& where) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string w;
    double internal, switching, leakage, total;
    if (s >> w && w == "Total" && s >> internal >> switching >> leakage >> total) return total;
  }
  throw Error(fmt::format("{}: no 'Total' row (did OpenSTA fail? see the file)", where));
}

PowerResult join_power(const std::string& dir, int64_t cycles, int64_t macs) {
  if (cycles < 1 || macs < 1) throw Error("join_power: no cycles or no MACs");
  const auto path = [&](const char* f) { return dir + "/" + f; };
  PowerResult r;
  r.cycles = cycles;
  r.macs = macs;
  {
    std::istringstream f(read_text_file(path("flow.txt")));
    std::string k;
    if (!(f >> k >> r.period_ns) || k != "period_ns" || !(r.period_ns > 0)) throw Error(fmt::format("{}: expected 'period_ns P'", path("flow.txt")));
  }
  const std::vector<NetlistCell> cells = netlist_cells(read_text_file(path("net.v")), read_text_file(path("outputs.txt")), path("net.v"));
  std::ifstream vcd(path("sim.vcd"), std::ios::binary);
  if (!vcd) throw Error(fmt::format("{}: cannot open", path("sim.vcd")));
  const std::map<std::string, int64_t> tr = vcd_transitions(vcd, path("sim.vcd"));
  const auto p0 = sta_instance_power(read_text_file(path("sta_a0.txt")), path("sta_a0.txt"));
  const auto p1 = sta_instance_power(read_text_file(path("sta_a1.txt")), path("sta_a1.txt"));
  const double t = r.period_ns * 1e-9;
  double energy = 0, idle = 0, toggles = 0;
  for (const NetlistCell& c : cells) {
    const auto a = p0.find(c.name), b = p1.find(c.name);
    if (a == p0.end() || b == p1.end()) throw Error(fmt::format("{}: no power for cell {}", dir, c.name));
    double n = 0;
    for (const std::string& net : c.output_nets) {
      const auto it = tr.find(net);
      if (it == tr.end()) {
        if (net.find('\'') != std::string::npos) continue;  // a constant tie-off
        throw Error(fmt::format("{}: net {} (cell {}) is not in the simulation dump", path("sim.vcd"), net, c.name));
      }
      n += double(it->second);
    }
    n /= double(c.output_nets.size());
    energy += a->second * t * double(cycles) + (b->second - a->second) * t * n;
    idle += a->second * t;
    toggles += n;
  }
  r.cells = int64_t(cells.size());
  r.pj_per_mac = energy * 1e12 / double(macs);
  r.idle_pj_per_cycle = idle * 1e12;
  r.mean_toggle_rate = toggles / double(cells.size()) / double(cycles);
  r.vectorless_pj_per_mac = sta_total_power(read_text_file(path("sta_vectorless.txt")), path("sta_vectorless.txt")) * t * double(cycles) * 1e12 / double(macs);
  // Leakage: OpenSTA's leakage column at activity 0.
  {
    std::istringstream in(read_text_file(path("sta_a0.txt")));
    std::string line;
    double leak = 0;
    while (std::getline(in, line)) {
      std::istringstream s(line);
      double i0, s0, l0, t0;
      std::string name;
      if (s >> i0 >> s0 >> l0 >> t0 >> name) leak += l0;
    }
    r.leakage_pj_per_cycle = leak * t * 1e12;
  }
  return r;
}

}  // namespace logq::sim
