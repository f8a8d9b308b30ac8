// U(w) x A(a) PE: weight times the AdaLog mantissa M, placed by F − E (right shifts rounded).
module logq_pe_ua #(
  parameter int unsigned DW    = 9,
  parameter int unsigned MW    = 7,   // AdaLog mantissa bits (M <= D = 2^(b+1) - 2)
  parameter int unsigned EW    = 8,   // AdaLog shift bits (E <= 233)
  parameter int unsigned FW    = 7,   // fraction-bit count F
  parameter int unsigned ACC_W = 48
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    valid_i,
  input  logic                    first_i,
  input  logic [FW-1:0]           frac_bits_i,
  input  logic                    half_up_i,
  input  logic signed [DW-1:0]    w_d_i,
  input  logic                    a_zero_i,
  input  logic [MW-1:0]           a_m_i,
  input  logic [EW-1:0]           a_e_i,
  output logic signed [ACC_W-1:0] acc_o
);
  localparam int unsigned PW = DW + MW + 1;
  localparam int unsigned SW = ((FW > EW) ? FW : EW) + 2;

  logic signed [PW-1:0]    product;
  logic signed [SW-1:0]    shift;
  logic signed [ACC_W-1:0] term;
  assign product = w_d_i * $signed({1'b0, a_m_i});
  assign shift   = $signed(SW'(frac_bits_i)) - $signed(SW'(a_e_i));

  logq_term_place #(.PW(PW), .SW(SW), .ACC_W(ACC_W)) u_place (
    .product_i(product), .shift_i(shift), .half_up_i, .term_o(term)
  );
  logq_acc #(.ACC_W(ACC_W)) u_acc (
    .clk_i, .rst_ni, .en_i(valid_i & ~a_zero_i), .first_i(valid_i & first_i), .term_i(term), .acc_o
  );
endmodule
