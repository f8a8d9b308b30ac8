#include "sim/workload.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "io/error.h"
#include "io/file_io.h"
#include "io/limits.h"
#include "golden/lower.h"

namespace logq::sim {

namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, ',')) out.push_back(trim(f));
  while (!out.empty() && out.back().empty()) out.pop_back();  // SCALE-Sim rows end with ','
  return out;
}

int64_t positive_int(const std::string& s, const std::string& where) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || v < 1 || v > (int64_t{1} << 24)) throw Error(fmt::format("{}: '{}' is not a whole number in 1..2^24", where, s));
  return v;
}

// One list per layer; a layer not run on the array (float input) hands its work to the next
// array layer (or, at the end, the previous one).
void attach_vector_work(Workload& w, std::vector<std::vector<VectorWork>> work) {
  const size_t n = w.layers.size();
  for (size_t i = 0; i < n; ++i) {
    if (!w.layers[i].float_input) continue;
    size_t to = i + 1;
    while (to < n && w.layers[to].float_input) ++to;
    if (to == n) {
      to = i;
      while (to > 0 && w.layers[to].float_input) --to;
      if (w.layers[to].float_input) continue;  // nothing runs on the array
    }
    work[to].insert(work[to].end(), work[i].begin(), work[i].end());
    work[i].clear();
  }
  for (size_t i = 0; i < n; ++i) w.layers[i].vector_work = std::move(work[i]);
}

}  // namespace

Workload workload_from_lqm(const std::string& path) { return workload_from_lqm(LqmFile::open(path)); }

// From the typed model alone: shapes from golden/lower's job_shape, word widths from the operand
// formats (golden/hw.h); no weight is decoded.
Workload workload_from_lqm(const LqmFile& f) {
  const std::string& path = f.file().path();
  const LqmModel& m = f.model();
  if (m.input_shape.empty()) throw Error(fmt::format("{}: the model has no model.input_shape: its layer shapes are unknown", path));
  Workload w;
  w.source = path;
  w.name = m.meta.value("name", std::string("model"));
  for (const LqmGemm& g : m.gemms) {
    SimLayer s;
    s.name = g.name;
    s.pairing = g.pairing;
    s.float_input = g.float_input;
    s.a_fmt_bits = g.x.bits;
    s.w_fmt_bits = g.w.bits;
    s.a_bits = g.float_input ? 32 : stored_x_bits(g.pairing, g.x.bits);
    s.w_bits = g.geom.op == LayerOp::Matmul ? g.w.bits : stored_w_bits(g.pairing, g.w.bits);
    const JobShape j = job_shape(g.geom, g.out_shape);
    s.M = j.M, s.N = j.N, s.K = j.K, s.count = j.count;
    if (g.geom.op == LayerOp::Linear) {
      s.op = "linear";
    } else if (g.geom.op == LayerOp::Conv2d) {
      const Conv2dShape& c = g.geom.conv;
      s.op = "conv2d";
      s.conv = {true, c.C / c.groups, c.H, c.W, c.kh, c.stride, c.pad, c.dilation, c.OW()};
    } else {
      s.op = "matmul";
      s.w_is_activation = true;
    }
    w.layers.push_back(s);
  }
  if (w.layers.empty()) throw Error(fmt::format("{}: the model has no GEMM layers", path));
  attach_vector_work(w, vector_work_from_graph(m));
  return w;
}

