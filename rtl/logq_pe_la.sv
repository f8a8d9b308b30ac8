// L(w) x A(a) PE: fully logarithmic. AdaLog mantissa M times the LogART mantissa constant
// (shift and add), placed by k + F − E.
module logq_pe_la #(
  parameter int unsigned MW     = 7,
  parameter int unsigned EW     = 8,
  parameter int unsigned FW     = 7,
  parameter int unsigned KW     = 5,
  parameter int unsigned MANT_F = 1,
  parameter int unsigned ACC_W  = 48
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    valid_i,
  input  logic                    first_i,
  input  logic [FW-1:0]           frac_bits_i,
  input  logic                    half_up_i,
  input  logic                    w_zero_i,
  input  logic                    w_neg_i,
  input  logic                    w_odd_i,
  input  logic [KW-1:0]           w_k_i,
  input  logic                    a_zero_i,
  input  logic [MW-1:0]           a_m_i,
  input  logic [EW-1:0]           a_e_i,
  output logic signed [ACC_W-1:0] acc_o
);
  localparam int unsigned PW = MW + MANT_F + 3;
  localparam int unsigned SW = ((FW > EW) ? FW : EW) + 3;
  // round(sqrt2 * 2^f): derived from MANT_F, never set separately (golden/hw.h odd_mantissa).
  localparam int unsigned K_ODD = logq_pkg::odd_mantissa(MANT_F);

  logic signed [PW-1:0]    m_ext, mag, product;
  logic signed [SW-1:0]    shift;
  logic signed [ACC_W-1:0] term;
  assign m_ext   = PW'({1'b0, a_m_i});
  assign mag     = w_odd_i ? m_ext * $signed(PW'(K_ODD)) : m_ext <<< MANT_F;
  assign product = w_neg_i ? -mag : mag;
  assign shift   = $signed(SW'(w_k_i)) + $signed(SW'(frac_bits_i)) - $signed(SW'(a_e_i));

  logq_term_place #(.PW(PW), .SW(SW), .ACC_W(ACC_W)) u_place (
    .product_i(product), .shift_i(shift), .half_up_i, .term_o(term)
  );
  logq_acc #(.ACC_W(ACC_W)) u_acc (
    .clk_i, .rst_ni, .en_i(valid_i & ~w_zero_i & ~a_zero_i), .first_i(valid_i & first_i), .term_i(term), .acc_o
  );
endmodule
