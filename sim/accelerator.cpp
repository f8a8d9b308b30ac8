#include "sim/accelerator.h"

#include <chrono>
#include <cmath>
#include <random>

#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <fmt/format.h>

#include "io/error.h"
#include "testbenches/random_jobs.h"
#include "testbenches/rtl_array.h"

namespace logq::sim {

namespace {

using namespace sc_core;

// One clock cycle is 1 ns of SystemC time: cycle counts stay exact integers whatever the clock.
sc_time cycles(uint64_t n) { return sc_time(double(n), SC_NS); }
uint64_t now_cycles() { return static_cast<uint64_t>(sc_time_stamp().to_seconds() * 1e9 + 0.5); }

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// DRAM: one channel. A transfer occupies it for ceil(bytes / bytes-per-cycle) cycles, after the
// transfers before it; its data arrives `latency` cycles after its slot (pipelined latency).
struct Dram : sc_module {
  tlm_utils::simple_target_socket<Dram> socket{"socket"};
  double bytes_per_cycle;
  uint64_t latency;
  uint64_t busy_until = 0;
  int64_t read_bytes = 0, write_bytes = 0;

  Dram(sc_module_name n, double bpc, uint64_t lat) : sc_module(n), bytes_per_cycle(bpc), latency(lat) {
    socket.register_b_transport(this, &Dram::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
    const int64_t bytes = t.get_data_length();
    const uint64_t start = std::max(now_cycles() + static_cast<uint64_t>(delay.to_seconds() * 1e9 + 0.5), busy_until);
    const auto slot = static_cast<uint64_t>(std::ceil(double(bytes) / bytes_per_cycle - 1e-9));
    busy_until = start + slot;
    delay = cycles(start + slot + latency - now_cycles());
    (t.is_write() ? write_bytes : read_bytes) += bytes;
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

// DMA engine: moves byte counts between DRAM and the SRAM buffers. The payload carries the length
// only: the operand values themselves live in golden/ (and in the RTL back-end's buffers).
struct Dma : sc_module {
  tlm_utils::simple_initiator_socket<Dma> socket{"socket"};
  unsigned char scratch = 0;
  explicit Dma(sc_module_name n) : sc_module(n) {}
  void transfer(int64_t bytes, bool write) {  // blocks the calling thread until the data is there
    if (bytes <= 0) return;
    tlm::tlm_generic_payload t;
    t.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    t.set_address(0);
    t.set_data_ptr(&scratch);
    t.set_data_length(static_cast<unsigned>(bytes));
    t.set_streaming_width(static_cast<unsigned>(bytes));
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time delay = SC_ZERO_TIME;
    socket->b_transport(t, delay);
    if (t.get_response_status() != tlm::TLM_OK_RESPONSE) throw Error("DMA: DRAM transfer failed");
    wait(delay);
  }
};

struct Job {  // one block of one layer instance
  size_t layer = 0;
  int64_t instance = 0;
  Block block;
  bool last_of_layer = false;
};

// A layer's vector work (sim/vector_unit.h), shared out over its blocks by their outputs.
struct VectorLayer {
  uint64_t cycles = 0;
  int64_t outputs = 0, done = 0;  // the layer's outputs (all instances) and those through the unit so far
  int64_t dram_bytes = 0, sram_reads = 0, sram_writes = 0;
  double lane_cycles = 0;
};

VectorLayer vector_layer(const SimLayer& l, const AccelConfig& hw) {
  VectorLayer v;
  v.outputs = l.M * l.N * l.count;
  if (!hw.vector.enabled) return v;
  v.cycles = vector_cycles(l.vector_work, hw.vector, hw.vector_lanes());
  v.lane_cycles = vector_lane_cycles(l.vector_work, hw.vector);
  v.dram_bytes = words_to_bytes(vector_dram_words(l.vector_work), hw.out_bits);
  v.sram_reads = vector_sram_reads(l.vector_work);
  v.sram_writes = vector_sram_writes(l.vector_work);
  return v;
}

// The controller: a loader (DMA reads into the free buffer half), the array (one block at a time),
// the vector unit (the non-GEMM work on each block's outputs) and a writer (DMA write-back of each
// block's outputs), handing blocks on through FIFOs; each
// buffer set has two halves when double-buffered (one otherwise). Layers run one after another:
// a layer's loads start when the previous layer's outputs are written back (its input).
struct Controller : sc_module {
  const Workload& w;
  const AccelConfig& hw;
  ArrayBackend& array;
  const std::vector<LayerPlan>& plans;
  Dma& dma;
  std::vector<LayerReport>& rep;
  sc_fifo<int> loaded{"loaded", 2}, computed{"computed", 2}, vectored{"vectored", 2};
  std::vector<VectorLayer> vec;
  sc_semaphore in_slots, out_slots;
  std::vector<Job> jobs;
  sc_event layer_written;
  size_t layers_written = 0;
  std::vector<uint64_t> layer_start;

  SC_HAS_PROCESS(Controller);
  Controller(sc_module_name n, const Workload& w_, const AccelConfig& hw_, ArrayBackend& a, const std::vector<LayerPlan>& p, Dma& d,
             std::vector<LayerReport>& r)
      : sc_module(n), w(w_), hw(hw_), array(a), plans(p), dma(d), rep(r), vec(w_.layers.size()), in_slots(hw_.double_buffer ? 2 : 1),
        out_slots(hw_.double_buffer ? 2 : 1), layer_start(w_.layers.size(), 0) {
    for (size_t li = 0; li < w.layers.size(); ++li) {
      if (w.layers[li].float_input) continue;
      vec[li] = vector_layer(w.layers[li], hw);
      for (int64_t inst = 0; inst < w.layers[li].count; ++inst)
        for (const Block& b : plans[li].blocks) jobs.push_back({li, inst, b, false});
      jobs.back().last_of_layer = true;
    }
    SC_THREAD(loader);
    SC_THREAD(compute);
    SC_THREAD(vector_unit);
    SC_THREAD(writer);
  }

  void loader() {
    size_t prev_layer = SIZE_MAX;
    for (size_t i = 0; i < jobs.size(); ++i) {
      const Job& j = jobs[i];
      if (j.layer != prev_layer) {
        if (prev_layer != SIZE_MAX)
          while (layers_written < layers_done_before(i)) wait(layer_written);
        layer_start[j.layer] = now_cycles();
        prev_layer = j.layer;
      }
      in_slots.wait();
      const LayerPlan& p = plans[j.layer];
      const SimLayer& l = w.layers[j.layer];
      LayerReport& r = rep[j.layer];
      if (j.block.load_a) {
        const int64_t fetched = a_fetch_words(l, j.block.m0, j.block.mb, j.block.kb), words = j.block.mb * j.block.kb;
        dma.transfer(words_to_bytes(fetched, p.a_bits), false);
        r.dram_act_bytes += words_to_bytes(fetched, p.a_bits);
        r.sram_act.writes += words;  // the im2col rows the A banks receive
        r.sram_act.write_bytes += words_to_bytes(words, p.a_bits);
      }
      if (j.block.load_w) {
        const int64_t words = j.block.nb * j.block.kb;
        dma.transfer(words_to_bytes(words, p.w_bits), false);
        r.dram_weight_bytes += words_to_bytes(words, p.w_bits);
        r.sram_weight.writes += words;
        r.sram_weight.write_bytes += words_to_bytes(words, p.w_bits);
      }
      loaded.write(static_cast<int>(i));
    }
  }

  // Layers fully written back before job i's layer may load (all earlier layers).
  size_t layers_done_before(size_t i) const {
    size_t n = 0;
    for (size_t k = 0; k < i; ++k) n += jobs[k].last_of_layer;
    return n;
  }

  void compute() {
    for (size_t k = 0; k < jobs.size(); ++k) {
      int i = -1;
      loaded.read(i);
      const Job& j = jobs[size_t(i)];
      const Block& b = j.block;
      if (b.first_k) out_slots.wait();  // a K-split block's chunks share one output slot
      const SimLayer& l = w.layers[j.layer];
      const LayerPlan& p = plans[j.layer];
      LayerReport& r = rep[j.layer];
      const uint64_t c = array.run(l, j.instance, b);
      const int64_t tm = ceil_div(b.mb, hw.rows), tn = ceil_div(b.nb, hw.cols), outs = b.mb * b.nb;
      r.compute_cycles += c;
      r.tiles += tm * tn;
      r.tile_k += tm * tn * b.kb;
      r.blocks += 1;
      // Each tile reads its R rows of A and C rows of W over its K columns (SCALE-Sim's ifmap/filter reads).
      r.sram_act.reads += b.mb * b.kb * tn;
      r.sram_act.read_bytes += words_to_bytes(b.mb * b.kb * tn, p.a_bits);
      r.sram_weight.reads += b.nb * b.kb * tm;
      r.sram_weight.read_bytes += words_to_bytes(b.nb * b.kb * tm, p.w_bits);
      // K-split: a later chunk reads the partial sums it adds to; all but the last write them back.
      if (!b.first_k) {
        r.sram_out.reads += outs;
        r.sram_out.read_bytes += words_to_bytes(outs, p.psum_bits);
      }
      r.sram_out.writes += outs;
      r.sram_out.write_bytes += words_to_bytes(outs, b.last_k ? p.out_bits : p.psum_bits);
      wait(cycles(c));
      in_slots.post();
      computed.write(i);
    }
  }

  // The non-GEMM work of each finished block of outputs, its share of the layer's by outputs; the
  // second operand of an add comes from DRAM as the block arrives.
  void vector_unit() {
    for (size_t k = 0; k < jobs.size(); ++k) {
      int i = -1;
      computed.read(i);
      const Job& j = jobs[size_t(i)];
      if (j.block.last_k) {
        VectorLayer& v = vec[j.layer];
        LayerReport& r = rep[j.layer];
        const int64_t before = v.done;
        v.done += j.block.mb * j.block.nb;
        const auto share = [&](int64_t total) {
          return int64_t(__int128(total) * v.done / v.outputs - __int128(total) * before / v.outputs);
        };
        const auto c = static_cast<uint64_t>(share(static_cast<int64_t>(v.cycles)));
        const int64_t dram = share(v.dram_bytes), reads = share(v.sram_reads), writes = share(v.sram_writes);
        const LayerPlan& p = plans[j.layer];
        dma.transfer(dram, false);
        r.dram_act_bytes += dram;
        r.sram_out.reads += reads;
        r.sram_out.read_bytes += words_to_bytes(reads, p.out_bits);
        r.sram_out.writes += writes;
        r.sram_out.write_bytes += words_to_bytes(writes, p.out_bits);
        r.vector_cycles += c;
        if (v.done == v.outputs) r.vector_lane_cycles = v.lane_cycles;
        wait(cycles(c));
      }
      vectored.write(i);
    }
  }

  void writer() {
    for (size_t k = 0; k < jobs.size(); ++k) {
      int i = -1;
      vectored.read(i);
      const Job& j = jobs[size_t(i)];
      if (!j.block.last_k) continue;  // partial sums stay in the output SRAM
      const LayerPlan& p = plans[j.layer];
      LayerReport& r = rep[j.layer];
      const int64_t words = j.block.mb * j.block.nb;
      dma.transfer(words_to_bytes(words, p.out_bits), true);
      r.dram_out_bytes += words_to_bytes(words, p.out_bits);
      r.sram_out.reads += words;
      r.sram_out.read_bytes += words_to_bytes(words, p.out_bits);
      out_slots.post();
      if (j.last_of_layer) {
        r.total_cycles = now_cycles() - layer_start[j.layer];
        ++layers_written;
        layer_written.notify(SC_ZERO_TIME);
      }
    }
  }
};

class FastBackend final : public ArrayBackend {
 public:
  explicit FastBackend(const AccelConfig& hw) : hw_(hw) {}
  std::string name() const override { return "fast"; }
  uint64_t run(const SimLayer&, int64_t, const Block& b) override { return block_cycles(hw_, b.mb, b.nb, b.kb); }

 private:
  AccelConfig hw_;
};

class RtlBackend final : public ArrayBackend {
 public:
  RtlBackend(const AccelConfig& hw, uint32_t seed) : rng_(seed), rtl_(make_rtl_array(hw.rows, hw.cols, {})) {}
  std::string name() const override { return "rtl"; }
  uint64_t run(const SimLayer& l, int64_t, const Block& b) override {
    const Pairing p = l.pairing_known ? l.pairing : Pairing::UxU;
    const RandomJob j = random_job(rng_, p, b.mb, b.nb, b.kb, false);
    logq::HwConfig hw = j.hw;
    hw.acc_bits = rtl_->config().acc_bits;
    // A K-split block's chunks add into the output buffer: golden's sum of the chunks so far.
    const std::vector<int64_t> chunk = gemm(j.problem(), hw).acc;
    if (b.first_k) partial_ = chunk;
    else add_partial_sums(partial_, chunk, hw.acc_bits);
    const RtlRunResult r = rtl_->run(j.problem(), hw, nullptr, !b.first_k);
    if (r.acc != partial_)
      throw Error(fmt::format("RTL back-end: layer '{}' block {}x{}x{} (K columns {}+{}): the Verilated array disagrees with golden/ "
                              "(run logq_rtl_regress)", l.name, b.mb, b.nb, l.K, b.k0, b.kb));
    return r.cycles;
  }

 private:
  std::mt19937 rng_;
  std::vector<int64_t> partial_;
  std::unique_ptr<RtlArray> rtl_;
};

struct Top : sc_module {
  Dram dram;
  Dma dma;
  Controller ctrl;
  Top(sc_module_name n, const Workload& w, const AccelConfig& hw, ArrayBackend& a, const std::vector<LayerPlan>& p, std::vector<LayerReport>& r)
      : sc_module(n), dram("dram", hw.dram_bytes_per_cycle(), hw.dram_latency_cycles()), dma("dma"), ctrl("ctrl", w, hw, a, p, dma, r) {
    dma.socket.bind(dram.socket);
  }
};

void add_into(LayerReport& t, const LayerReport& r) {
  t.macs += r.macs;
  t.blocks += r.blocks;
  t.tiles += r.tiles;
  t.tile_k += r.tile_k;
  t.compute_cycles += r.compute_cycles;
  t.vector_cycles += r.vector_cycles;
  t.vector_lane_cycles += r.vector_lane_cycles;
  t.energy_pj_vector += r.energy_pj_vector;
  t.stall_cycles += r.stall_cycles;
  t.total_cycles += r.total_cycles;
  for (auto [a, b] : {std::pair{&t.sram_act, &r.sram_act}, {&t.sram_weight, &r.sram_weight}, {&t.sram_out, &r.sram_out}}) {
    a->reads += b->reads;
    a->writes += b->writes;
    a->read_bytes += b->read_bytes;
    a->write_bytes += b->write_bytes;
  }
  t.dram_act_bytes += r.dram_act_bytes;
  t.dram_weight_bytes += r.dram_weight_bytes;
  t.dram_out_bytes += r.dram_out_bytes;
  t.energy_pj_mac += r.energy_pj_mac;
  t.energy_pj_sram += r.energy_pj_sram;
  t.energy_pj_dram += r.energy_pj_dram;
}

// Utilizations from the counts (a layer's or the total's).
void finish_rates(LayerReport& r, const AccelConfig& hw) {
  const double pes = double(hw.rows) * hw.cols;
  r.stall_cycles = r.total_cycles - std::min(r.total_cycles, r.compute_cycles);
  r.mapping_efficiency = r.tile_k ? double(r.macs) / (pes * double(r.tile_k)) : 0;
  r.compute_utilization = r.compute_cycles ? double(r.macs) / (pes * double(r.compute_cycles)) : 0;
  r.overall_utilization = r.total_cycles ? double(r.macs) / (pes * double(r.total_cycles)) : 0;
}

// A layer's energy: its MACs at the energy of the PE (part) that computes it plus every PE's idle
// energy on every cycle of the layer (the array is clocked throughout), SRAM and DRAM bytes.
void finish_energy(LayerReport& r, const AccelConfig& hw, double mac_pj, double vector_pj) {
  const EnergyTable& e = hw.energy;
  r.energy_pj_vector = r.vector_lane_cycles * vector_pj;
  r.energy_pj_mac = double(r.macs) * mac_pj + (r.skipped ? 0.0 : double(r.total_cycles) * hw.rows * hw.cols * e.idle_pj(hw.kind()));
  r.energy_pj_sram = double(r.sram_act.read_bytes) * e.sram_pj_per_byte(hw.act_sram_bytes, false) +
                     double(r.sram_act.write_bytes) * e.sram_pj_per_byte(hw.act_sram_bytes, true) +
                     double(r.sram_weight.read_bytes) * e.sram_pj_per_byte(hw.weight_sram_bytes, false) +
                     double(r.sram_weight.write_bytes) * e.sram_pj_per_byte(hw.weight_sram_bytes, true) +
                     double(r.sram_out.read_bytes) * e.sram_pj_per_byte(hw.out_sram_bytes, false) +
                     double(r.sram_out.write_bytes) * e.sram_pj_per_byte(hw.out_sram_bytes, true);
  r.energy_pj_dram = double(r.dram_bytes()) * e.dram_pj_per_byte;
}

// MAC energy of the single kind that computes this layer (a composite's part; a topology row: the
// first part), on the layer's pairing, as measured on this family of network.
double mac_pj_of(const SimLayer& l, const AccelConfig& hw, const std::string& family) {
  if (l.float_input) return 0;  // not run on the array
  const PeSpec& k = hw.kind();
  if (!l.pairing_known) return hw.energy.mac_pj(k.composite() ? k.parts[0] : k.name, std::nullopt, family);
  return hw.energy.mac_pj(k.part_for(l.pairing, l.w_fmt_bits, l.a_fmt_bits).name, l.pairing, family);
}

}  // namespace

uint64_t block_cycles(const AccelConfig& hw, int64_t M, int64_t N, int64_t K) { return array_cycles(hw.rows, hw.cols, M, N, K); }

uint64_t scalesim_os_cycles(int64_t R, int64_t C, int64_t M, int64_t N, int64_t K) {
  const int64_t folds = ceil_div(M, R) * ceil_div(N, C);
  return static_cast<uint64_t>(folds * (K + R + C - 2));
}

std::string topology_csv(const Workload& w) {
  std::string o = "Layer, M, N, K,\n";
  for (const SimLayer& l : w.layers) {
    if (l.float_input) continue;
    for (int64_t i = 0; i < l.count; ++i)
      o += fmt::format("{}{}, {}, {}, {},\n", l.name, l.count > 1 ? fmt::format(".{}{}", l.op == "matmul" ? "h" : "g", i) : "", l.M, l.N, l.K);
  }
  return o;
}

std::unique_ptr<ArrayBackend> make_fast_backend(const AccelConfig& hw) { return std::make_unique<FastBackend>(hw); }
std::unique_ptr<ArrayBackend> make_rtl_backend(const AccelConfig& hw, uint32_t seed) { return std::make_unique<RtlBackend>(hw, seed); }

void check_workload(const Workload& w, const AccelConfig& hw) {
  const PeSpec& k = hw.kind();
  for (const SimLayer& l : w.layers) {
    if (l.float_input) continue;
    if (l.pairing_known && !k.runs(l.pairing))
      throw Error(fmt::format("layer '{}' is {} ({}); the '{}' PE array cannot run it (kinds: {}; 'universal' runs every pairing)", l.name,
                              pairing_name(l.pairing), l.op, k.name, pe_spec_names()));
    if (l.pairing_known && !k.takes(l.pairing, l.w_fmt_bits, l.a_fmt_bits))
      throw Error(fmt::format("layer '{}' is {} with {}-bit weights and {}-bit activations, wider than the '{}' PE takes", l.name,
                              pairing_name(l.pairing), l.w_fmt_bits, l.a_fmt_bits, k.name));
    plan_layer(l, hw);
    // SystemC time counts picoseconds in 64 bits: 1.8e16 cycles of 1 ns. Refuse work near that.
    constexpr double kMaxVectorCycles = 1e15;
    if (hw.vector.enabled && vector_lane_cycles(l.vector_work, hw.vector) / hw.vector_lanes() > kMaxVectorCycles)
      throw Error(fmt::format("layer '{}': the vector unit's work is {:.3g} cycles on {} lanes, beyond the {:.0g} the cycle model takes",
                              l.name, vector_lane_cycles(l.vector_work, hw.vector) / hw.vector_lanes(), hw.vector_lanes(), kMaxVectorCycles));
  }
}

SimReport simulate(const Workload& w, const AccelConfig& hw, ArrayBackend& backend) {
  static bool elaborated = false;
  if (elaborated) throw Error("logq::sim::simulate: SystemC elaborates once per process; run each simulation in its own process");
  elaborated = true;
  check_workload(w, hw);
  hw.dram_bytes_per_cycle();  // the DRAM figures at this clock are in range (else an Error naming the config)
  hw.dram_latency_cycles();
  std::vector<LayerPlan> plans;
  std::vector<LayerReport> rep(w.layers.size());
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const SimLayer& l = w.layers[i];
    LayerReport& r = rep[i];
    r.name = l.name;
    r.op = l.op;
    r.pairing = l.pairing_known ? pairing_name(l.pairing) : "-";
    r.M = l.M, r.N = l.N, r.K = l.K, r.count = l.count;
    if (hw.vector.enabled) r.vector_work = l.vector_work;
    r.macs = l.macs();
    if (l.float_input) {
      r.skipped = true;
      r.note = "float input (the reference keeps it float): not run on the array";
      plans.emplace_back();
      continue;
    }
    plans.push_back(plan_layer(l, hw));
    r.Mb = plans.back().Mb;
    r.Nb = plans.back().Nb;
    r.weights_outer = plans.back().weights_outer;
    r.Kb = plans.back().Kb;
    r.k_chunks = plans.back().k_chunks;
  }
  const auto t0 = std::chrono::steady_clock::now();
  int64_t dram_read = 0, dram_write = 0;
  {
    sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", SC_DO_NOTHING);
    Top top("accel", w, hw, backend, plans, rep);
    sc_start();
    dram_read = top.dram.read_bytes;
    dram_write = top.dram.write_bytes;
  }
  SimReport s;
  s.hw = hw;
  s.workload = w.name;
  s.source = w.source;
  s.backend = backend.name();
  s.clock_mhz = hw.clock();
  s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.dram_target_read_bytes = dram_read;
  s.dram_target_write_bytes = dram_write;
  s.total.name = "total";
  const std::string family = workload_family(w);
  // A vector lane's operation, unless the config says: one INT8 MAC of the same cells (measured).
  const double vector_pj = hw.vector.pj_per_lane_cycle.value_or(hw.energy.mac_pj("int8", Pairing::UxU, family));
  for (size_t i = 0; i < rep.size(); ++i) {
    LayerReport& r = rep[i];
    finish_rates(r, hw);
    finish_energy(r, hw, mac_pj_of(w.layers[i], hw, family), vector_pj);
    if (!r.skipped) add_into(s.total, r);
  }
  s.total.K = 0;
  finish_rates(s.total, hw);  // mapping efficiency: MAC slots used over the slots all tiles offered
  s.layers = std::move(rep);
  return s;
}

}  // namespace logq::sim

// libsystemc's own main() calls sc_main; logq has its own main() and starts the simulation from
// simulate(), so this is never called. The linker needs it all the same.
extern "C" int sc_main(int, char*[]) { return 1; }
