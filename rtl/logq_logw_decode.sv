// LogART weight code -> datapath fields. Code = {zero, neg, e_idx} with e_idx = E - 2*F_r >= 0
// (the half-octave exponent relative to the row floor): odd = E & 1 = e_idx[0], k = e_idx >> 1.
// mant_o is the mantissa the PEs apply: 2^f for even E, K_ODD = round(sqrt2 * 2^f) for odd E
// (f = 1: 2 or 3, the 1+1/2 approximation; larger f: the exact-mantissa variant).
module logq_logw_decode #(
  parameter int unsigned KW     = 5,
  parameter int unsigned MANT_F = 1
) (
  input  logic [KW+2:0]      code_i,
  output logic               zero_o,
  output logic               neg_o,
  output logic               odd_o,
  output logic [KW-1:0]      k_o,
  output logic [MANT_F+1:0]  mant_o
);
  localparam int unsigned K_ODD = logq_pkg::odd_mantissa(MANT_F);
  assign zero_o = code_i[logq_pkg::logw_zero_bit(KW)];
  assign neg_o  = code_i[logq_pkg::logw_neg_bit(KW)];
  assign odd_o  = code_i[logq_pkg::LOGW_ODD_BIT];
  assign k_o    = code_i[logq_pkg::LOGW_K_LSB +: KW];
  assign mant_o = odd_o ? (MANT_F+2)'(K_ODD) : (MANT_F+2)'(1 << MANT_F);
endmodule
