// Gate-level simulation of one PE array position for `logq power` (scripts/power.sh compiles it with
// Verilator against the synthesized netlist of logq_pe_position and the liberty's cell functions).
// It drives the stimulus `logq power` wrote, checks every accumulator the stimulus expects (so the
// netlist is bit-exact with the golden model on the data it is priced on), and dumps every net
// once per cycle, in the cycle's settled state: zero-delay, so a net that changes counts one
// transition and glitches are not counted.
//
//   V<top> STIM.txt OUT.vcd      stdout: "cycles N", "macs N", "checked N"; exit 1 on a mismatch
//
// STIM.txt: "mode M frac F half H accw ACC_W", then one line per cycle: "valid first a_word w_word [expect]"
// (words in hex; expect: the signed accumulator acc_o must hold during that cycle).
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "Vlogq_pe_position.h"
#include "verilated.h"
#include "verilated_vcd_c.h"

namespace {

[[noreturn]] void die(const char* what, const char* path, long line) {
  std::fprintf(stderr, "power_bench: %s: %s (line %ld)\n", path, what, line);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s STIM.txt OUT.vcd\n", argv[0]);
    return 2;
  }
  FILE* in = std::fopen(argv[1], "r");
  if (!in) die("cannot open", argv[1], 0);
  unsigned mode = 0, frac = 0, half = 0, acc_w = 0;
  if (std::fscanf(in, " mode %u frac %u half %u accw %u", &mode, &frac, &half, &acc_w) != 4 || acc_w < 2 || acc_w > 64)
    die("expected 'mode M frac F half H accw W' (2 <= W <= 64)", argv[1], 1);
  const uint64_t mask = acc_w == 64 ? ~uint64_t{0} : (uint64_t{1} << acc_w) - 1;

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->traceEverOn(true);
  auto top = std::make_unique<Vlogq_pe_position>(ctx.get());
  auto vcd = std::make_unique<VerilatedVcdC>();
  top->trace(vcd.get(), 99);
  vcd->open(argv[2]);

  top->mode_i = mode;
  top->frac_bits_i = frac;
  top->half_up_i = half;
  top->valid_i = 0;
  top->first_i = 0;
  top->a_word_i = 0;
  top->w_word_i = 0;
  top->clk_i = 0;
  top->rst_ni = 0;
  top->eval();
  for (int i = 0; i < 2; ++i) {  // reset, not traced
    top->clk_i = 1;
    top->eval();
    top->clk_i = 0;
    top->eval();
  }
  top->rst_ni = 1;
  top->eval();

  char buf[256];
  long line = 1, cycles = 0, macs = 0, checked = 0, bad = 0;
  uint64_t t = 0;
  while (std::fgets(buf, sizeof buf, in)) {
    ++line;
    if (buf[0] == '\n' || buf[0] == '#') continue;
    unsigned valid = 0, first = 0;
    unsigned long a = 0, w = 0;
    long long expect = 0;
    const int n = std::sscanf(buf, "%u %u %lx %lx %lld", &valid, &first, &a, &w, &expect);
    if (n < 4) die("expected 'valid first a_word w_word [expect]'", argv[1], line);
    top->valid_i = valid;
    top->first_i = first;
    top->a_word_i = a;
    top->w_word_i = w;
    top->eval();
    vcd->dump(t++);  // the cycle's settled state: registers of the last edge, this cycle's inputs
    if (n == 5) {
      // acc_o is ACC_W bits wide: compare modulo 2^ACC_W.
      const uint64_t got = static_cast<uint64_t>(top->acc_o) & mask, want = static_cast<uint64_t>(expect) & mask;
      ++checked;
      if (got != want) {
        if (bad++ < 5) std::fprintf(stderr, "power_bench: line %ld: acc_o = %" PRIu64 ", golden %lld\n", line, got, expect);
      }
    }
    top->clk_i = 1;
    top->eval();
    top->clk_i = 0;
    top->eval();
    ++cycles;
    macs += valid;
  }
  vcd->close();
  std::fclose(in);
  std::printf("cycles %ld\nmacs %ld\nchecked %ld\nmismatches %ld\n", cycles, macs, checked, bad);
  return bad ? 1 : 0;
}
