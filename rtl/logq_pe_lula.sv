// L(w) x U(a) or L(w) x A(a) dual PE: the fully-log transformer's two weight GEMM pairings on one
// datapath. The LogART mantissa (2^f, or round(sqrt2 * 2^f) for odd E) multiplies either the
// uniform activation d or the AdaLog mantissa M (shift and add at f = 1); the product is placed by
// k (L×U) or k + F − E (L×A, right shifts rounded). mode_a_i selects the activation format.
// Sharing the mantissa adder, the term placement and the accumulator is what makes it smaller
// than an lu and an la datapath side by side (docs/results.md, "Fully-log transformers").
module logq_pe_lula #(
  parameter int unsigned DA     = 9,
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
  input  logic                    mode_a_i,     // 0: U activation (a_d_i), 1: AdaLog (a_m_i, a_e_i)
  input  logic [FW-1:0]           frac_bits_i,
  input  logic                    half_up_i,
  input  logic                    w_zero_i,
  input  logic                    w_neg_i,
  input  logic                    w_odd_i,
  input  logic [KW-1:0]           w_k_i,
  input  logic signed [DA-1:0]    a_d_i,
  input  logic                    a_zero_i,
  input  logic [MW-1:0]           a_m_i,
  input  logic [EW-1:0]           a_e_i,
  output logic signed [ACC_W-1:0] acc_o
);
  localparam int unsigned AV    = (DA > MW + 1) ? DA : MW + 1;  // signed activation operand
  localparam int unsigned PW    = AV + MANT_F + 3;
  localparam int unsigned SW    = ((FW > EW) ? FW : EW) + 3;
  // round(sqrt2 * 2^f): derived from MANT_F, never set separately (golden/hw.h odd_mantissa).
  localparam int unsigned K_ODD = logq_pkg::odd_mantissa(MANT_F);

  logic signed [PW-1:0]    a_ext, mag, product;
  logic signed [SW-1:0]    shift;
  logic                    zero;
  logic signed [ACC_W-1:0] term;

  always_comb begin
    a_ext   = mode_a_i ? PW'($signed({1'b0, a_m_i})) : PW'(a_d_i);
    mag     = w_odd_i ? a_ext * $signed(PW'(K_ODD)) : a_ext <<< MANT_F;
    product = w_neg_i ? -mag : mag;
    shift   = $signed(SW'(w_k_i)) + (mode_a_i ? $signed(SW'(frac_bits_i)) - $signed(SW'(a_e_i)) : '0);
    zero    = w_zero_i | (mode_a_i & a_zero_i);
  end

  logq_term_place #(.PW(PW), .SW(SW), .ACC_W(ACC_W)) u_place (
    .product_i(product), .shift_i(shift), .half_up_i, .term_o(term)
  );
  logq_acc #(.ACC_W(ACC_W)) u_acc (
    .clk_i, .rst_ni, .en_i(valid_i & ~zero), .first_i(valid_i & first_i), .term_i(term), .acc_o
  );
endmodule
