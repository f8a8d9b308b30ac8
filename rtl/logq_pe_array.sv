// Output-stationary R x C systolic array (docs/numerics.md §5, SCALE-Sim's `os` dataflow).
// Activation words enter row i from the left and move one PE right per cycle; weight words enter
// column j from the top and move one PE down per cycle. The edge inputs are registered first, so
// fed with row i's element k at cycle k + i and column j's element k at cycle k + j, PE(i,j) sees
// both at cycle k + i + j + 1. `a_first`
// travels with the activation and starts a new output in each PE. drain_acc_o shows the C
// accumulators of one row; drain_row_next_i names the row it shows from the next cycle on (one
// row per cycle). R, C >= 2.
//
// Timing: nothing fans out to the whole array. The drain row is registered as a one-hot select in
// every column (C copies, kept apart), so each select bit drives the ACC_W bits of one PE instead
// of a decoded net reaching every accumulator of a row. The configuration (mode_i, frac_bits_i,
// half_up_i) is registered once per CFG_GROUP PEs of a row, for the kinds that use it. Unregistered,
// these nets were the arrays' critical paths (docs/results.md, "Array timing"). The configuration
// is therefore sampled one cycle late: it must be stable from the cycle before a job starts.
//
// Words (LSB first): uniform activation = d (DA bits); AdaLog activation = {zero, E, M};
// uniform weight = d (DW bits); LogART weight = {zero, neg, odd, k}. KIND: a logq_pkg::pe_kind_e
// (PE_UNIVERSAL: the pairing from mode_i = {act A, weight L}).
module logq_pe_array #(
  parameter int unsigned R      = 4,
  parameter int unsigned C      = 4,
  parameter int unsigned KIND   = logq_pkg::PE_UNIVERSAL,  // a logq_pkg::pe_kind_e
  parameter int unsigned DW     = 9,
  parameter int unsigned DA     = 9,
  parameter int unsigned MW     = 7,
  parameter int unsigned EW     = 8,
  parameter int unsigned FW     = 7,
  parameter int unsigned KW     = 5,
  parameter int unsigned MANT_F = 1,
  parameter int unsigned ACC_W  = 48,
  parameter int unsigned AW     = (DA > MW + EW + 1) ? DA : MW + EW + 1,
  parameter int unsigned WW     = (DW > KW + 3) ? DW : KW + 3,
  parameter int unsigned RW     = (R > 1) ? $clog2(R) : 1,
  // PEs of a row that share one copy of the configuration registers. With 2, every array is
  // within 6.4 % of its lone PE's fmax; with 4, lula and universal were not within 10 %
  // (docs/results.md, "Array timing").
  parameter int unsigned CFG_GROUP = 2,
  // Low bits of each word this KIND's PE reads (golden/hw.cpp array_a_word_bits / array_w_word_bits;
  // rtl/logq_units.tsv sets them for synthesis). Only these pass from PE to PE: the positions are
  // kept as one synthesized module (below), so the unread bits' registers would stay.
  parameter int unsigned A_USED = AW,
  parameter int unsigned W_USED = WW
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  input  logic [1:0]           mode_i,
  input  logic [FW-1:0]        frac_bits_i,
  input  logic                 half_up_i,
  input  logic [R-1:0]         a_valid_i,
  input  logic [R-1:0]         a_first_i,
  input  logic [R*AW-1:0]      a_word_i,
  input  logic [C*WW-1:0]      w_word_i,
  input  logic [RW-1:0]        drain_row_next_i,
  output logic [C*ACC_W-1:0]   drain_acc_o
);
  // Per-PE pipeline registers and accumulators (internal unpacked arrays: fast in Verilator,
  // registers in Yosys). Index i*C + j.
  (* mem2reg *) logic [AW-1:0]           a_q  [R*C];
  (* mem2reg *) logic                    av_q [R*C];
  (* mem2reg *) logic                    af_q [R*C];
  (* mem2reg *) logic [WW-1:0]           w_q  [R*C];
  (* mem2reg *) logic signed [ACC_W-1:0] acc  [R*C];
  // Edge input registers: one per row (activation) and per column (weight).
  (* mem2reg *) logic [AW-1:0] a_edge_q [R];
  (* mem2reg *) logic          av_edge_q [R];
  (* mem2reg *) logic          af_edge_q [R];
  (* mem2reg *) logic [WW-1:0] w_edge_q [C];

  // Configuration copies: one per CFG_GROUP PEs of each row (kept: Yosys would merge them into one
  // register driving every PE). Only the fields this KIND reads are registered.
  localparam int unsigned NG = (C + CFG_GROUP - 1) / CFG_GROUP;
  localparam bit USES_MODE = (KIND == logq_pkg::PE_UNIVERSAL) || (KIND == logq_pkg::PE_LULA);
  localparam bit USES_SHIFT = USES_MODE || (KIND == logq_pkg::PE_UA) || (KIND == logq_pkg::PE_LA);
  (* mem2reg *) logic [1:0]    mode_q [R*NG];
  (* mem2reg *) logic [FW-1:0] frac_q [R*NG];
  (* mem2reg *) logic          half_q [R*NG];
  for (genvar c = 0; c < R * NG; c++) begin : g_cfg
    if (USES_MODE) begin : g_mode
      (* keep *) always_ff @(posedge clk_i) mode_q[c] <= mode_i;
    end else begin : g_no_mode
      assign mode_q[c] = mode_i;  // not read by this KIND's PE
    end
    if (USES_SHIFT) begin : g_shift
      (* keep *) always_ff @(posedge clk_i) begin
        frac_q[c] <= frac_bits_i;
        half_q[c] <= half_up_i;
      end
    end else begin : g_no_shift
      assign frac_q[c] = frac_bits_i;  // not read by this KIND's PE
      assign half_q[c] = half_up_i;
    end
  end

  for (genvar i = 0; i < R; i++) begin : g_row_edge
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        av_edge_q[i] <= 1'b0;
        af_edge_q[i] <= 1'b0;
      end else begin
        av_edge_q[i] <= a_valid_i[i];
        af_edge_q[i] <= a_first_i[i];
      end
    end
    always_ff @(posedge clk_i) a_edge_q[i] <= a_word_i[i*AW +: AW];
  end
  for (genvar j = 0; j < C; j++) begin : g_col_edge
    always_ff @(posedge clk_i) w_edge_q[j] <= w_word_i[j*WW +: WW];
  end

  for (genvar i = 0; i < R; i++) begin : g_row
    for (genvar j = 0; j < C; j++) begin : g_col
      localparam int unsigned P = i * C + j;
      logic [AW-1:0] a_in;
      logic          av_in, af_in;
      logic [WW-1:0] w_in;
      if (j == 0) begin : g_left
        assign a_in  = a_edge_q[i];
        assign av_in = av_edge_q[i];
        assign af_in = af_edge_q[i];
      end else begin : g_inner
        assign a_in  = a_q[P-1];
        assign av_in = av_q[P-1];
        assign af_in = af_q[P-1];
      end
      if (i == 0) begin : g_top
        assign w_in = w_edge_q[j];
      end else begin : g_below
        assign w_in = w_q[P-C];
      end

      // keep_hierarchy: synthesis maps one position and places R x C copies of it, as a designer
      // tiles an array (scripts/area.sh puts the PE's own synthesized netlist inside). Flattened,
      // ABC re-mapped the whole array at once and its PEs came out slower than the same PE
      // synthesized alone (docs/results.md, "Array timing").
      (* keep_hierarchy *)
      logq_pe_position #(
        .KIND(KIND), .DW(DW), .DA(DA), .MW(MW), .EW(EW), .FW(FW), .KW(KW),
        .MANT_F(MANT_F), .ACC_W(ACC_W), .AW(AW), .WW(WW), .A_USED(A_USED), .W_USED(W_USED)
      ) u_pe (
        .clk_i, .rst_ni, .mode_i(mode_q[i*NG + j/CFG_GROUP]), .frac_bits_i(frac_q[i*NG + j/CFG_GROUP]),
        .half_up_i(half_q[i*NG + j/CFG_GROUP]), .valid_i(av_in), .first_i(af_in), .a_word_i(a_in), .w_word_i(w_in),
        .valid_o(av_q[P]), .first_o(af_q[P]), .a_word_o(a_q[P]), .w_word_o(w_q[P]), .acc_o(acc[P])
      );
    end
  end

  for (genvar j = 0; j < C; j++) begin : g_drain
    logic [R-1:0] sel_q;  // one-hot drain row of this column (reset: row 0, as the controller's)
    // keep: Yosys would merge the C identical registers back into one net that reaches every column.
    (* keep *) always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) sel_q <= R'(1);
      else         sel_q <= R'(1) << drain_row_next_i;
    end
    always_comb begin
      drain_acc_o[j*ACC_W +: ACC_W] = '0;
      for (int i = 0; i < R; i++)  // AND-OR of a one-hot select: a balanced tree, no priority chain
        drain_acc_o[j*ACC_W +: ACC_W] = drain_acc_o[j*ACC_W +: ACC_W] | (acc[i*C + j] & {ACC_W{sel_q[i]}});
    end
  end
endmodule