Workload workload_from_topology(const std::string& path, int a_bits, int w_bits) {
  std::istringstream in(read_text_file(path));
  Workload w;
  w.source = path;
  w.name = path.substr(path.find_last_of('/') + 1);
  w.name = w.name.substr(0, w.name.rfind('.'));
  std::string line;
  int64_t lineno = 0;
  bool header = true;
  size_t width = 0;
  while (std::getline(in, line)) {
    ++lineno;
    const auto f = fields(line);
    if (f.empty() || f[0].rfind('#', 0) == 0) continue;
    const std::string where = fmt::format("{}:{}", path, lineno);
    if (header) {  // the first row names the columns: 8 for conv rows, 4 for GEMM rows
      header = false;
      width = f.size();
      if (width != 8 && width != 4)
        throw Error(fmt::format("{}: expected a SCALE-Sim header of 8 columns (Layer name, IFMAP Height, IFMAP Width, Filter Height, "
                                "Filter Width, Channels, Num Filter, Strides) or 4 (Layer, M, N, K); got {}", where, width));
      continue;
    }
    if (f.size() != width) throw Error(fmt::format("{}: {} columns, the header has {}", where, f.size(), width));
    SimLayer s;
    s.name = f[0];
    s.pairing_known = false;
    s.a_bits = s.a_fmt_bits = a_bits;
    s.w_bits = s.w_fmt_bits = w_bits;
    if (width == 4) {
      s.op = "gemm";
      s.M = positive_int(f[1], where + " M");
      s.N = positive_int(f[2], where + " N");
      s.K = positive_int(f[3], where + " K");
    } else {
      // SCALE-Sim convention: the IFMAP dimensions include any padding; no padding is added here.
      const int64_t H = positive_int(f[1], where + " IFMAP Height"), W = positive_int(f[2], where + " IFMAP Width");
      const int64_t R = positive_int(f[3], where + " Filter Height"), S = positive_int(f[4], where + " Filter Width");
      const int64_t C = positive_int(f[5], where + " Channels"), O = positive_int(f[6], where + " Num Filter");
      const int64_t st = positive_int(f[7], where + " Strides");
      if (R > H || S > W) throw Error(fmt::format("{}: filter {}x{} larger than the ifmap {}x{}", where, R, S, H, W));
      s.op = "conv2d";
      s.M = ((H - R) / st + 1) * ((W - S) / st + 1);
      s.conv = {true, C, H, W, R, st, 0, 1, (W - S) / st + 1};
      s.N = O;
      s.K = checked_mul(checked_mul(R, S, where), C, where);
    }
    checked_mul(checked_mul(checked_mul(s.count, s.M, where), s.N, where), s.K, where);  // macs() stays in range
    w.layers.push_back(s);
  }
  if (w.layers.empty()) throw Error(fmt::format("{}: no layers (a header row and at least one layer row)", path));
  std::vector<NamedGemm> named;
  for (const SimLayer& l : w.layers) {
    // A GEMM row named like a convolution is one in im2col form.
    const bool conv = l.op == "conv2d" || l.name.find("conv") != std::string::npos || l.name.find("downsample") != std::string::npos;
    // The x operand's elements: a convolution's ifmap (in im2col form: the previous layer's
    // outputs), a GEMM row's M x K (an attention matmul's second operand is an activation too).
    int64_t in = l.M * l.K * l.count;
    if (l.op == "conv2d") in = l.conv.C * l.conv.H * l.conv.W * l.count;
    else if (conv && !named.empty()) in = named.back().M * named.back().N * named.back().count;
    if (l.name.find("matmul") != std::string::npos) in += l.K * l.N * l.count;
    named.push_back({l.name, conv ? "conv2d" : l.op, l.M, l.N, l.K, l.count, in});
  }
  attach_vector_work(w, vector_work_from_names(named));
  return w;
}

std::string workload_family(const Workload& w) {
  bool conv = false;
  for (const SimLayer& l : w.layers) {
    if (l.op == "matmul" || (l.pairing_known && log_activations(l.pairing))) return "transformer";
    conv = conv || l.op == "conv2d";
  }
  return conv ? "cnn" : "";
}

Workload load_workload(const std::string& path) {
  const auto ends = [&](const char* e) { return path.size() >= std::string(e).size() && path.compare(path.size() - std::string(e).size(), std::string::npos, e) == 0; };
  if (ends(".lqm")) return workload_from_lqm(path);
  if (ends(".csv")) return workload_from_topology(path);
  throw Error(fmt::format("{}: a workload is an .lqm model (logq export) or a SCALE-Sim topology .csv", path));
}

}  // namespace logq::sim
