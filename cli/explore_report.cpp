#include "cli/explore_report.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "cli/common.h"
#include "io/error.h"

namespace logq::cli {

namespace {

namespace fs = std::filesystem;

// "fmnist_resnet/logart W4A8" -> "logart W4A8": the model name is the same on every point of a
// family's plot, the method and bits tell the points apart.
std::string short_model(const std::string& label) {
  const auto slash = label.find('/');
  return slash == std::string::npos ? label : label.substr(slash + 1);
}

enum class Front { Area, Throughput, Energy };

struct PlotSpec {
  const char* file;
  const char* x;
  const char* y;
  bool logx;
  Front front;
};

constexpr PlotSpec kPlots[] = {{"accuracy_vs_area.png", "array area (mm^2, OSU 0.18 um)", "top-1 (%)", true, Front::Area},
                               {"throughput_per_area_vs_accuracy.png", "top-1 (%)", "images/s per mm^2", false, Front::Throughput},
                               {"energy_vs_accuracy.png", "top-1 (%)", "energy per image (uJ)", false, Front::Energy}};

bool on_front(const ExplorePoint& p, Front f) {
  return f == Front::Area ? p.pareto_area : f == Front::Throughput ? p.pareto_throughput : p.pareto_energy;
}

// The non-accuracy coordinate of a point on this plot.
double metric(const ExplorePoint& p, Front f) {
  return f == Front::Area ? p.array_area_mm2 : f == Front::Throughput ? p.ips_per_mm2() : p.energy_uj;
}

// (x, y) with the accuracy clamped into the axis: a point below it sits on the axis edge.
std::pair<double, double> plot_xy(const ExplorePoint& p, Front f, double acc_edge) {
  const double acc = std::max(p.top1, acc_edge);
  return f == Front::Area ? std::pair{metric(p, f), acc} : std::pair{acc, metric(p, f)};
}

// "uniform W4A4 78.90 %, logart W4A8 exact 10.10 %": the models whose points lie below the axis.
std::string below_note(const std::vector<ExplorePoint>& pts, double lo) {
  std::set<std::pair<std::string, double>> below;
  for (const auto& p : pts)
    if (p.top1 < lo) below.insert({short_model(p.model), p.top1});
  std::string s;
  for (const auto& [m, t] : below) s += fmt::format("{}{} ({:.2f} %)", s.empty() ? "" : ", ", m, t);
  return s;
}

std::string plot_script(const ExploreReport& r, const PlotSpec& pl, const std::string& dat, const std::vector<std::string>& kinds,
                        const AccuracyAxis& ax, size_t n_points, const std::string& markers, const std::string& below) {
  const fs::path png = fs::path(r.dir) / pl.file;
  std::string s = fmt::format("set terminal pngcairo noenhanced size 960,600 font 'sans,10'\nset output '{}'\nset xlabel '{}'\nset ylabel '{}'\n"
                              "set grid\nset key outside right\n{}",
                              png.string(), pl.x, pl.y, pl.logx ? "set logscale x\n" : "");
  // Zoom the accuracy axis to where the points are (explore --accuracy-window).
  s += fmt::format("set {}range [{:.3f}:{:.3f}]\n", pl.front == Front::Area ? "y" : "x", ax.lo, ax.hi);
  s += fmt::format("set title \"logq explore: {} point(s), {} images each\\ncolour = PE kind, marker = array ({}); Pareto front dashed, its points labelled{}\"\n",
                   n_points, r.images, markers, below.empty() ? "" : "\\nbelow the axis (open markers on its edge): " + below);
  s += "plot ";
  for (size_t i = 0; i < kinds.size(); ++i) {  // the data (marker per point), then a legend entry in the same colour
    s += fmt::format("'{}' index {} using 1:2:3 with points pt variable ps 1.6 lc {} notitle, ", dat, i, i + 1);
    s += fmt::format("NaN with points pt 7 ps 1.6 lc {} title '{}', ", i + 1, kinds[i]);
  }
  s += fmt::format("'{}' index {} using 1:2 with linespoints dt 2 lc rgb 'black' pt 6 ps 2 title 'Pareto front', ", dat, kinds.size());
  s += fmt::format("'{}' index {} using 1:2:3 with labels left offset char 1,0.6 font ',8' tc rgb '#333333' notitle\n", dat, kinds.size() + 1);
  return s;
}

// Marker by array size (gnuplot point types: filled for points on the axis, open below it).
std::map<std::string, std::pair<int, int>> array_markers(const std::vector<ExplorePoint>& pts) {
  const std::pair<int, int> types[] = {{7, 6}, {5, 4}, {9, 8}, {11, 10}, {13, 12}, {15, 14}};
  std::map<std::string, std::pair<int, int>> m;
  for (const auto& p : pts) m.emplace(p.array, std::pair{0, 0});
  size_t i = 0;
  for (auto& [a, t] : m) t = types[i++ % 6];
  return m;
}

std::string marker_name(int t) { return t == 7 ? "circle" : t == 5 ? "square" : t == 9 ? "triangle" : "other"; }

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

}  // namespace

AccuracyAxis accuracy_axis(const std::vector<ExplorePoint>& pts, double window) {
  AccuracyAxis ax;
  if (pts.empty()) return ax;
  double best = pts[0].top1, lo = best;
  for (const auto& p : pts) best = std::max(best, p.top1);
  for (const auto& p : pts)
    if (window <= 0 || p.top1 >= best - window) lo = std::min(lo, p.top1);
  const double pad = std::max(0.1, 0.1 * (best - lo));
  ax.lo = lo - pad;
  ax.hi = best + pad;
  return ax;
}

void write_plots(const ExploreReport& r, const std::vector<ExplorePoint>& pts) {
  const AccuracyAxis ax = accuracy_axis(pts, r.accuracy_window);
  const double edge = ax.lo + 0.02 * (ax.hi - ax.lo);  // where points below the axis are drawn
  std::map<std::string, std::vector<const ExplorePoint*>> by_pe;
  for (const auto& p : pts) by_pe[p.pe].push_back(&p);
  std::vector<std::string> kinds;
  for (const auto& [pe, v] : by_pe) kinds.push_back(pe);
  const auto markers = array_markers(pts);
  std::string marker_text;
  for (const auto& [a, t] : markers) marker_text += fmt::format("{}{} {}", marker_text.empty() ? "" : ", ", a, marker_name(t.first));
  const std::string below = below_note(pts, ax.lo);
  for (const PlotSpec& pl : kPlots) {
    std::string data;
    for (const auto& [pe, v] : by_pe) {
      data += "# " + pe + "\n";
      for (const ExplorePoint* p : v) {
        const auto [x, y] = plot_xy(*p, pl.front, p->top1 < ax.lo ? edge : p->top1);
        const auto& t = markers.at(p->array);
        data += fmt::format("{} {} {} \"{} {}\"\n", x, y, p->top1 < ax.lo ? t.second : t.first, p->array, p->model);
      }
      data += "\n\n";
    }
    // The front through the points on the axis; each of its points labelled once per position.
    std::vector<std::pair<std::pair<double, double>, std::string>> front;
    for (const auto& p : pts)
      if (on_front(p, pl.front) && p.top1 >= ax.lo)
        front.push_back({plot_xy(p, pl.front, p.top1), fmt::format("{} {} {} acc{}", short_model(p.model), p.pe, p.array, p.acc_bits)});
    std::sort(front.begin(), front.end());
    data += "# pareto\n";
    for (const auto& [xy, label] : front) data += fmt::format("{} {}\n", xy.first, xy.second);
    data += "\n\n# pareto labels\n";
    std::set<std::pair<double, double>> labelled;
    for (const auto& [xy, label] : front)
      if (labelled.insert(xy).second) data += fmt::format("{} {} \"{}\"\n", xy.first, xy.second, label);
    const fs::path dat = fs::path(r.dir) / (std::string(pl.file) + ".dat"), gp = fs::path(r.dir) / (std::string(pl.file) + ".gp");
    write_text(dat.string(), data);
    write_text(gp.string(), plot_script(r, pl, dat.string(), kinds, ax, pts.size(), marker_text, below));
    if (std::system(fmt::format("gnuplot {} 2>&1", shell_quote(gp.string())).c_str()) != 0)
      throw Error(fmt::format("gnuplot failed on {} (apt-get install gnuplot-nox, or --no-plots)", gp.string()));
    fmt::print("wrote {}\n", (fs::path(r.dir) / pl.file).string());
  }
}

void write_html(const ExploreReport& r, const std::vector<ExplorePoint>& pts, bool with_plots) {
  std::set<std::string> models, kinds;
  size_t pareto = 0;
  for (const auto& p : pts) {
    models.insert(p.model);
    kinds.insert(p.pe);
    pareto += p.pareto_area || p.pareto_throughput || p.pareto_energy;
  }
  std::string h =
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += fmt::format("<title>logq explore: {} points</title>\n", pts.size());
  h += R"(<style>
body { font-family: sans-serif; margin: 1.2em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
p.what { margin-top: 0; color: #555; }
code { background: #f3f3f3; padding: 0 0.2em; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 1em; }
figure { margin: 0; border: 1px solid #ddd; padding: 0.4em; }
figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: 0.9em; color: #555; }
table { border-collapse: collapse; font-size: 0.85em; margin-top: 0.6em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.45em; text-align: right; white-space: nowrap; }
th { background: #eee; cursor: pointer; position: sticky; top: 0; }
th.sorted-asc::after { content: " \25B2"; }
th.sorted-desc::after { content: " \25BC"; }
td.text { text-align: left; }
tr.pareto td { background: #fff6d5; }
td.front { color: #a05a00; font-weight: bold; text-align: center; }
</style>
</head>
<body>
<h1>logq explore</h1>
)";
  h += fmt::format("<p class=\"what\">{} points: {} model(s) on {} PE kind(s), top-1 on {} test images each; {} on a Pareto front (highlighted). "
                   "Area from Yosys on OSU 0.18 &micro;m, clock the synthesized array's fmax (OpenSTA), images/s and energy from <code>logq sim</code>.<br>"
                   "<code>{}</code></p>\n",
                   pts.size(), models.size(), kinds.size(), r.images, pareto, html_escape(r.command));
  if (with_plots) {
    h += "<section class=\"plots\">\n";
    for (const PlotSpec& pl : kPlots)
      h += fmt::format("<figure><a href=\"{0}\"><img src=\"{0}\" alt=\"{2} vs {1}\"></a><figcaption>{2} vs {1} ({0}, click for full size)</figcaption></figure>\n",
                       pl.file, html_escape(pl.x), html_escape(pl.y));
    h += "</section>\n";
  }
  h += "<h2>Points <small>(click a column to sort; the same rows as <a href=\"explore.csv\">explore.csv</a>)</small></h2>\n<table id=\"points\">\n<thead><tr>";
  const char* heads[][2] = {{"model", "text"}, {"PE", "text"}, {"array", "text"}, {"acc bits", "num"}, {"top-1 %", "num"}, {"overflows", "num"},
                            {"PE &micro;m&sup2;", "num"}, {"array mm&sup2;", "num"}, {"fmax MHz", "num"}, {"images/s", "num"},
                            {"images/s/mm&sup2;", "num"}, {"energy &micro;J", "num"}, {"MAC &micro;J", "num"}, {"non-GEMM cycles", "num"}, {"Pareto area", "text"},
                            {"Pareto images/s/mm&sup2;", "text"}, {"Pareto energy", "text"}};
  for (const auto& [name, type] : heads) h += fmt::format("<th data-type=\"{}\">{}</th>", type, name);
  h += "</tr></thead>\n<tbody>\n";
  const auto star = [](bool b) { return b ? "<td class=\"front\">&#9733;</td>" : "<td class=\"front\"></td>"; };
  for (const auto& p : pts) {
    const bool front = p.pareto_area || p.pareto_throughput || p.pareto_energy;
    h += fmt::format("<tr{}><td class=\"text\">{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td><td>{}</td><td>{:.2f}</td><td>{}</td>"
                     "<td>{:.0f}</td><td>{:.4f}</td><td>{:.1f}</td><td>{:.1f}</td><td>{:.1f}</td><td>{:.3f}</td><td>{:.4f}</td><td>{}</td>{}{}{}</tr>\n",
                     front ? " class=\"pareto\"" : "", html_escape(p.model), html_escape(p.pe), html_escape(p.array), p.acc_bits, p.top1, p.overflows,
                     p.pe_area_um2, p.array_area_mm2, p.fmax_mhz, p.images_per_s, p.ips_per_mm2(), p.energy_uj, p.mac_energy_uj, p.vector_cycles, star(p.pareto_area),
                     star(p.pareto_throughput), star(p.pareto_energy));
  }
  h += R"(</tbody>
</table>
<script>
// Sort the table by a column on click (numbers numerically); a second click reverses.
document.querySelectorAll("#points th").forEach((th, col) => {
  th.addEventListener("click", () => {
    const body = document.querySelector("#points tbody");
    const asc = !th.classList.contains("sorted-asc");
    const num = th.dataset.type === "num";
    const key = (tr) => { const t = tr.children[col].textContent; return num ? parseFloat(t) : t; };
    const rows = Array.from(body.rows).sort((a, b) => {
      const x = key(a), y = key(b);
      return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
    });
    document.querySelectorAll("#points th").forEach((h) => h.classList.remove("sorted-asc", "sorted-desc"));
    th.classList.add(asc ? "sorted-asc" : "sorted-desc");
    rows.forEach((tr) => body.appendChild(tr));
  });
});
</script>
</body>
</html>
)";
  const std::string path = (fs::path(r.dir) / "explore.html").string();
  write_text(path, h);
  fmt::print("wrote {}\n", path);
}

}  // namespace logq::cli
