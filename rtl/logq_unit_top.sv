// Unit-bench top: both decoders and one PE of every kind, fed the same raw operands. With
// valid = first = 1 every cycle, each PE's accumulator holds exactly one placed term after a
// clock edge, so a bench can check one code pair per cycle. Not a synthesis target.
module logq_unit_top #(
  parameter int unsigned DW     = 9,
  parameter int unsigned DA     = 9,
  parameter int unsigned B      = 6,
  parameter int unsigned EW     = 8,
  parameter int unsigned FW     = 7,
  parameter int unsigned KW     = 5,
  parameter int unsigned MANT_F = 1,
  parameter int unsigned ACC_W  = 48
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic [1:0]              mode_i,
  input  logic [FW-1:0]           frac_bits_i,
  input  logic                    half_up_i,
  input  logic                    lut_we_i,
  input  logic [B-1:0]            lut_addr_i,
  input  logic [B:0]              lut_m_i,
  input  logic [EW-1:0]           lut_e_i,
  input  logic [15:0]             a_raw_i,  // uniform d, or an AdaLog code
  input  logic [15:0]             w_raw_i,  // uniform d, or a LogART code
  output logic                    a_zero_o,
  output logic [B:0]              a_m_o,
  output logic [EW-1:0]           a_e_o,
  output logic                    w_zero_o,
  output logic                    w_neg_o,
  output logic                    w_odd_o,
  output logic [KW-1:0]           w_k_o,
  output logic [MANT_F+1:0]       w_mant_o,
  output logic signed [ACC_W-1:0] acc_uu_o,
  output logic signed [ACC_W-1:0] acc_ua_o,
  output logic signed [ACC_W-1:0] acc_lu_o,
  output logic signed [ACC_W-1:0] acc_la_o,
  output logic signed [ACC_W-1:0] acc_lula_o,  // the dual PE in the activation format of mode_i[1]
  output logic signed [ACC_W-1:0] acc_univ_o
);
  localparam int unsigned MW = B + 1;
  logic signed [DA-1:0] a_d;
  logic signed [DW-1:0] w_d;
  assign a_d = a_raw_i[DA-1:0];
  assign w_d = w_raw_i[DW-1:0];

  logq_adalog_dequant #(.B(B), .MW(MW), .EW(EW)) u_dequant (
    .clk_i, .cfg_we_i(lut_we_i), .cfg_addr_i(lut_addr_i), .cfg_m_i(lut_m_i), .cfg_e_i(lut_e_i),
    .code_i(a_raw_i[B:0]), .zero_o(a_zero_o), .m_o(a_m_o), .e_o(a_e_o)
  );
  logq_logw_decode #(.KW(KW), .MANT_F(MANT_F)) u_decode (
    .code_i(w_raw_i[KW+2:0]), .zero_o(w_zero_o), .neg_o(w_neg_o), .odd_o(w_odd_o), .k_o(w_k_o), .mant_o(w_mant_o)
  );

  logq_pe_uu #(.DW(DW), .DA(DA), .ACC_W(ACC_W)) u_uu (
    .clk_i, .rst_ni, .valid_i(1'b1), .first_i(1'b1), .w_d_i(w_d), .a_d_i(a_d), .acc_o(acc_uu_o));
  logq_pe_ua #(.DW(DW), .MW(MW), .EW(EW), .FW(FW), .ACC_W(ACC_W)) u_ua (
    .clk_i, .rst_ni, .valid_i(1'b1), .first_i(1'b1), .frac_bits_i, .half_up_i,
    .w_d_i(w_d), .a_zero_i(a_zero_o), .a_m_i(a_m_o), .a_e_i(a_e_o), .acc_o(acc_ua_o));
  logq_pe_lu #(.DA(DA), .KW(KW), .MANT_F(MANT_F), .ACC_W(ACC_W)) u_lu (
    .clk_i, .rst_ni, .valid_i(1'b1), .first_i(1'b1), .w_zero_i(w_zero_o), .w_neg_i(w_neg_o),
    .w_odd_i(w_odd_o), .w_k_i(w_k_o), .a_d_i(a_d), .acc_o(acc_lu_o));
  logq_pe_la #(.MW(MW), .EW(EW), .FW(FW), .KW(KW), .MANT_F(MANT_F), .ACC_W(ACC_W)) u_la (
    .clk_i, .rst_ni, .valid_i(1'b1), .first_i(1'b1), .frac_bits_i, .half_up_i,
    .w_zero_i(w_zero_o), .w_neg_i(w_neg_o), .w_odd_i(w_odd_o), .w_k_i(w_k_o),
    .a_zero_i(a_zero_o), .a_m_i(a_m_o), .a_e_i(a_e_o), .acc_o(acc_la_o));
  logq_pe_lula #(.DA(DA), .MW(MW), .EW(EW), .FW(FW), .KW(KW), .MANT_F(MANT_F), .ACC_W(ACC_W)) u_lula (
    .clk_i, .rst_ni, .valid_i(1'b1), .first_i(1'b1), .mode_a_i(mode_i[1]), .frac_bits_i, .half_up_i,
    .w_zero_i(w_zero_o), .w_neg_i(w_neg_o), .w_odd_i(w_odd_o), .w_k_i(w_k_o),
    .a_d_i(a_d), .a_zero_i(a_zero_o), .a_m_i(a_m_o), .a_e_i(a_e_o), .acc_o(acc_lula_o));
  logq_pe_universal #(.DW(DW), .DA(DA), .MW(MW), .EW(EW), .FW(FW), .KW(KW), .MANT_F(MANT_F), .ACC_W(ACC_W)) u_univ (
    .clk_i, .rst_ni, .valid_i(1'b1), .first_i(1'b1), .mode_i, .frac_bits_i, .half_up_i,
    .w_d_i(w_d), .w_zero_i(w_zero_o), .w_neg_i(w_neg_o), .w_odd_i(w_odd_o), .w_k_i(w_k_o),
    .a_d_i(a_d), .a_zero_i(a_zero_o), .a_m_i(a_m_o), .a_e_i(a_e_o), .acc_o(acc_univ_o));

  logic unused;
  assign unused = ^{a_raw_i[15:DA], w_raw_i[15:DW]};
endmodule
