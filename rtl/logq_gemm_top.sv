// Simulation top: operand buffers, edge decoders, the tiling controller and the PE array — the
// unit the Verilator testbenches run GEMM jobs on. Not a synthesis target (its buffers stand for
// SRAM macros); area is measured on logq_pe_array and the units.
//
// A buffer: R banks, row m in bank m % R at address (m / R) * K + k; words are d = c - z
//   (uniform) or AdaLog codes (b+1 bits). W buffer: C banks, column n in bank n % C at
//   (n / C) * K + k; words are d (uniform) or LogART codes {zero, neg, e_idx}.
// Output buffer: M x N accumulators, row-major, read through obuf_addr_i. With acc_i set for a job
//   the buffer adds the drained accumulators to the partial sums it holds (wrapping at ACC_W):
//   K-splitting, one job per chunk of K (golden/hw.h k_chunk_count); clear, it overwrites them.
module logq_gemm_top #(
  parameter int unsigned R       = 4,
  parameter int unsigned C       = 4,
  parameter int unsigned KIND    = logq_pkg::PE_UNIVERSAL,  // a logq_pkg::pe_kind_e
  parameter int unsigned DW      = 9,
  parameter int unsigned DA      = 9,
  parameter int unsigned B       = 6,   // AdaLog bits (codes are B+1 bits)
  parameter int unsigned EW      = 8,
  parameter int unsigned FW      = 7,
  parameter int unsigned KW      = 5,
  parameter int unsigned MANT_F  = 1,
  parameter int unsigned ACC_W   = 48,
  parameter int unsigned A_DEPTH = 65536,  // words per A bank
  parameter int unsigned W_DEPTH = 65536,  // words per W bank
  parameter int unsigned O_DEPTH = 262144, // output words
  // The word bits the array passes from PE to PE (logq_pe_array; 0: all of them)
  parameter int unsigned A_USED  = 0,
  parameter int unsigned W_USED  = 0
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  // configuration
  input  logic [1:0]              mode_i,
  input  logic [FW-1:0]           frac_bits_i,
  input  logic                    half_up_i,
  input  logic                    acc_i,      // accumulate into the output buffer (held for the job)
  input  logic [15:0]             m_i,
  input  logic [15:0]             n_i,
  input  logic [15:0]             k_i,
  input  logic                    lut_we_i,
  input  logic [B-1:0]            lut_addr_i,
  input  logic [B:0]              lut_m_i,
  input  logic [EW-1:0]           lut_e_i,
  // buffers
  input  logic                    abuf_we_i,
  input  logic [7:0]              abuf_bank_i,
  input  logic [31:0]             abuf_addr_i,
  input  logic [15:0]             abuf_data_i,
  input  logic                    wbuf_we_i,
  input  logic [7:0]              wbuf_bank_i,
  input  logic [31:0]             wbuf_addr_i,
  input  logic [15:0]             wbuf_data_i,
  input  logic [31:0]             obuf_addr_i,
  output logic signed [ACC_W-1:0] obuf_data_o,
  // job
  input  logic                    start_i,
  output logic                    busy_o,
  output logic                    done_o,
  output logic [63:0]             cycles_o
);
  localparam int unsigned MW = B + 1;
  localparam int unsigned AW = (DA > MW + EW + 1) ? DA : MW + EW + 1;
  localparam int unsigned WW = (DW > KW + 3) ? DW : KW + 3;
  localparam int unsigned RW = (R > 1) ? $clog2(R) : 1;
  localparam bit A_LOG = (KIND == logq_pkg::PE_UA) || (KIND == logq_pkg::PE_LA) || (KIND == logq_pkg::PE_UNIVERSAL) ||
                         (KIND == logq_pkg::PE_LULA);
  localparam bit W_LOG = (KIND == logq_pkg::PE_LU) || (KIND == logq_pkg::PE_LA) || (KIND == logq_pkg::PE_UNIVERSAL) ||
                         (KIND == logq_pkg::PE_LULA);
  // Kinds whose activation format is chosen per layer by mode_i[1] (the others have one format).
  localparam bit A_MODE = (KIND == logq_pkg::PE_UNIVERSAL) || (KIND == logq_pkg::PE_LULA);

  logic [15:0]             abuf [R * A_DEPTH];
  logic [15:0]             wbuf [C * W_DEPTH];
  logic signed [ACC_W-1:0] obuf [O_DEPTH];

  always_ff @(posedge clk_i) begin
    if (abuf_we_i) abuf[32'(abuf_bank_i) * A_DEPTH + abuf_addr_i] <= abuf_data_i;
    if (wbuf_we_i) wbuf[32'(wbuf_bank_i) * W_DEPTH + wbuf_addr_i] <= wbuf_data_i;
  end
  localparam int unsigned OAW = $clog2(O_DEPTH);
  assign obuf_data_o = obuf[obuf_addr_i[OAW-1:0]];
  logic unused_obuf_addr;
  assign unused_obuf_addr = ^obuf_addr_i[31:OAW];

  logic          feed, drain;
  logic [15:0]   tm, tn, dtm, dtn;
  logic [16:0]   step;
  logic [RW-1:0] drain_row, drain_row_next;

  logq_gemm_ctrl #(.R(R), .C(C), .DW(16)) u_ctrl (
    .clk_i, .rst_ni, .start_i, .m_i, .n_i, .k_i, .busy_o, .done_o,
    .feed_o(feed), .tile_m_o(tm), .tile_n_o(tn), .step_o(step),
    .drain_o(drain), .drain_row_o(drain_row), .drain_row_next_o(drain_row_next), .drain_tile_m_o(dtm), .drain_tile_n_o(dtn), .cycles_o
  );

  // Row feeds: element k = step - i of row tm*R + i, decoded at the array edge.
  logic [R-1:0]    a_valid, a_first;
  logic [R*AW-1:0] a_word;
  for (genvar i = 0; i < R; i++) begin : g_row_feed
    logic signed [17:0] kk;
    logic               in_range;
    logic [15:0]        raw;
    logic               a_zero;
    logic [MW-1:0]      a_m;
    logic [EW-1:0]      a_e;
    assign kk       = $signed({1'b0, step}) - $signed(18'(i));
    assign in_range = feed && kk >= 0 && kk < $signed({2'b0, k_i}) && (32'(tm) * R + i) < 32'(m_i);
    assign raw      = in_range ? abuf[i * A_DEPTH + 32'(tm) * 32'(k_i) + 32'(kk[16:0])] : '0;
    logq_adalog_dequant #(.B(B), .MW(MW), .EW(EW)) u_dequant (
      .clk_i, .cfg_we_i(lut_we_i), .cfg_addr_i(lut_addr_i), .cfg_m_i(lut_m_i), .cfg_e_i(lut_e_i),
      .code_i(raw[B:0]), .zero_o(a_zero), .m_o(a_m), .e_o(a_e)
    );
    logic use_log;
    assign use_log = A_LOG && (!A_MODE || mode_i[1]);
    assign a_valid[i] = in_range;
    assign a_first[i] = in_range && kk == 0;
    assign a_word[i*AW +: AW] = use_log ? AW'({a_zero, a_e, a_m}) : AW'($signed(raw[DA-1:0]));
    logic unused;
    assign unused = ^{raw[15:DA], kk[17]};
  end

  // Column feeds: element k = step - j of column tn*C + j; columns past N feed zeros.
  logic [C*WW-1:0] w_word;
  for (genvar j = 0; j < C; j++) begin : g_col_feed
    logic signed [17:0] kk;
    logic               in_range;
    logic [15:0]        raw;
    logic               w_zero, w_neg, w_odd;
    logic [KW-1:0]      w_k;
    logic [MANT_F+1:0]  w_mant;
    assign kk       = $signed({1'b0, step}) - $signed(18'(j));
    assign in_range = feed && kk >= 0 && kk < $signed({2'b0, k_i}) && (32'(tn) * C + j) < 32'(n_i);
    assign raw      = in_range ? wbuf[j * W_DEPTH + 32'(tn) * 32'(k_i) + 32'(kk[16:0])] : '0;
    logq_logw_decode #(.KW(KW), .MANT_F(MANT_F)) u_decode (
      .code_i(raw[KW+2:0]), .zero_o(w_zero), .neg_o(w_neg), .odd_o(w_odd), .k_o(w_k), .mant_o(w_mant)
    );
    logic use_log;
    assign use_log = W_LOG && (KIND != logq_pkg::PE_UNIVERSAL || mode_i[0]);
    // An out-of-range LogART slot must be the zero code, not E = 0.
    assign w_word[j*WW +: WW] = use_log ? WW'({w_zero | ~in_range, w_neg, w_odd, w_k}) : WW'($signed(raw[DW-1:0]));
    logic unused;
    assign unused = ^{raw, kk[17], w_mant};
  end

  logic [C*ACC_W-1:0] drain_acc;
  logq_pe_array #(
    .R(R), .C(C), .KIND(KIND), .DW(DW), .DA(DA), .MW(MW), .EW(EW), .FW(FW), .KW(KW),
    .MANT_F(MANT_F), .ACC_W(ACC_W), .A_USED(A_USED == 0 ? AW : A_USED), .W_USED(W_USED == 0 ? WW : W_USED)
  ) u_array (
    .clk_i, .rst_ni, .mode_i, .frac_bits_i, .half_up_i,
    .a_valid_i(a_valid), .a_first_i(a_first), .a_word_i(a_word), .w_word_i(w_word),
    .drain_row_next_i(drain_row_next), .drain_acc_o(drain_acc)
  );

  // Drain: row drain_row of tile (dtm, dtn) to the output buffer, added to its partial sums when
  // acc_i is set (C adders of ACC_W bits at the buffer; not part of `logq area`'s array).
  always_ff @(posedge clk_i) begin
    if (drain && (32'(dtm) * R + 32'(drain_row)) < 32'(m_i)) begin
      for (int j = 0; j < C; j++) begin
        if ((32'(dtn) * C + j) < 32'(n_i))
          obuf[(32'(dtm) * R + 32'(drain_row)) * 32'(n_i) + 32'(dtn) * C + j] <=
              drain_acc[j*ACC_W +: ACC_W] + (acc_i ? obuf[(32'(dtm) * R + 32'(drain_row)) * 32'(n_i) + 32'(dtn) * C + j] : '0);
      end
    end
  end
endmodule
