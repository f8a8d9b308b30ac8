// sim/: the fast cycle model against the Verilated array, the tiling's DRAM traffic against an
// independent count, the SystemC model end to end (both back-ends), SCALE-Sim's formula on hand
// values, and bad hardware configs / topologies.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/error.h"
#include "golden/lower.h"
#include "golden/network.h"
#include "sim/accelerator.h"
#include "sim/report.h"
#include "testbenches/random_jobs.h"
#include "testbenches/rtl_array.h"

using namespace logq;
using namespace logq::sim;
using json = nlohmann::json;

namespace {

const std::string kRoot = LOGQ_SOURCE_DIR;

AccelConfig accel(const json& j) { return parse_accel(j, "test"); }

// SystemC elaborates once per process: each simulation runs in a forked child, which sends back
// the JSON report (or "error: ...").
json simulate_in_child(const Workload& w, const AccelConfig& hw, const std::string& backend, const LqmFile* model = nullptr) {
  int fd[2];
  REQUIRE(pipe(fd) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fd[0]);
    std::string out;
    try {
      auto b = backend == "rtl" ? (model ? make_model_rtl_backend(hw, *model, w, 0) : make_rtl_backend(hw, 3)) : make_fast_backend(hw);
      out = report_json(simulate(w, hw, *b)).dump();
    } catch (const std::exception& e) {
      out = std::string("error: ") + e.what();
    }
    size_t off = 0;
    while (off < out.size()) {
      const ssize_t n = write(fd[1], out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += size_t(n);
    }
    _exit(0);
  }
  close(fd[1]);
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = read(fd[0], buf, sizeof buf)) > 0;) text.append(buf, size_t(n));
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  if (text.rfind("error: ", 0) == 0) FAIL(text);
  return json::parse(text);
}

SimLayer gemm_layer(const std::string& name, int64_t M, int64_t N, int64_t K, int bits = 8) {
  SimLayer l;
  l.name = name;
  l.op = "gemm";
  l.pairing_known = false;
  l.M = M, l.N = N, l.K = K;
  l.a_bits = l.w_bits = bits;
  return l;
}

// The embedded models' layer shapes, as `logq sim --topology-out` wrote them from their exports.
Workload committed_topology(const std::string& name) { return workload_from_topology(kRoot + "/configs/topologies/" + name + ".csv"); }

// DRAM bytes of one instance, counted by replaying the plan's blocks against what each buffer
// holds (not from the plan's load flags): a block fetches an operand block unless that very block
// is what the buffer loaded last.
// Activation words of rows [m0, m0 + mb) by brute force: every im2col element (m, k) decoded to its
// input pixel (c, ih, iw); the DMA moves whole ifmap rows of every touched ih, or the im2col rows.
int64_t brute_fetch_words(const SimLayer& l, int64_t m0, int64_t mb) {
  if (!l.conv.valid) return mb * l.K;
  const ConvGeom& g = l.conv;
  std::set<int64_t> rows;
  const int64_t kw = l.K / (g.C * g.kh);
  for (int64_t m = m0; m < m0 + mb; ++m)
    for (int64_t k = 0; k < l.K; ++k) {
      const int64_t i = (k / kw) % g.kh, ih = (m / g.OW) * g.stride - g.pad + i * g.dilation;
      if (ih >= 0 && ih < g.H) rows.insert(ih);
    }
  return std::min(mb * l.K, int64_t(rows.size()) * g.W * g.C);
}

int64_t replayed_dram_bytes(const SimLayer& l, const LayerPlan& p) {
  int64_t bytes = 0, held_a = -1, held_w = -1;
  for (const Block& b : p.blocks) {
    const int64_t ia = b.m0 / p.Mb, iw = b.n0 / p.Nb;
    if (ia != held_a) bytes += (brute_fetch_words(l, b.m0, b.mb) * p.a_bits + 7) / 8, held_a = ia;
    if (iw != held_w) bytes += (b.nb * l.K * p.w_bits + 7) / 8, held_w = iw;
    bytes += (b.mb * b.nb * p.out_bits + 7) / 8;
  }
  return bytes;
}

}  // namespace

TEST_CASE("fast cycle model equals the Verilated array on random GEMM shapes", "[sim][rtl]") {
  auto rtl = make_rtl_array_universal_4x4();
  const AccelConfig hw = accel({{"array", {{"rows", 4}, {"cols", 4}}}, {"clock_mhz", 100}});
  std::mt19937 rng(11);
  for (int i = 0; i < 40; ++i) {
    const RandomJob j = random_job(rng, 300);
    HwConfig h = j.hw;
    h.acc_bits = rtl->config().acc_bits;
    const RtlRunResult r = rtl->run(j.problem(), h);
    INFO("job " << i << ": " << j.M << "x" << j.N << "x" << j.K);
    CHECK(r.cycles == block_cycles(hw, j.M, j.N, j.K));
  }
}

TEST_CASE("fast cycle model equals the RTL on every block of the embedded ViT and ResNet-20", "[sim][rtl]") {
  const AccelConfig hw = accel({{"array", {{"rows", 4}, {"cols", 4}}}, {"clock_mhz", 100}, {"sram", {{"act_kib", 16}, {"weight_kib", 16}}}});
  auto rtl = make_rtl_backend(hw, 5);
  auto fast = make_fast_backend(hw);
  for (const char* name : {"fmnist_vit_adalog_w4a4", "resnet20_cifar_logart_w4a8"}) {
    const Workload w = committed_topology(name);
    REQUIRE(w.layers.size() >= 20);
    int64_t blocks = 0;
    for (const SimLayer& l : w.layers) {
      const LayerPlan p = plan_layer(l, hw);
      for (const Block& b : p.blocks) {
        INFO(name << " " << l.name << " block " << b.mb << "x" << b.nb << "x" << l.K);
        REQUIRE(rtl->run(l, 0, b) == fast->run(l, 0, b));
        ++blocks;
      }
    }
    CHECK(blocks >= int64_t(w.layers.size()));
  }
}

