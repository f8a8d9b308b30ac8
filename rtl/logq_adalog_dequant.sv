// AdaLog code -> (zero, mantissa M, shift E) through a per-layer LUT written at configuration
// time (E[c] = floor(c*q/37), M[c] = round(D * 2^(-((c*q) mod 37)/37)), docs/numerics.md §1).
// Codes are b+1 bits: c = 2^b (bit b set) is the zero state.
module logq_adalog_dequant #(
  parameter int unsigned B  = 6,
  parameter int unsigned MW = B + 1,
  parameter int unsigned EW = 8
) (
  input  logic          clk_i,
  input  logic          cfg_we_i,
  input  logic [B-1:0]  cfg_addr_i,
  input  logic [MW-1:0] cfg_m_i,
  input  logic [EW-1:0] cfg_e_i,
  input  logic [B:0]    code_i,
  output logic          zero_o,
  output logic [MW-1:0] m_o,
  output logic [EW-1:0] e_o
);
  (* mem2reg *) logic [MW-1:0] lut_m [2**B];
  (* mem2reg *) logic [EW-1:0] lut_e [2**B];

  always_ff @(posedge clk_i) begin
    if (cfg_we_i) begin
      lut_m[cfg_addr_i] <= cfg_m_i;
      lut_e[cfg_addr_i] <= cfg_e_i;
    end
  end

  assign zero_o = code_i[B];
  assign m_o    = lut_m[code_i[B-1:0]];
  assign e_o    = lut_e[code_i[B-1:0]];
endmodule
