// What `logq explore` writes besides explore.csv: the three trade-off plots (gnuplot PNGs, the
// accuracy axis zoomed to where the points are, Pareto points labelled) and explore.html, one page
// with the plots and every point's table side by side.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace logq::cli {

// One design point of a study: a model on one PE kind, array and accumulator width.
struct ExplorePoint {
  std::string model, file, method, pe, array;
  int rows = 0, cols = 0, acc_bits = 0, mant_frac_bits = 1;
  double top1 = 0, pe_area_um2 = 0, array_area_mm2 = 0, fmax_mhz = 0, images_per_s = 0, energy_uj = 0, mac_energy_uj = 0;
  uint64_t cycles = 0;
  uint64_t vector_cycles = 0;  // the vector unit's busy cycles (non-GEMM work; overlapped with the array)
  double vector_energy_uj = 0;
  int64_t overflows = 0;
  bool pareto_area = false, pareto_throughput = false, pareto_energy = false;
  double ips_per_mm2() const { return array_area_mm2 > 0 ? images_per_s / array_area_mm2 : 0; }
};

struct ExploreReport {
  std::string dir;             // output directory (explore.csv is already there)
  int64_t images = 0;          // test images per accuracy point
  double accuracy_window = 5;  // pp below the best that the accuracy axis shows (0: every point)
  std::string command;         // the command line, shown on the page
};

// The accuracy axis: [lo, hi] in %, and the points below lo (drawn at the axis edge, open markers).
struct AccuracyAxis {
  double lo = 0, hi = 100;
};
AccuracyAxis accuracy_axis(const std::vector<ExplorePoint>& pts, double window);

// accuracy_vs_area.png, throughput_per_area_vs_accuracy.png, energy_vs_accuracy.png (+ .dat, .gp).
void write_plots(const ExploreReport& r, const std::vector<ExplorePoint>& pts);
// explore.html: the plots (if written) and the table of points, sortable by any column.
void write_html(const ExploreReport& r, const std::vector<ExplorePoint>& pts, bool with_plots);

}  // namespace logq::cli