TEST_CASE("K-splitting: a layer whose K does not fit runs in chunks, and the plan, SystemC, the RTL and the cycle formula agree", "[sim][rtl][ksplit]") {
  // 4x4 universal with 1 KiB operand SRAMs: 128 words per bank half, so K = 300 runs as 3 x 100.
  const AccelConfig hw = accel({{"array", {{"rows", 4}, {"cols", 4}}}, {"clock_mhz", 100},
                                {"sram", {{"act_kib", 1}, {"weight_kib", 1}, {"out_kib", 16}}}});
  for (Pairing pr : {Pairing::UxU, Pairing::LxA}) {
    SimLayer l = gemm_layer("fc", 37, 22, 300);
    l.pairing = pr;
    l.pairing_known = true;
    if (pr == Pairing::LxA) l.w_fmt_bits = l.a_fmt_bits = 4;  // formats the PE takes, in 8-bit words
    l.count = 2;
    const LayerPlan p = plan_layer(l, hw);
    REQUIRE(p.k_chunks == 3);
    REQUIRE(p.Kb == 100);
    CHECK(p.psum_bits == 48);
    const int64_t nA = (l.M + p.Mb - 1) / p.Mb, nW = (l.N + p.Nb - 1) / p.Nb;
    REQUIRE(int64_t(p.blocks.size()) == nA * nW * 3);
    CHECK(p.a_words == l.M * l.K * nW);
    CHECK(p.w_words == l.N * l.K * nA);
    uint64_t cycles = 0;
    for (size_t i = 0; i < p.blocks.size(); ++i) {
      const Block& b = p.blocks[i];
      const int64_t c = int64_t(i % 3);
      INFO("block " << i);
      CHECK(b.k0 == 100 * c);
      CHECK(b.kb == 100);
      CHECK(b.first_k == (c == 0));
      CHECK(b.last_k == (c == 2));
      CHECK((b.load_a && b.load_w));
      if (c == 0) cycles += array_cycles_k_split(4, 4, b.mb, b.nb, l.K, p.Kb);
    }
    const Workload w{"ksplit", "test", {l}};
    const json fast = simulate_in_child(w, hw, "fast"), rtl = simulate_in_child(w, hw, "rtl");
    INFO(pairing_name(pr));
    CHECK(fast.at("layers")[0].at("k_chunks") == 3);
    CHECK(fast.at("layers")[0].at("block_k") == 100);
    CHECK(fast.at("total").at("compute_cycles") == 2 * cycles);
    // The Verilated array ran every chunk into its output buffer's partial sums, checked against golden.
    CHECK(rtl.at("total").at("compute_cycles") == 2 * cycles);
    CHECK(rtl.at("total").at("total_cycles") == fast.at("total").at("total_cycles"));
    // Partial sums: chunks 2 and 3 read them, chunks 1 and 2 write them at 48 bits; outputs leave once.
    const json& out = fast.at("layers")[0].at("sram").at("out");
    CHECK(out.at("reads") == 2 * (2 * l.M * l.N + l.M * l.N));
    CHECK(out.at("writes") == 2 * 3 * l.M * l.N);
    CHECK(fast.at("layers")[0].at("dram").at("out_write_bytes") == 2 * l.M * l.N * 2);
    // Mapping efficiency counts each chunk's tiles over its own 100 columns.
    const double tiles = fast.at("layers")[0].at("tiles").get<double>();
    CHECK(tiles == 2.0 * 3 * 10 * 6);
    CHECK(fast.at("layers")[0].at("mapping_efficiency").get<double>() == Approx(double(l.macs()) / (16.0 * tiles * 100)));
  }
}

TEST_CASE("tiling: DRAM traffic equals a replay of the buffers, and the plan moves the fewest bytes", "[sim]") {
  struct Case { int64_t M, N, K; double act_kib, weight_kib, out_kib; bool dbl; int bits; ConvGeom conv = {}; };
  const Case cases[] = {
      {197, 576, 192, 8, 64, 64, true, 8},   // A needs several blocks, W fits
      {197, 576, 192, 64, 8, 64, true, 8},   // W needs several blocks
      {197, 576, 192, 4, 4, 64, false, 8},   // both: one operand is re-fetched
      {1001, 16, 27, 1, 256, 16, true, 4},   // 4-bit words, odd K and a 9-row edge block: bytes round per transfer
      {5, 3, 7, 1, 1, 1, true, 8},           // smaller than the array
      {1, 1000, 192, 64, 16, 16, true, 8},   // the classifier head
      // Convolutions: ifmap rows instead of im2col rows (3x3 pad 1, stride 1 and 2; 1x1 stride 2).
      {28 * 28, 16, 144, 8, 64, 16, true, 8, {true, 16, 28, 28, 3, 1, 1, 1, 28}},
      {14 * 14, 32, 144, 4, 64, 16, true, 4, {true, 16, 28, 28, 3, 2, 1, 1, 14}},
      {14 * 14, 32, 16, 1, 64, 16, true, 8, {true, 16, 28, 28, 1, 2, 0, 1, 14}},
  };
  for (const Case& c : cases) {
    const AccelConfig hw = accel({{"array", {{"rows", 16}, {"cols", 16}}}, {"clock_mhz", 100},
                                  {"sram", {{"act_kib", c.act_kib}, {"weight_kib", c.weight_kib}, {"out_kib", c.out_kib}, {"double_buffer", c.dbl}}}});
    SimLayer l = gemm_layer("g", c.M, c.N, c.K, c.bits);
    l.conv = c.conv;
    const LayerPlan p = plan_layer(l, hw);
    INFO(c.M << "x" << c.N << "x" << c.K << " Mb " << p.Mb << " Nb " << p.Nb << (p.weights_outer ? " weights outer" : " act outer"));
    // Every output once, every block within its buffer half.
    int64_t outs = 0;
    for (const Block& b : p.blocks) {
      outs += b.mb * b.nb;
      CHECK(b.mb * l.K <= hw.act_bank_words(p.a_bits) * hw.rows);
      CHECK(b.nb * l.K <= hw.weight_bank_words(p.w_bits) * hw.cols);
      CHECK(b.mb * b.nb <= hw.out_words());
    }
    CHECK(outs == c.M * c.N);
    const int64_t expected = replayed_dram_bytes(l, p);
    const json r = simulate_in_child(Workload{"w", "test", {l}}, hw, "fast");
    const json& t = r["total"]["dram"];
    CHECK(t["act_read_bytes"].get<int64_t>() + t["weight_read_bytes"].get<int64_t>() + t["out_write_bytes"].get<int64_t>() == expected);
    // The closed form: the outer operand once, the inner one per outer block unless it fits whole.
    const int64_t nA = (c.M + p.Mb - 1) / p.Mb, nW = (c.N + p.Nb - 1) / p.Nb;
    int64_t a_once = 0;
    for (int64_t m0 = 0; m0 < c.M; m0 += p.Mb) a_once += brute_fetch_words(l, m0, std::min(p.Mb, c.M - m0));
    const int64_t a_words = a_once * (p.weights_outer && nA > 1 ? nW : 1), w_words = c.N * c.K * (!p.weights_outer && nW > 1 ? nA : 1);
    CHECK(p.a_words == a_words);
    CHECK(p.w_words == w_words);
    if (c.conv.valid) {
      CHECK(a_once <= c.M * c.K);                  // never more than the im2col rows
      if (c.conv.kh == 3) CHECK(a_once < c.M * c.K);  // and fewer for a 3x3 window
      continue;                   // the brute force below assumes im2col fetches
    }
    // No other block size in the buffers moves fewer bytes (brute force over both loop orders).
    for (int64_t Mb = hw.rows; Mb < c.M + hw.rows; Mb += hw.rows)
      for (int64_t Nb = hw.cols; Nb < c.N + hw.cols; Nb += hw.cols) {
        if (Mb * c.K > hw.act_bank_words(p.a_bits) * hw.rows || Nb * c.K > hw.weight_bank_words(p.w_bits) * hw.cols) continue;
        if (std::min(Mb, c.M) * std::min(Nb, c.N) > hw.out_words()) continue;
        const int64_t na = (c.M + Mb - 1) / Mb, nw = (c.N + Nb - 1) / Nb;
        for (bool wo : {true, false}) {
          const int64_t bytes = (c.M * c.K * (wo && na > 1 ? nw : 1) * p.a_bits + 7) / 8 + (c.N * c.K * (!wo && nw > 1 ? na : 1) * p.w_bits + 7) / 8;
          CHECK(bytes >= (p.a_words * p.a_bits + 7) / 8 + (p.w_words * p.w_bits + 7) / 8);
        }
      }
  }
}

