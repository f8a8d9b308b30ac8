// One array position: splits the array's operand words into fields and instantiates the PE of
// the array's KIND (logq_pkg::pe_kind_e). Word layouts: logq_pe_array.sv.
module logq_pe_slot #(
  parameter int unsigned KIND   = logq_pkg::PE_UNIVERSAL,
  parameter int unsigned DW     = 9,
  parameter int unsigned DA     = 9,
  parameter int unsigned MW     = 7,
  parameter int unsigned EW     = 8,
  parameter int unsigned FW     = 7,
  parameter int unsigned KW     = 5,
  parameter int unsigned MANT_F = 1,
  parameter int unsigned ACC_W  = 48,
  parameter int unsigned AW     = 16,
  parameter int unsigned WW     = 9
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic [1:0]              mode_i,
  input  logic [FW-1:0]           frac_bits_i,
  input  logic                    half_up_i,
  input  logic                    valid_i,
  input  logic                    first_i,
  input  logic [AW-1:0]           a_word_i,
  input  logic [WW-1:0]           w_word_i,
  output logic signed [ACC_W-1:0] acc_o
);
  // Fields of both interpretations of each word; each KIND uses its own.
  logic signed [DA-1:0] a_d;
  logic [MW-1:0]        a_m;
  logic [EW-1:0]        a_e;
  logic                 a_zero;
  logic signed [DW-1:0] w_d;
  logic [KW-1:0]        w_k;
  logic                 w_odd, w_neg, w_zero;
  assign a_d    = a_word_i[DA-1:0];
  assign a_m    = a_word_i[MW-1:0];
  assign a_e    = a_word_i[MW +: EW];
  assign a_zero = a_word_i[MW+EW];
  assign w_d    = w_word_i[DW-1:0];
  assign w_k    = w_word_i[KW-1:0];
  assign w_odd  = w_word_i[KW];
  assign w_neg  = w_word_i[KW+1];
  assign w_zero = w_word_i[KW+2];

  if (KIND == logq_pkg::PE_UU) begin : g_uu
    logq_pe_uu #(.DW(DW), .DA(DA), .ACC_W(ACC_W)) u_pe (
      .clk_i, .rst_ni, .valid_i, .first_i, .w_d_i(w_d), .a_d_i(a_d), .acc_o);
    logic unused;
    assign unused = ^{mode_i, frac_bits_i, half_up_i, a_word_i, w_word_i, a_m, a_e, a_zero, w_k, w_odd, w_neg, w_zero};
  end else if (KIND == logq_pkg::PE_UA) begin : g_ua
    logq_pe_ua #(.DW(DW), .MW(MW), .EW(EW), .FW(FW), .ACC_W(ACC_W)) u_pe (
      .clk_i, .rst_ni, .valid_i, .first_i, .frac_bits_i, .half_up_i,
      .w_d_i(w_d), .a_zero_i(a_zero), .a_m_i(a_m), .a_e_i(a_e), .acc_o);
    logic unused;
    assign unused = ^{mode_i, a_word_i, w_word_i, a_d, w_k, w_odd, w_neg, w_zero};
  end else if (KIND == logq_pkg::PE_LU) begin : g_lu
    logq_pe_lu #(.DA(DA), .KW(KW), .MANT_F(MANT_F), .ACC_W(ACC_W)) u_pe (
      .clk_i, .rst_ni, .valid_i, .first_i, .w_zero_i(w_zero), .w_neg_i(w_neg), .w_odd_i(w_odd),
      .w_k_i(w_k), .a_d_i(a_d), .acc_o);
    logic unused;
    assign unused = ^{mode_i, frac_bits_i, half_up_i, a_word_i, w_word_i, a_m, a_e, a_zero, w_d};
  end else if (KIND == logq_pkg::PE_LA) begin : g_la
    logq_pe_la #(.MW(MW), .EW(EW), .FW(FW), .KW(KW), .MANT_F(MANT_F), .ACC_W(ACC_W)) u_pe (
      .clk_i, .rst_ni, .valid_i, .first_i, .frac_bits_i, .half_up_i,
      .w_zero_i(w_zero), .w_neg_i(w_neg), .w_odd_i(w_odd), .w_k_i(w_k),
      .a_zero_i(a_zero), .a_m_i(a_m), .a_e_i(a_e), .acc_o);
    logic unused;
    assign unused = ^{mode_i, a_word_i, w_word_i, a_d, w_d};
  end else if (KIND == logq_pkg::PE_LULA) begin : g_lula
    logq_pe_lula #(.DA(DA), .MW(MW), .EW(EW), .FW(FW), .KW(KW), .MANT_F(MANT_F), .ACC_W(ACC_W)) u_pe (
      .clk_i, .rst_ni, .valid_i, .first_i, .mode_a_i(mode_i[1]), .frac_bits_i, .half_up_i,
      .w_zero_i(w_zero), .w_neg_i(w_neg), .w_odd_i(w_odd), .w_k_i(w_k),
      .a_d_i(a_d), .a_zero_i(a_zero), .a_m_i(a_m), .a_e_i(a_e), .acc_o);
    logic unused;
    assign unused = ^{mode_i[0], a_word_i, w_word_i, w_d};
  end else begin : g_universal
    logq_pe_universal #(.DW(DW), .DA(DA), .MW(MW), .EW(EW), .FW(FW), .KW(KW), .MANT_F(MANT_F), .ACC_W(ACC_W)) u_pe (
      .clk_i, .rst_ni, .valid_i, .first_i, .mode_i, .frac_bits_i, .half_up_i,
      .w_d_i(w_d), .w_zero_i(w_zero), .w_neg_i(w_neg), .w_odd_i(w_odd), .w_k_i(w_k),
      .a_d_i(a_d), .a_zero_i(a_zero), .a_m_i(a_m), .a_e_i(a_e), .acc_o);
    logic unused;
    assign unused = ^{a_word_i, w_word_i};
  end
endmodule
