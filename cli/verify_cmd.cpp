// `logq verify MODEL.lqm`: every GEMM of the chosen layers, on the input codes the golden network
// computes for the file's sample images, lowered to array jobs by golden/lower (the lowering the
// golden network itself runs), run on the Verilated PE array (testbenches/) and compared bit for bit
// with the network's own accumulators of that layer and image — per layer: shape, tiles, cycles,
// utilization, PASS/FAIL, and on a failure the first-mismatch report and a VCD waveform.
#include "cli/verify_cmd.h"
#include "cli/common.h"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/error.h"
#include "io/file_io.h"
#include "golden/lower.h"
#include "golden/network.h"
#include "testbenches/rtl_array.h"

namespace logq::cli {

namespace {

using json = nlohmann::json;

struct Options {
  std::string model, json_out, waveform = "verify_mismatch.vcd";
  std::vector<std::string> layers;
  bool all = false;
  int64_t images = 1, jobs = 1, flip = -1;
};

// One layer on one image: its input codes and the accumulators the golden network computed from
// them; golden/lower turns it into array problems (a conv: one per group; a matmul: one per head).
struct Job {
  std::string layer;
  int64_t image = 0;
  std::vector<int32_t> x, b;
  std::vector<int64_t> acc;
};

struct LayerResult {
  std::string layer, shape, status = "PASS", mismatch, waveform;
  int64_t problems = 0, tiles = 0;
  uint64_t cycles = 0;
  double ideal = 0;
};

bool selected(const Options& o, const std::vector<std::string>& prefixes, const std::string& name) {
  return o.all || layer_in(prefixes, name);
}

LayerResult run_job(RtlArray& rtl, const GemmRecord& g, const Job& job, const Options& o, bool flip_here) {
  LayerResult r;
  r.layer = g.name;
  const QLayer& l = g.layer;
  if (l.hw.mant_frac_bits != rtl.config().mant_frac_bits && (l.pairing == Pairing::LxU || l.pairing == Pairing::LxA)) {
    r.status = "SKIP";
    r.mismatch = fmt::format("LogART weights with an f = {} mantissa; the RTL array implements f = {} (1+1/2): export with --hardware-approx",
                             l.hw.mant_frac_bits, rtl.config().mant_frac_bits);
    return r;
  }
  const WeightOperand w = l.op == LayerOp::Matmul ? WeightOperand{} : weight_operand(l);
  const int64_t rows = input_rows(l, job.x.size());
  int64_t M = 0, N = 0, K = 0, parts = 0;
  std::vector<int64_t> expected;
  lower_layer(l, w.d.empty() ? nullptr : w.d.data(), w.l.empty() ? nullptr : w.l.data(), job.x, rows, job.b,
              [&](const GemmProblem& p, const JobPlace& at) {
                M = p.M, N = p.N, K = p.K, parts = at.count;
                if (r.status == "FAIL") return;
                expected.resize(size_t(p.M * p.N));
                for (int64_t m = 0; m < p.M; ++m)
                  for (int64_t n = 0; n < p.N; ++n) expected[size_t(m * p.N + n)] = job.acc.at(size_t(at.at(m, n)));
                VerifyOptions vo;
                vo.label = fmt::format("{} (image {}{})", g.name, job.image, at.count > 1 ? fmt::format(", part {}", at.index) : "");
                vo.waveform_path = o.waveform;
                vo.expected = &expected;
                if (flip_here && at.index == 0) vo.flip_expected_bit = 0;
                const VerifyReport rep = verify_gemm(rtl, p, l.hw, vo);
                r.problems += 1;
                r.tiles += rep.tiles;
                r.cycles += rep.cycles;
                r.ideal += rep.ideal_cycles;
                if (!rep.pass) {
                  r.status = "FAIL";
                  r.mismatch = rep.mismatch;
                  r.waveform = rep.waveform;
                }
              });
  const char* unit = l.op == LayerOp::Conv2d ? "groups" : "heads";
  r.shape = fmt::format("{}x{}x{}{}", M, N, K, parts > 1 || l.op == LayerOp::Matmul ? fmt::format(" x{} {}", parts, unit) : "");
  return r;
}

json to_json(const LayerResult& r) {
  return {{"layer", r.layer}, {"shape", r.shape}, {"status", r.status}, {"mismatch", r.mismatch}, {"waveform", r.waveform},
          {"problems", r.problems}, {"tiles", r.tiles}, {"cycles", r.cycles}, {"ideal_cycles", r.ideal}};
}

LayerResult from_json(const json& j) {
  LayerResult r;
  r.layer = j["layer"];
  r.shape = j["shape"];
  r.status = j["status"];
  r.mismatch = j["mismatch"];
  r.waveform = j["waveform"];
  r.problems = j["problems"];
  r.tiles = j["tiles"];
  r.cycles = j["cycles"];
  r.ideal = j["ideal_cycles"];
  return r;
}

// Jobs [begin, end) on one Verilated array.
std::vector<LayerResult> run_jobs(const std::vector<GemmRecord>& gs, const std::vector<Job>& jobs, size_t begin, size_t end, const Options& o) {
  auto rtl = make_rtl_array_universal_4x4();
  std::map<std::string, const GemmRecord*> by;
  for (const auto& g : gs) by[g.name] = &g;
  std::vector<LayerResult> out;
  for (size_t i = begin; i < end; ++i) out.push_back(run_job(*rtl, *by.at(jobs[i].layer), jobs[i], o, int64_t(i) == o.flip));
  return out;
}

std::vector<LayerResult> run_parallel(const std::vector<GemmRecord>& gs, const std::vector<Job>& jobs, const Options& o) {
  const size_t n = jobs.size();
  const int64_t procs = std::min<int64_t>(std::max<int64_t>(o.jobs, 1), int64_t(n));
  if (procs <= 1) return run_jobs(gs, jobs, 0, n, o);
  const auto parts = run_in_processes(procs, [&](int64_t p) {
    json arr = json::array();
    for (const auto& r : run_jobs(gs, jobs, n * size_t(p) / size_t(procs), n * size_t(p + 1) / size_t(procs), o)) arr.push_back(to_json(r));
    return arr.dump();
  }, "logq verify");
  std::vector<LayerResult> out;
  for (const auto& p : parts)
    for (const auto& j : json::parse(p)) out.push_back(from_json(j));
  return out;
}

int run(const Options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const LqmFile f = LqmFile::open(o.model);
  Network net(f);
  const SafetensorsFile& st = f.file();
  const TensorInfo* imgs = st.find("samples/images");
  if (!imgs || imgs->shape.empty() || imgs->shape[0] == 0)
    throw Error(fmt::format("{}: no sample images (export with --export-samples N > 0)", o.model));
  const int64_t avail = imgs->shape[0], n = std::min(o.images, avail), per = numel(net.input_shape());
  if (o.images > avail) fmt::print("note: the file holds {} sample images; verifying {}\n", avail, n);
  const std::vector<std::string> prefixes = o.layers.empty() && !o.all ? std::vector<std::string>{first_block(net.gemms(), "logq verify")} : o.layers;
  std::vector<Job> jobs;
  net.on_codes = [&](const std::string& layer, const std::vector<int32_t>& x, const std::vector<int32_t>& b) {
    if (selected(o, prefixes, layer)) jobs.push_back({layer, int64_t(-1), x, b, {}});
  };
  net.on_output = [&](const std::string& layer, const LayerOutput& out) {
    if (selected(o, prefixes, layer)) jobs.back().acc = out.acc;  // the job on_codes just added
  };
  const auto x = st.read<float>("samples/images", DType::F32);
  for (int64_t i = 0; i < n; ++i) {
    const size_t before = jobs.size();
    net.run(std::vector<float>(x.begin() + i * per, x.begin() + (i + 1) * per));
    for (size_t j = before; j < jobs.size(); ++j) jobs[j].image = i;
  }
  std::vector<std::string> floats;
  for (const auto& g : net.gemms())
    if (g.float_input && selected(o, prefixes, g.name)) floats.push_back(g.name);
  if (jobs.empty() && floats.empty()) throw Error(fmt::format("logq verify: no GEMM layer matches {}", fmt::join(prefixes, ", ")));
  if (o.flip >= static_cast<int64_t>(jobs.size()))
    throw Error(fmt::format("--flip-expected {}: there are {} job(s), numbered 0..{}", o.flip, jobs.size(), int64_t(jobs.size()) - 1));
  fmt::print("{}: {} GEMM job(s) ({} layer(s) x {} image(s)) on the Verilated 4x4 universal PE array, {} process(es)\n", o.model, jobs.size(),
             jobs.size() / size_t(std::max<int64_t>(n, 1)), n, o.jobs);
  const std::vector<LayerResult> res = run_parallel(net.gemms(), jobs, o);
  fmt::print("\n{:<28} {:>5} {:>24} {:>7} {:>10} {:>6}  {}\n", "layer", "image", "GEMM MxNxK", "tiles", "cycles", "util%", "result");
  int64_t pass = 0, fail = 0, skip = 0;
  uint64_t cycles = 0;
  double ideal = 0;
  json rows = json::array();
  for (size_t i = 0; i < res.size(); ++i) {
    const LayerResult& r = res[i];
    fmt::print("{:<28} {:>5} {:>24} {:>7} {:>10} {:>6.1f}  {}\n", r.layer, jobs[i].image, r.shape, r.tiles, r.cycles,
               r.cycles ? 100.0 * r.ideal / double(r.cycles) : 0.0, r.status);
    if (r.status == "PASS") ++pass;
    else if (r.status == "FAIL") ++fail;
    else ++skip;
    if (!r.mismatch.empty()) fmt::print("{}{}\n", r.status == "SKIP" ? "  skipped: " : "", r.mismatch);
    cycles += r.cycles;
    ideal += r.ideal;
    json j = to_json(r);
    j["image"] = jobs[i].image;
    rows.push_back(j);
  }
  for (const auto& name : floats) fmt::print("{:<28} {:>5} {:>24} {:>7} {:>10} {:>6}  SKIP (F32 input: the reference keeps it float)\n", name, "-", "-", "-", "-", "-");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("\n{} passed, {} failed, {} skipped: {} RTL cycles, {:.1f}% of the ideal M*N*K/(R*C), {:.1f} s\n", pass, fail, skip + int64_t(floats.size()),
             cycles, cycles ? 100.0 * ideal / double(cycles) : 0.0, secs);
  if (!o.json_out.empty()) {
    write_text(o.json_out, json{{"model", o.model}, {"passed", pass}, {"failed", fail}, {"skipped", skip + int64_t(floats.size())},
                                {"cycles", cycles}, {"seconds", secs}, {"jobs", rows}}.dump(2) + "\n");
  }
  return fail ? 1 : 0;
}

}  // namespace

void add_verify(CLI::App& app) {
  static Options o;
  auto* c = app.add_subcommand("verify", "Run the GEMMs of an exported .lqm on the Verilated PE array and compare them bit for bit with the golden model");
  c->add_option("model", o.model, "the .lqm file (logq quantize --export); its sample images give the input codes")->required();
  c->add_option("--layers", o.layers, "layer name prefixes to verify (default: blocks.0 of a ViT, layer1.0 of a ResNet)");
  c->add_flag("--all", o.all, "every GEMM of the network");
  c->add_option("--images", o.images, "sample images to run (at most those in the file)")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  c->add_option("-j,--jobs", o.jobs, "worker processes (each with its own Verilated array)")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{256}));
  c->add_option("--waveform", o.waveform, "VCD written around the first mismatch")->capture_default_str();
  c->add_option("--json", o.json_out, "write the per-job results as JSON to FILE (- for stdout)");
  c->add_option("--flip-expected", o.flip, "self-test: flip bit 0 of the golden result of job N (the report must FAIL)")->check(CLI::NonNegativeNumber);
  c->callback([] {
    const int rc = run(o);
    if (rc) throw Error("logq verify: RTL and golden model disagree (report above)");
  });
}

}  // namespace logq::cli