TEST_CASE("SystemC model: both back-ends give the same cycles on the embedded ViT, DRAM target and report agree", "[sim][rtl]") {
  const AccelConfig hw = load_accel(kRoot + "/configs/hw/universal_4x4.json");
  const Workload w = committed_topology("fmnist_vit_adalog_w4a4");
  const json fast = simulate_in_child(w, hw, "fast");
  const json rtl = simulate_in_child(w, hw, "rtl");
  CHECK(rtl["backend"] == "rtl");
  for (const char* k : {"compute_cycles", "stall_cycles", "total_cycles", "tiles", "blocks"}) CHECK(fast["total"][k] == rtl["total"][k]);
  REQUIRE(fast["layers"].size() == w.layers.size());
  for (size_t i = 0; i < w.layers.size(); ++i) CHECK(fast["layers"][i]["compute_cycles"] == rtl["layers"][i]["compute_cycles"]);
  // Compute cycles are the sum of the blocks' closed forms.
  uint64_t expect = 0;
  for (const SimLayer& l : w.layers)
    for (const Block& b : plan_layer(l, hw).blocks) expect += block_cycles(hw, b.mb, b.nb, l.K) * uint64_t(l.count);
  CHECK(fast["total"]["compute_cycles"].get<uint64_t>() == expect);
  const json& d = fast["total"]["dram"];
  const uint64_t total = fast["total"]["total_cycles"];
  CHECK(total >= expect);
  CHECK(fast["total"]["stall_cycles"].get<uint64_t>() == total - expect);
  CHECK(d["act_read_bytes"].get<int64_t>() + d["weight_read_bytes"].get<int64_t>() > 0);
  // Layers in order: the sum of their spans is the whole run.
  uint64_t spans = 0;
  for (const auto& l : fast["layers"]) spans += l["total_cycles"].get<uint64_t>();
  CHECK(spans == total);
}

TEST_CASE("SystemC model: stalls follow DRAM bandwidth, double buffering hides loads", "[sim]") {
  const Workload w{"one", "test", {gemm_layer("fc", 256, 256, 256)}};
  const auto run = [&](double gbps, bool dbl) {
    const AccelConfig hw = accel({{"array", {{"rows", 16}, {"cols", 16}}}, {"clock_mhz", 100}, {"dram", {{"bandwidth_gbps", gbps}, {"latency_ns", 0}}},
                                  {"sram", {{"act_kib", 32}, {"weight_kib", 32}, {"out_kib", 16}, {"double_buffer", dbl}}}});
    return simulate_in_child(w, hw, "fast")["total"];
  };
  const json slow = run(0.1, true), fast = run(100, true), single = run(100, false);
  CHECK(slow["compute_cycles"] == fast["compute_cycles"]);
  CHECK(slow["stall_cycles"].get<uint64_t>() > 10 * fast["stall_cycles"].get<uint64_t>());
  // 0.1 GB/s at 100 MHz is one byte per cycle: the run can be no shorter than its DRAM bytes.
  const int64_t bytes = slow["dram"]["act_read_bytes"].get<int64_t>() + slow["dram"]["weight_read_bytes"].get<int64_t>() +
                        slow["dram"]["out_write_bytes"].get<int64_t>();
  CHECK(slow["total_cycles"].get<int64_t>() >= bytes);
  CHECK(single["total_cycles"].get<uint64_t>() > fast["total_cycles"].get<uint64_t>());
}

