// L(w) x U(a) PE: no multiplier. The LogART mantissa is 2^f (even E) or round(sqrt2 * 2^f) (odd
// E), a constant: with f = 1 the product is (d << 1) + (odd ? d : 0). Then a left shift by k.
module logq_pe_lu #(
  parameter int unsigned DA     = 9,
  parameter int unsigned KW     = 5,   // k bits
  parameter int unsigned MANT_F = 1,   // mantissa fraction bits f
  parameter int unsigned ACC_W  = 48
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    valid_i,
  input  logic                    first_i,
  input  logic                    w_zero_i,
  input  logic                    w_neg_i,
  input  logic                    w_odd_i,
  input  logic [KW-1:0]           w_k_i,
  input  logic signed [DA-1:0]    a_d_i,
  output logic signed [ACC_W-1:0] acc_o
);
  localparam int unsigned PW = DA + MANT_F + 3;
  // round(sqrt2 * 2^f): derived from MANT_F, never set separately (golden/hw.h odd_mantissa).
  localparam int unsigned K_ODD = logq_pkg::odd_mantissa(MANT_F);

  // With f = 1 the mantissa is 2 or 3: odd ? (d << 1) + d : d << 1 — shift and add. Larger f
  // multiplies by the constant round(sqrt2 * 2^f). (Of the equivalent forms, these two synthesize
  // smallest with Yosys/ABC on OSU 0.18 um: docs/results.md.)
  localparam int unsigned K_EXTRA = K_ODD - (1 << MANT_F);

  logic signed [PW-1:0]    a_ext, mag, product;
  logic signed [ACC_W-1:0] term;
  assign a_ext = PW'(a_d_i);
  if (K_EXTRA == 1) begin : g_one_and_half
`ifdef VERILATOR
    // The same function in a form Verilator compiles to branch-free C++ (1.3x faster array
    // simulation); ABC maps the mux form below 5 % smaller. scripts/rtl_check.sh equiv proves
    // the two equivalent with Yosys on every CI run.
    assign mag = (a_ext <<< MANT_F) + (a_ext & {PW{w_odd_i}});
`else
    assign mag = w_odd_i ? (a_ext <<< MANT_F) + a_ext : a_ext <<< MANT_F;
`endif
  end else begin : g_exact_mantissa
    assign mag = w_odd_i ? a_ext * $signed(PW'(K_ODD)) : a_ext <<< MANT_F;
  end
  assign product = w_neg_i ? -mag : mag;

  logq_term_place #(.PW(PW), .SW(KW + 1), .ACC_W(ACC_W), .RIGHT(1'b0)) u_place (
    .product_i(product), .shift_i($signed({1'b0, w_k_i})), .half_up_i(1'b0), .term_o(term)
  );
  logq_acc #(.ACC_W(ACC_W)) u_acc (
    .clk_i, .rst_ni, .en_i(valid_i & ~w_zero_i), .first_i(valid_i & first_i), .term_i(term), .acc_o
  );
endmodule
