// Universal PE: any pairing, chosen by mode_i = {act is AdaLog, weight is LogART}. One signed
// multiplier takes the uniform value or the LogART mantissa on the weight side and the uniform
// value or the AdaLog mantissa on the activation side; the shift is (k) + (F − E).
module logq_pe_universal #(
  parameter int unsigned DW     = 9,
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
  input  logic [1:0]              mode_i,       // [0]: weight L, [1]: activation A
  input  logic [FW-1:0]           frac_bits_i,
  input  logic                    half_up_i,
  input  logic signed [DW-1:0]    w_d_i,
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
  localparam int unsigned MANT_W = MANT_F + 3;  // signed LogART mantissa
  // round(sqrt2 * 2^f): derived from MANT_F, never set separately (golden/hw.h odd_mantissa).
  localparam int unsigned K_ODD = logq_pkg::odd_mantissa(MANT_F);
  localparam int unsigned WV     = (DW > MANT_W) ? DW : MANT_W;
  localparam int unsigned AV     = (DA > MW + 1) ? DA : MW + 1;
  localparam int unsigned PW     = WV + AV;
  localparam int unsigned SW     = ((FW > EW) ? FW : EW) + 3;

  logic signed [MANT_W-1:0] mant;
  logic signed [WV-1:0]     w_val;
  logic signed [AV-1:0]     a_val;
  logic signed [PW-1:0]     product;
  logic signed [SW-1:0]     shift;
  logic                     zero;
  logic signed [ACC_W-1:0]  term;

  always_comb begin
    mant    = w_odd_i ? MANT_W'(K_ODD) : MANT_W'(1 << MANT_F);
    w_val   = mode_i[0] ? (w_neg_i ? -(WV'(mant)) : WV'(mant)) : WV'(w_d_i);
    a_val   = mode_i[1] ? AV'($signed({1'b0, a_m_i})) : AV'(a_d_i);
    product = w_val * a_val;
    shift   = (mode_i[0] ? $signed(SW'(w_k_i)) : '0) +
              (mode_i[1] ? $signed(SW'(frac_bits_i)) - $signed(SW'(a_e_i)) : '0);
    zero    = (mode_i[0] & w_zero_i) | (mode_i[1] & a_zero_i);
  end

  logq_term_place #(.PW(PW), .SW(SW), .ACC_W(ACC_W)) u_place (
    .product_i(product), .shift_i(shift), .half_up_i, .term_o(term)
  );
  logq_acc #(.ACC_W(ACC_W)) u_acc (
    .clk_i, .rst_ni, .en_i(valid_i & ~zero), .first_i(valid_i & first_i), .term_i(term), .acc_o
  );
endmodule
