#include "sim/report.h"

#include <fmt/format.h>

namespace logq::sim {

using json = nlohmann::json;

namespace {

double gbps(int64_t bytes, uint64_t cycles, double mhz) { return cycles ? double(bytes) / double(cycles) * mhz * 1e6 / 1e9 : 0; }

std::string shape(const LayerReport& r) {
  if (r.name == "total") return "";
  return fmt::format("{}x{}x{}{}", r.M, r.N, r.K, r.count > 1 ? fmt::format(" x{}", r.count) : "");
}

}  // namespace

std::string report_table(const SimReport& s) {
  const AccelConfig& h = s.hw;
  std::string o = fmt::format("{} on a {}x{} {} array at {:.1f} MHz ({} back-end); SRAM act/weight/out {}/{}/{} KiB{}, DRAM {} GB/s, {} ns\n",
                              s.workload, h.rows, h.cols, h.pe, s.clock_mhz, s.backend, h.act_sram_bytes / 1024.0, h.weight_sram_bytes / 1024.0,
                              h.out_sram_bytes / 1024.0, h.double_buffer ? " (double-buffered)" : "", h.dram_gbps, h.dram_latency_ns);
  o += fmt::format("\n{:<30} {:>5} {:>20} {:>6} {:>11} {:>10} {:>10} {:>6} {:>6} {:>6} {:>10} {:>8} {:>9}\n", "layer", "pair", "GEMM MxNxK",
                   "blocks", "compute cyc", "vector cyc", "stall cyc", "map%", "util%", "all%", "DRAM KiB", "GB/s", "energy uJ");
  const auto row = [&](const LayerReport& r) {
    if (r.skipped) return fmt::format("{:<30} {:>5} {:>20}  skipped: {}\n", r.name, r.pairing, shape(r), r.note);
    return fmt::format("{:<30} {:>5} {:>20} {:>6} {:>11} {:>10} {:>10} {:>6.1f} {:>6.1f} {:>6.1f} {:>10.1f} {:>8.2f} {:>9.3f}\n", r.name,
                       r.pairing, shape(r), r.blocks, r.compute_cycles, r.vector_cycles, r.stall_cycles, 100 * r.mapping_efficiency,
                       100 * r.compute_utilization,
                       100 * r.overall_utilization, r.dram_bytes() / 1024.0, gbps(r.dram_bytes(), r.total_cycles, s.clock_mhz),
                       r.energy_pj() * 1e-6);
  };
  for (const auto& r : s.layers) o += row(r);
  o += row(s.total);
  std::string split;
  for (const auto& r : s.layers)
    if (r.k_chunks > 1) split += fmt::format("{}{} ({} x {})", split.empty() ? "" : ", ", r.name, r.k_chunks, r.Kb);
  if (!split.empty())
    o += fmt::format("K-split (K does not fit a bank; chunks x K columns, partial sums added in the output SRAM): {}\n", split);
  const LayerReport& t = s.total;
  o += fmt::format("\n{} MACs in {} cycles ({} compute + {} stall): {:.3f} ms per image, {:.1f} images/s at {:.1f} MHz\n", t.macs,
                   t.total_cycles, t.compute_cycles, t.stall_cycles, s.latency_s() * 1e3, s.images_per_s(), s.clock_mhz);
  o += fmt::format("DRAM {:.1f} KiB read (act {:.1f}, weights {:.1f}), {:.1f} KiB written; energy {:.3f} uJ (array: MACs and idle PEs {:.3f}, "
                   "vector unit {:.3f}, SRAM {:.3f}, DRAM {:.3f})\n",
                   (t.dram_act_bytes + t.dram_weight_bytes) / 1024.0, t.dram_act_bytes / 1024.0, t.dram_weight_bytes / 1024.0,
                   t.dram_out_bytes / 1024.0, t.energy_pj() * 1e-6, t.energy_pj_mac * 1e-6, t.energy_pj_vector * 1e-6, t.energy_pj_sram * 1e-6,
                   t.energy_pj_dram * 1e-6);
  if (h.vector.enabled)
    o += fmt::format("non-GEMM work: the vector unit ({} lanes) is busy {} cycles, {:.1f} % of the run's cycles and {:.1f} % of the array's compute "
                     "cycles; it overlaps the array block by block (sim --no-vector: the array alone)\n",
                     h.vector_lanes(), t.vector_cycles, t.total_cycles ? 100.0 * double(t.vector_cycles) / double(t.total_cycles) : 0.0,
                     t.compute_cycles ? 100.0 * double(t.vector_cycles) / double(t.compute_cycles) : 0.0);
  else
    o += "non-GEMM work: not modelled (the vector unit is off)\n";
  o += fmt::format("energy table: {}\n", h.energy.source);
  o += fmt::format("map% = MACs / (PEs x tile slots); util% = MACs / (PEs x compute cycles); all% = MACs / (PEs x all cycles)\n");
  return o;
}

std::string report_csv(const SimReport& s) {
  std::string o =
      "layer,op,pairing,M,N,K,count,macs,block_m,block_n,loop_order,blocks,tiles,compute_cycles,stall_cycles,total_cycles,"
      "mapping_efficiency,compute_utilization,overall_utilization,"
      "sram_act_reads,sram_weight_reads,sram_out_writes,sram_act_writes,sram_weight_writes,sram_out_reads,"
      "dram_act_read_bytes,dram_weight_read_bytes,dram_out_write_bytes,dram_gbps,"
      "energy_mac_pj,energy_sram_pj,energy_dram_pj,energy_pj,skipped,block_k,k_chunks,vector_cycles,energy_vector_pj\n";
  const auto row = [&](const LayerReport& r) {
    o += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6f},{:.6f},{:.6f},{},{},{},{},{},{},{},{},{},{:.4f},{:.1f},{:.1f},{:.1f},{:.1f},{},{},{},{},{:.1f}\n",
                     r.name, r.op, r.pairing, r.M, r.N, r.K, r.count, r.macs, r.Mb, r.Nb, r.weights_outer ? "weights_outer" : "act_outer",
                     r.blocks, r.tiles, r.compute_cycles, r.stall_cycles, r.total_cycles, r.mapping_efficiency, r.compute_utilization,
                     r.overall_utilization, r.sram_act.reads, r.sram_weight.reads, r.sram_out.writes, r.sram_act.writes, r.sram_weight.writes,
                     r.sram_out.reads, r.dram_act_bytes, r.dram_weight_bytes, r.dram_out_bytes,
                     gbps(r.dram_bytes(), r.total_cycles, s.clock_mhz), r.energy_pj_mac, r.energy_pj_sram, r.energy_pj_dram, r.energy_pj(),
                     r.skipped ? 1 : 0, r.Kb, r.k_chunks, r.vector_cycles, r.energy_pj_vector);
  };
  for (const auto& r : s.layers) row(r);
  row(s.total);
  return o;
}