TEST_CASE("energy: MAC, SRAM and DRAM terms from the table", "[sim]") {
  const AccelConfig hw = accel({{"array", {{"rows", 4}, {"cols", 4}, {"pe", "lu"}}}, {"clock_mhz", 100},
                                {"energy_pj", {{"mac", {{"lu", 0.5}}}, {"idle", {{"lu", 0.25}}}, {"sram_read_per_byte", 1.0}, {"sram_write_per_byte", 2.0}, {"dram_per_byte", 100.0}}}});
  SimLayer l = gemm_layer("g", 8, 8, 8);
  const json t = simulate_in_child(Workload{"w", "test", {l}}, hw, "fast")["total"];
  // The array: every MAC, and every PE's idle energy on every cycle of the layer.
  CHECK(t["energy_pj"]["mac"].get<double>() == Approx(512 * 0.5 + t["total_cycles"].get<double>() * 16 * 0.25));
  const json& s = t["sram"];
  const double reads = s["act"]["read_bytes"].get<double>() + s["weight"]["read_bytes"].get<double>() + s["out"]["read_bytes"].get<double>();
  const double writes = s["act"]["write_bytes"].get<double>() + s["weight"]["write_bytes"].get<double>() + s["out"]["write_bytes"].get<double>();
  CHECK(t["energy_pj"]["sram"].get<double>() == Approx(reads * 1.0 + writes * 2.0));
  // 8x8x8 on 4x4: 4 tiles read 4 rows x 8 of A twice (two tile columns) and of W twice.
  CHECK(s["act"]["reads"] == 128);
  CHECK(s["weight"]["reads"] == 128);
  CHECK(s["out"]["writes"] == 64);
  CHECK(t["energy_pj"]["dram"].get<double>() == Approx(100.0 * (64 + 64 + 64 * 2)));
}

TEST_CASE("energy models: activity (default, logq power on OSU 0.18 um) and horowitz45 (the 45 nm table)", "[sim]") {
  const AccelConfig act = accel({{"array", {{"pe", "lu"}}}});
  CHECK(act.energy.model == "activity");
  // Every single kind has a measurement, tens of pJ per MAC and per idle cycle at 0.18 um, 1.8 V.
  for (const PeSpec& k : pe_specs())
    if (!k.composite()) {
      INFO(k.name);
      CHECK(act.energy.mac_pj(k.name, std::nullopt, "") > 1.0);
      CHECK(act.energy.idle_pj(k) > 1.0);
    }
  const AccelConfig hz = accel({{"array", {{"pe", "lu"}}}, {"energy_pj", {{"model", "horowitz45"}}}});
  CHECK(hz.energy.mac_pj("lu", Pairing::LxU, "cnn") == 0.199);
  CHECK(hz.energy.idle_pj(pe_spec("lu")) == 0);
  // SRAM: the 45 nm power law, and in the activity model x16 (C*V^2 from 45 nm, 0.9 V to 0.18 um, 1.8 V).
  CHECK(hz.energy.sram_pj_per_byte(8 * 1024, false) == Approx(10.0 / 8));
  CHECK(act.energy.sram_pj_per_byte(8 * 1024, false) == Approx(16 * 10.0 / 8));
  CHECK(act.energy.dram_pj_per_byte == hz.energy.dram_pj_per_byte);
  // A composite's idle energy is its largest part's (shared registers).
  CHECK(act.energy.idle_pj(pe_spec("int8+ua")) == std::max(act.energy.idle_pj(pe_spec("int8")), act.energy.idle_pj(pe_spec("ua"))));
  // The config's numbers win; the model and the overrides round-trip through to_json (explore
  // builds each point's config from it).
  const AccelConfig over = accel({{"energy_pj", {{"model", "horowitz45"}, {"mac", {{"lu", 2.5}}}, {"idle", {{"lu", 1.5}}}}}});
  CHECK(over.energy.mac_pj("lu", Pairing::LxU, "cnn") == 2.5);
  CHECK(over.energy.idle_pj(pe_spec("lu")) == 1.5);
  const AccelConfig again = parse_accel(to_json(over), "again");
  CHECK(again.energy.model == "horowitz45");
  CHECK(again.energy.mac_pj("lu", Pairing::LxU, "cnn") == 2.5);
  CHECK(again.energy.mac_pj("int8", Pairing::UxU, "cnn") == 0.3);
  CHECK(parse_accel(to_json(act), "again").energy.model == "activity");
  CHECK_THROWS_WITH(accel({{"energy_pj", {{"model", "45nm"}}}}), Catch::Contains("test.energy_pj.model: energy model '45nm'"));
}

TEST_CASE("activity energies are results/power.csv's rows: family and pairing matched, then fallbacks", "[sim]") {
  // The file sim compiled in is the committed one.
  std::ifstream f(std::string(LOGQ_SOURCE_DIR) + "/results/power.csv");
  REQUIRE(f);
  std::string line;
  std::getline(f, line);
  std::map<std::string, std::vector<std::pair<double, double>>> row;  // family/kind/pairing -> (pJ/MAC, idle) per model
  size_t rows = 0;
  while (std::getline(f, line)) {
    std::vector<std::string> c;
    std::istringstream in(line);
    std::string cell;
    while (std::getline(in, cell, ',')) c.push_back(cell);
    REQUIRE(c.size() >= 15);
    row[c.back() + "/" + c[1] + "/" + c[2]].push_back({std::stod(c[6]), std::stod(c[7])});
    ++rows;
  }
  REQUIRE(rows == measured_mac_energies().size());
  const EnergyTable& e = default_accel().energy;
  const auto dyn = [&](const std::string& key) {  // the mean over the models measured
    double s = 0;
    for (const auto& [mac, idle] : row.at(key)) s += mac - idle;
    return s / double(row.at(key).size());
  };
  // Matched: the lu PE on a CNN's L x U layers and on a transformer's.
  CHECK(e.mac_pj("lu", Pairing::LxU, "cnn") == Approx(dyn("cnn/lu/LxU")));
  CHECK(e.mac_pj("lu", Pairing::LxU, "transformer") == Approx(dyn("transformer/lu/LxU")));
  CHECK(e.mac_pj("lula", Pairing::LxA, "transformer") == Approx(dyn("transformer/lula/LxA")));
  CHECK(e.idle_pj(pe_spec("int8")) == Approx(row.at("cnn/int8/UxU")[0].second));
  CHECK(e.mac_pj("universal", Pairing::UxU, "transformer") == Approx(dyn("transformer/universal/UxU")));  // two models' mean
  // No transformer has U(6) layers: uu6 falls back to its CNN measurement.
  CHECK(e.mac_pj("uu6", Pairing::UxU, "transformer") == Approx(dyn("cnn/uu6/UxU")));
  // A topology row (pairing unknown) of unknown family: the mean of the kind's measurements.
  CHECK(e.mac_pj("int8", std::nullopt, "") == Approx((dyn("cnn/int8/UxU") + dyn("transformer/int8/UxU")) / 2));
  // The data matter: the same int8 PE costs more per MAC on the ViT's layers than on the ResNet's
  // (post-ReLU zeros), which a table by area cannot see.
  CHECK(dyn("transformer/int8/UxU") > 1.2 * dyn("cnn/int8/UxU"));
}

