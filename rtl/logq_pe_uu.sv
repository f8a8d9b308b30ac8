// U(w) x U(a) PE: signed multiply, no shift (the INT8 x INT8 baseline at DW = DA = 9).
module logq_pe_uu #(
  parameter int unsigned DW    = 9,
  parameter int unsigned DA    = 9,
  parameter int unsigned ACC_W = 32
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    valid_i,
  input  logic                    first_i,
  input  logic signed [DW-1:0]    w_d_i,
  input  logic signed [DA-1:0]    a_d_i,
  output logic signed [ACC_W-1:0] acc_o
);
  logic signed [DW+DA-1:0] product;
  assign product = w_d_i * a_d_i;

  logq_acc #(.ACC_W(ACC_W)) u_acc (
    .clk_i, .rst_ni, .en_i(valid_i), .first_i(valid_i & first_i),
    .term_i(ACC_W'(product)), .acc_o
  );
endmodule