json report_json(const SimReport& s) {
  const auto layer = [&](const LayerReport& r) {
    return json{{"layer", r.name}, {"op", r.op}, {"pairing", r.pairing}, {"M", r.M}, {"N", r.N}, {"K", r.K}, {"count", r.count},
                {"macs", r.macs}, {"skipped", r.skipped}, {"note", r.note}, {"block_m", r.Mb}, {"block_n", r.Nb}, {"block_k", r.Kb}, {"k_chunks", r.k_chunks},
                {"loop_order", r.weights_outer ? "weights_outer" : "act_outer"}, {"blocks", r.blocks}, {"tiles", r.tiles},
                {"compute_cycles", r.compute_cycles}, {"vector_cycles", r.vector_cycles}, {"stall_cycles", r.stall_cycles},
                {"total_cycles", r.total_cycles},
                {"mapping_efficiency", r.mapping_efficiency}, {"compute_utilization", r.compute_utilization},
                {"overall_utilization", r.overall_utilization},
                {"sram", {{"act", {{"reads", r.sram_act.reads}, {"writes", r.sram_act.writes}, {"read_bytes", r.sram_act.read_bytes}, {"write_bytes", r.sram_act.write_bytes}}},
                          {"weight", {{"reads", r.sram_weight.reads}, {"writes", r.sram_weight.writes}, {"read_bytes", r.sram_weight.read_bytes}, {"write_bytes", r.sram_weight.write_bytes}}},
                          {"out", {{"reads", r.sram_out.reads}, {"writes", r.sram_out.writes}, {"read_bytes", r.sram_out.read_bytes}, {"write_bytes", r.sram_out.write_bytes}}}}},
                {"dram", {{"act_read_bytes", r.dram_act_bytes}, {"weight_read_bytes", r.dram_weight_bytes}, {"out_write_bytes", r.dram_out_bytes},
                          {"gbps", gbps(r.dram_bytes(), r.total_cycles, s.clock_mhz)}}},
                {"energy_pj", {{"mac", r.energy_pj_mac}, {"vector", r.energy_pj_vector}, {"sram", r.energy_pj_sram}, {"dram", r.energy_pj_dram},
                               {"total", r.energy_pj()}}}};
  };
  json layers = json::array();
  for (const auto& r : s.layers) {
    layers.push_back(layer(r));
    json work = json::array();
    for (const VectorWork& v : r.vector_work)
      work.push_back({{"op", v.op}, {"elements", v.elements}, {"weight", v.weight}, {"from", v.from}});
    layers.back()["vector_work"] = work;
  }
  return {{"workload", s.workload}, {"source", s.source}, {"backend", s.backend}, {"hw", to_json(s.hw)}, {"clock_mhz", s.clock_mhz},
          {"energy_source", s.hw.energy.source}, {"layers", layers}, {"total", layer(s.total)}, {"latency_s", s.latency_s()},
          {"images_per_s", s.images_per_s()}, {"sim_wall_seconds", s.wall_seconds},
          {"simulated_cycles_per_s", s.wall_seconds > 0 ? double(s.total.total_cycles) / s.wall_seconds : 0}};
}

}  // namespace logq::sim