TEST_CASE("SCALE-Sim output-stationary cycles on small shapes, by hand", "[sim]") {
  // R = C = 4, M = 5, N = 3, K = 7: 2 folds x (7 + 4 + 4 - 2) = 26; the RTL 2 x (7 + 4 + 4 - 1) + 4 = 32.
  CHECK(scalesim_os_cycles(4, 4, 5, 3, 7) == 26);
  const AccelConfig a44 = accel({{"array", {{"rows", 4}, {"cols", 4}}}, {"clock_mhz", 1}});
  CHECK(block_cycles(a44, 5, 3, 7) == 32);
  // R = 2, C = 3, one fold, K = 1: ifmap demand 1 + (3 - 1) rows, skewed over 2 rows: 4 cycles.
  CHECK(scalesim_os_cycles(2, 3, 2, 3, 1) == 4);
  const AccelConfig a23 = accel({{"array", {{"rows", 2}, {"cols", 3}}}, {"clock_mhz", 1}});
  CHECK(block_cycles(a23, 2, 3, 1) == 7);
  // 8 x 8, DeiT-Tiny qkv: 25 x 72 folds x (192 + 14) = 370,800; the RTL 372,608 (docs/rtl.md).
  CHECK(scalesim_os_cycles(8, 8, 197, 576, 192) == 370800);
  // The relation on random shapes: rtl = scalesim + tiles + R.
  std::mt19937 rng(3);
  for (int i = 0; i < 200; ++i) {
    const int R = 1 + int(rng() % 32), C = 1 + int(rng() % 32);
    const int64_t M = 1 + rng() % 500, N = 1 + rng() % 500, K = 1 + rng() % 2000;
    const AccelConfig a = accel({{"array", {{"rows", R}, {"cols", C}}}, {"clock_mhz", 1}});
    const int64_t tiles = ((M + R - 1) / R) * ((N + C - 1) / C);
    CHECK(block_cycles(a, M, N, K) == scalesim_os_cycles(R, C, M, N, K) + uint64_t(tiles + R));
  }
}

TEST_CASE("bad hardware configs and topologies are clear errors", "[sim]") {
  const auto err = [](const json& j) {
    try {
      parse_accel(j, "hw.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(err({{"array", {{"pe", "fp32"}}}}), Catch::Contains("hw.json.array.pe: unknown PE kind 'fp32'"));
  CHECK_THAT(err({{"dram", {{"bandwidth_gbps", 0}}}}), Catch::Contains("hw.json.dram.bandwidth_gbps: must be > 0"));
  CHECK_THAT(err({{"arrray", {}}}), Catch::Contains("unknown key 'arrray'"));
  CHECK_THAT(err({{"array", {{"rows", 0}}}}), Catch::Contains("hw.json.array.rows: must be 1..256"));
  CHECK_THAT(err({{"sram", {{"act_kib", -1}}}}), Catch::Contains("act_kib: must be > 0"));
  CHECK_THAT(err({{"energy_pj", {{"mac", {{"int9", 1.0}}}}}}), Catch::Contains("unknown key 'int9'"));
  CHECK_THAT(err({{"vector", {{"lanes", 0}}}}), Catch::Contains("hw.json.vector.lanes: must be 1..4096"));
  CHECK_THAT(err({{"vector", {{"cycles_per_element", {{"tanh", 1}}}}}}), Catch::Contains("hw.json.vector.cycles_per_element: unknown op 'tanh'"));
  CHECK_THAT(err({{"vector", {{"cycles_per_element", {{"gelu", -1}}}}}}), Catch::Contains("hw.json.vector.cycles_per_element.gelu: expected a number in [0, 1000]"));
  CHECK_THAT(err({{"vector", {{"cycles_per_element", {{"gelu", 1001}}}}}}), Catch::Contains("expected a number in [0, 1000]"));
  CHECK_THAT(err({{"vector", {{"enable", true}}}}), Catch::Contains("hw.json.vector: unknown key 'enable'"));
  CHECK_THAT(err({{"vector", 3}}), Catch::Contains("hw.json.vector: expected a JSON object"));
  // A layer whose one tile does not fit, and a PE kind that cannot run the layer.
  const AccelConfig tiny = accel({{"array", {{"rows", 16}, {"cols", 16}}}, {"clock_mhz", 100}, {"sram", {{"act_kib", 4}}}});
  SimLayer l = gemm_layer("blocks.0.mlp.fc2", 197, 192, 768);
  // K = 768 does not fit the 128-word banks: six chunks of 128 (K-splitting), unless even the
  // output SRAM cannot hold one tile of partial sums, or a bank not one word.
  const LayerPlan split = plan_layer(l, tiny);
  CHECK(split.k_chunks == 6);
  CHECK(split.Kb == 128);
  const AccelConfig no_out = accel({{"array", {{"rows", 16}, {"cols", 16}}}, {"clock_mhz", 100}, {"sram", {{"act_kib", 4}, {"out_kib", 1}}}});
  CHECK_THROWS_WITH(plan_layer(l, no_out), Catch::Contains("layer 'blocks.0.mlp.fc2': the 1 KiB output SRAM holds 85 48-bit partial sums (K-split)") &&
                                                Catch::Contains("less than one 16x16 tile"));
  const AccelConfig no_bank = accel({{"array", {{"rows", 16}, {"cols", 16}}}, {"clock_mhz", 100}, {"sram", {{"act_kib", 0.01}}}});
  CHECK_THROWS_WITH(plan_layer(l, no_bank), Catch::Contains("layer 'blocks.0.mlp.fc2'") && Catch::Contains("not one column of K"));
  SimLayer ua = l;
  ua.pairing = Pairing::UxA;
  ua.pairing_known = true;
  const AccelConfig lu = accel({{"array", {{"pe", "lu"}}}, {"clock_mhz", 100}});
  CHECK_THROWS_WITH(check_workload(Workload{"w", "t", {ua}}, lu), Catch::Contains("is UxA") && Catch::Contains("'lu' PE array cannot run it"));
  CHECK_THROWS_WITH(make_rtl_backend(lu), Catch::Contains("4x4 universal"));
  // Vector work beyond what SystemC's 64-bit picosecond time holds is refused, naming the layer.
  SimLayer huge = gemm_layer("blocks.0.mlp.fc1", 197, 192, 768);
  huge.vector_work = {{"softmax", int64_t{1} << 40, 1, "blocks.0.attn.softmax"}};
  const AccelConfig slow = accel({{"clock_mhz", 100}, {"vector", {{"lanes", 1}, {"cycles_per_element", {{"softmax", 1000}}}}}});
  CHECK_THROWS_WITH(check_workload(Workload{"w", "t", {huge}}, slow), Catch::Contains("layer 'blocks.0.mlp.fc1': the vector unit's work is 1.1e+15 cycles"));
  const std::string bad = "/tmp/logq_test_bad_topology.csv";
  std::ofstream(bad) << "Layer, M, N, K,\nfc, 10, x, 3,\n";
  CHECK_THROWS_WITH(workload_from_topology(bad), Catch::Contains(":2 N: 'x' is not a whole number"));
  std::ofstream(bad) << "Layer, M, N,\n";
  CHECK_THROWS_WITH(workload_from_topology(bad), Catch::Contains("expected a SCALE-Sim header"));
  std::remove(bad.c_str());
  CHECK_THROWS_WITH(load_accel("/nonexistent/hw.json"), Catch::Contains("/nonexistent/hw.json: cannot open"));
}

TEST_CASE("topologies: ResNet-18 and DeiT-Tiny shapes", "[sim]") {
  const Workload r18 = committed_topology("resnet18");
  int64_t macs = 0;
  for (const auto& l : r18.layers) macs += l.macs();
  CHECK(macs == 1814073344);  // torchvision ResNet-18 at 224: 1.81 GMACs (conv + fc)
  CHECK(r18.layers[0].M == 112 * 112);
  CHECK(r18.layers[0].K == 7 * 7 * 3);
  const Workload deit = committed_topology("deit_tiny_patch16_224");
  macs = 0;
  for (const auto& l : deit.layers) macs += l.macs();
  CHECK(deit.layers.size() == 122);
  CHECK(macs == 1253683200);  // patch embed + 12 x (qkv, 3 x 2 attention matmuls, proj, fc1, fc2) + head
}

TEST_CASE("composite PE kinds: each layer on the part that takes it with its MAC energy, widths are checked", "[sim]") {
  const PeSpec& k = pe_spec("int8+ua");
  CHECK(k.takes(Pairing::UxU, 4, 8));
  CHECK(k.takes(Pairing::UxA, 4, 4));
  CHECK_FALSE(k.takes(Pairing::UxA, 4, 6));  // the U(4) x A(4) datapath takes AdaLog codes of up to 4 bits
  CHECK_FALSE(k.takes(Pairing::LxU, 4, 8));
  CHECK(k.part_for(Pairing::UxU, 4, 8).name == "int8");
  CHECK(k.part_for(Pairing::UxA, 4, 4).name == "ua");
  CHECK(pe_spec("universal").takes(Pairing::LxA, 5, 6));
  CHECK_FALSE(pe_spec("lu").takes(Pairing::LxU, 5, 8));
  CHECK_FALSE(pe_spec("uu4").takes(Pairing::UxU, 4, 8));
  const AccelConfig hw = accel({{"array", {{"rows", 4}, {"cols", 4}, {"pe", "int8+ua"}}}, {"clock_mhz", 100},
                                {"energy_pj", {{"mac", {{"int8", 1.0}, {"ua", 10.0}}}, {"idle", {{"int8", 0.0}, {"ua", 0.0}}}}}});
  SimLayer uu = gemm_layer("uu", 8, 8, 8);
  uu.pairing_known = true;
  uu.w_fmt_bits = 4;
  SimLayer ua = uu;
  ua.name = "ua";
  ua.pairing = Pairing::UxA;
  ua.a_fmt_bits = 4;
  const json r = simulate_in_child(Workload{"w", "test", {uu, ua}}, hw, "fast");
  CHECK(r["layers"][0]["energy_pj"]["mac"].get<double>() == Approx(512 * 1.0));
  CHECK(r["layers"][1]["energy_pj"]["mac"].get<double>() == Approx(512 * 10.0));
  CHECK(r["total"]["energy_pj"]["mac"].get<double>() == Approx(512 * 11.0));
  SimLayer wide = ua;
  wide.a_fmt_bits = 6;
  CHECK_THROWS_WITH(check_workload(Workload{"w", "t", {wide}}, hw), Catch::Contains("wider than the 'int8+ua' PE takes"));
  CHECK_THROWS_WITH(parse_accel({{"energy_pj", {{"mac", {{"int8+ua", 1.0}}}}}}, "hw.json"), Catch::Contains("unknown key 'int8+ua'"));
}

namespace {

// Two convolutions that only one lowering gets right everywhere: an AdaLog-input 3x3 conv with
// padding 1 (its padding must be the AdaLog zero state, not code 0 = the largest value) and a
// depthwise 3x3 conv (groups = channels), with two sample images.
LqmFile padded_adalog_and_depthwise_model(const std::string& path) {
  std::mt19937 rng(11);
  QLayer a;
  a.name = "conv_a";
  a.op = LayerOp::Conv2d;
  a.pairing = Pairing::UxA;
  a.conv = Conv2dShape{2, 5, 5, 3, 3, 3, 1, 1, 1, 1};
  a.out_features = 3;
  a.in_features = 2 * 3 * 3;
  for (int i = 0; i < 3 * 18; ++i) a.w_codes.push_back(int32_t(rng() % 16));
  a.w_uniform = UniformParams{4, {0.1f, 0.05f, 0.2f}, {8, 7, 8}};
  a.x_adalog.table = make_adalog_table(4, 37);
  a.x_adalog.scale = 1.0f;
  a.hw = default_hw_config({Pairing::UxA, 4, 4, &a.x_adalog.table, -1}, a.in_features);
  QLayer d;
  d.name = "conv_dw";
  d.op = LayerOp::Conv2d;
  d.pairing = Pairing::UxU;
  d.conv = Conv2dShape{3, 5, 5, 3, 3, 3, 1, 1, 1, 3};
  d.out_features = 3;
  d.in_features = 9;
  for (int i = 0; i < 27; ++i) d.w_codes.push_back(int32_t(rng() % 16));
  d.w_uniform = UniformParams{4, {0.1f, 0.1f, 0.1f}, {8, 8, 8}};
  d.x_uniform = UniformParams{8, {0.05f}, {128}};
  d.hw = default_hw_config({Pairing::UxU, 4, 8, nullptr, -1}, d.in_features);
  json graph = {{"model", {{"name", "pads"}, {"input_shape", {2, 5, 5}}}}, {"inputs", {"image"}}, {"outputs", {"conv_dw"}}, {"layers", json::array()}};
  SafetensorsWriter w;
  add_layer(graph, w, a, {"image"}, {"conv_a"});
  graph["layers"].push_back({{"name", "act"}, {"op", "relu"}, {"inputs", {"conv_a"}}, {"outputs", {"act"}}});
  add_layer(graph, w, d, {"act"}, {"conv_dw"});
  std::vector<float> images(2 * 50);
  for (float& v : images) v = float(rng() % 1000) / 1000.0f;  // AdaLog takes (0, 1]: every code appears
  w.add("samples/images", DType::F32, {2, 2, 5, 5}, images);
  write_lqm(path, graph, std::move(w), "test_sim");
  return LqmFile::open(path);
}

}  // namespace

TEST_CASE("golden, verify's lowering and sim agree on an AdaLog-input padded conv and a depthwise conv", "[sim][rtl][lower]") {
  const std::string path = "/tmp/logq_test_pads_" + std::to_string(getpid()) + ".lqm";
  const LqmFile f = padded_adalog_and_depthwise_model(path);
  Network net(f);
  std::map<std::string, std::vector<int32_t>> codes;
  std::map<std::string, std::vector<int64_t>> accs;
  net.on_codes = [&](const std::string& l, const std::vector<int32_t>& x, const std::vector<int32_t>&) { codes[l] = x; };
  net.on_output = [&](const std::string& l, const LayerOutput& o) { accs[l] = o.acc; };
  const auto img = f.file().read<float>("samples/images", DType::F32);
  net.run(std::vector<float>(img.begin(), img.begin() + 50));
  auto rtl = make_rtl_array_universal_4x4();
  const Workload w = workload_from_lqm(f);
  REQUIRE(w.layers.size() == 2);
  for (size_t li = 0; li < 2; ++li) {
    const GemmRecord& g = net.gemms()[li];
    const SimLayer& sl = w.layers[li];
    const WeightOperand wo = weight_operand(g.layer);
    int64_t jobs = 0, pads = 0;
    lower_layer(g.layer, wo.d.data(), nullptr, codes.at(g.name), 1, {}, [&](const GemmProblem& p, const JobPlace& at) {
      // sim's workload has the lowering's shapes
      CHECK(sl.M == p.M);
      CHECK(sl.N == p.N);
      CHECK(sl.K == p.K);
      CHECK(sl.count == at.count);
      // verify: the RTL on the lowered job equals the network's own accumulators
      std::vector<int64_t> want(size_t(p.M * p.N));
      for (int64_t m = 0; m < p.M; ++m)
        for (int64_t n = 0; n < p.N; ++n) want[size_t(m * p.N + n)] = accs.at(g.name).at(size_t(at.at(m, n)));
      VerifyOptions vo;
      vo.expected = &want;
      const VerifyReport rep = verify_gemm(*rtl, p, g.layer.hw, vo);
      INFO(rep.mismatch);
      CHECK(rep.pass);
      CHECK(rep.cycles == block_cycles(accel({{"array", {{"rows", 4}, {"cols", 4}}}, {"clock_mhz", 100}}), p.M, p.N, p.K));
      ++jobs;
      if (li == 0) {
        for (int64_t i = 0; i < p.M * p.K; ++i) pads += p.x[i] == g.layer.x_adalog.table.zero_code;
        // The padding the old verify used (code 0, the largest AdaLog value) changes the result: a
        // lowering that pads wrongly fails verify.
        std::vector<int32_t> cols;
        im2col(g.layer.conv, codes.at(g.name).data(), 0, 0, cols);
        GemmProblem bad = p;
        bad.x = cols.data();
        vo.expected = &want;
        CHECK_FALSE(verify_gemm(*rtl, bad, g.layer.hw, vo).pass);
      }
    });
    CHECK(jobs == (li == 0 ? 1 : 3));  // one group; three depthwise groups
    if (li == 0) CHECK(pads >= 2 * 16);  // the border of a 5x5 image under a 3x3 kernel, both channels
  }
  // The command itself: `logq verify --all` passes on both layers of both images.
  const std::string vj = path + ".verify.json";
  REQUIRE(std::system((std::string(LOGQ_BINARY) + " verify '" + path + "' --all --images 2 --json '" + vj + "' > /dev/null").c_str()) == 0);
  {
    std::ifstream in(vj);
    const json v = json::parse(in);
    CHECK(v.at("passed") == 4);
    CHECK(v.at("failed") == 0);
  }
  std::remove(vj.c_str());
  // sim on the RTL back-end with the model's own operands: the fast model's cycles, every block checked.
  const AccelConfig hw = accel({{"array", {{"rows", 4}, {"cols", 4}}}, {"clock_mhz", 100}});
  const json fast = simulate_in_child(w, hw, "fast"), on_rtl = simulate_in_child(w, hw, "rtl", &f);
  REQUIRE(on_rtl.contains("total"));
  CHECK(on_rtl["backend"] == "rtl");
  CHECK(on_rtl["total"]["total_cycles"] == fast["total"]["total_cycles"]);
  std::remove(path.c_str());
}

TEST_CASE("vector unit: the model's graph gives each layer its dequantization, float ops and the next input's quantization", "[sim][vector]") {
  const std::string path = "/tmp/logq_test_vector_" + std::to_string(getpid()) + ".lqm";
  const LqmFile f = padded_adalog_and_depthwise_model(path);
  const Workload w = workload_from_lqm(f);
  REQUIRE(w.layers.size() == 2);
  const auto ops = [](const SimLayer& l) {
    std::vector<std::string> o;
    for (const VectorWork& v : l.vector_work) o.push_back(fmt::format("{} {} x{}", v.op, v.elements, v.weight));
    return o;
  };
  // conv_a: its A(4) input (2x5x5, four compares each), its 3x5x5 outputs, the ReLU between the
  // convolutions, and conv_dw's U(8) input; conv_dw: its outputs.
  CHECK(ops(w.layers[0]) == std::vector<std::string>{"quantize_adalog 50 x4", "dequant 75 x1", "quantize_u 75 x1", "relu 75 x1"});
  CHECK(ops(w.layers[1]) == std::vector<std::string>{"dequant 75 x1"});
  VectorConfig c;
  CHECK(vector_lane_cycles(w.layers[0].vector_work, c) == 50 * 4 + 75 + 75 + 75);
  CHECK(vector_cycles(w.layers[0].vector_work, c, 4) == 107);  // ceil(425 / 4)
  c.cycles["relu"] = 0;  // fused into the quantizer
  CHECK(vector_lane_cycles(w.layers[0].vector_work, c) == 350);
  CHECK(vector_sram_reads(w.layers[0].vector_work) == 50 + 75 + 75 + 75);
  CHECK(vector_dram_words(w.layers[0].vector_work) == 0);
  std::remove(path.c_str());
}

TEST_CASE("vector unit: the rules for topologies' timm and torchvision names", "[sim][vector]") {
  const Workload d = workload_from_topology(kRoot + "/configs/topologies/deit_tiny_patch16_224.csv");
  std::map<std::string, int> count;
  std::map<std::string, const SimLayer*> by;
  for (const SimLayer& l : d.layers) {
    by[l.name] = &l;
    for (const VectorWork& v : l.vector_work) ++count[v.op];
  }
  CHECK(count["softmax"] == 12 * 3);       // one per block and head
  CHECK(count["layernorm"] == 2 * 12 + 1);  // norm1 and norm2 of every block, the final norm
  CHECK(count["gelu"] == 12);
  CHECK(count["add"] == 2 * 12 + 1);        // two residuals per block, the position embedding
  CHECK(count["dequant"] == int(d.layers.size()));
  const auto has = [](const SimLayer* l, const std::string& op, int64_t elements) {
    for (const VectorWork& v : l->vector_work)
      if (v.op == op && v.elements == elements) return true;
    return false;
  };
  CHECK(has(by.at("blocks.0.mlp.fc1"), "gelu", 197 * 768));
  CHECK(has(by.at("blocks.3.attn.matmul1.h2"), "softmax", 197 * 197));
  CHECK(has(by.at("blocks.11.mlp.fc2"), "layernorm", 197 * 192));
  CHECK(has(by.at("blocks.0.mlp.fc1"), "quantize_u", 197 * 768));  // fc2's input
  const Workload r = workload_from_topology(kRoot + "/configs/topologies/resnet18.csv");
  for (const SimLayer& l : r.layers) by[l.name] = &l;
  CHECK(has(by.at("layer1.0.conv2"), "add", 56 * 56 * 64));  // a BasicBlock's residual
  CHECK_FALSE(has(by.at("layer1.0.conv1"), "add", 56 * 56 * 64));
  CHECK(has(by.at("layer4.1.conv2"), "adaptive_avgpool2d", 7 * 7 * 512));  // before fc
  CHECK(has(by.at("conv1"), "relu", 112 * 112 * 64));
}

TEST_CASE("vector unit: its cycles overlap the array block by block, its energy and traffic are counted, off is the array alone", "[sim][vector]") {
  const std::string topo = "/tmp/logq_test_vector_" + std::to_string(getpid()) + ".csv";
  std::ofstream(topo) << "Layer, M, N, K,\nblocks.0.mlp.fc1, 256, 64, 32,\n";  // a GELU after it
  const Workload w = workload_from_topology(topo);
  std::remove(topo.c_str());
  const json hwj = {{"array", {{"rows", 4}, {"cols", 4}}}, {"clock_mhz", 100},
                    {"sram", {{"act_kib", 1}, {"weight_kib", 1}, {"out_kib", 4}}},
                    {"vector", {{"lanes", 1}, {"pj_per_lane_cycle", 2.0}}}};
  const AccelConfig hw = accel(hwj);
  json off_j = hwj;
  off_j["vector"]["enabled"] = false;
  const json on = simulate_in_child(w, hw, "fast"), alone = simulate_in_child(w, accel(off_j), "fast");
  const json& a = on.at("layers")[0];
  const json& b = alone.at("layers")[0];
  // Its own input's quantizer (the first layer), dequant 1 and GELU 2 per output.
  const double lane_cycles = vector_lane_cycles(w.layers[0].vector_work, hw.vector);
  CHECK(lane_cycles == 256 * 32 + 256 * 64 * (1 + 2));
  CHECK(a.at("vector_cycles") == uint64_t(lane_cycles));
  CHECK(a.at("energy_pj").at("vector").get<double>() == Approx(lane_cycles * 2.0));
  CHECK(b.at("vector_cycles") == 0);
  CHECK(b.at("energy_pj").at("vector") == 0.0);
  CHECK(b.at("vector_work").empty());
  // The unit reads its inputs in the output SRAM: once per element for each of the three ops.
  CHECK(a.at("sram").at("out").at("reads").get<int64_t>() - b.at("sram").at("out").at("reads").get<int64_t>() == 256 * 32 + 2 * 256 * 64);
  const uint64_t compute = a.at("compute_cycles"), vec = a.at("vector_cycles"), total = a.at("total_cycles");
  CHECK(compute == b.at("compute_cycles"));
  CHECK(vec > compute);          // vector-bound: 3.5 lane-cycles per output on one lane
  CHECK(total >= vec);
  CHECK(total < compute + vec);  // overlapped: block i's vector work runs under block i+1's compute
  CHECK(total > b.at("total_cycles").get<uint64_t>());
}
