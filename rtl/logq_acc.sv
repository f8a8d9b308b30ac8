// The output-stationary accumulator of one PE: a valid term is added (wrapping at ACC_W bits);
// `first` starts a new output (load instead of add), so tiles run back to back without a clear
// cycle. Invalid or zero terms leave the register untouched (clock-gated in a real design).
module logq_acc #(
  parameter int unsigned ACC_W = 48
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    en_i,
  input  logic                    first_i,
  input  logic signed [ACC_W-1:0] term_i,
  output logic signed [ACC_W-1:0] acc_o
);
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)       acc_o <= '0;
    else if (first_i)  acc_o <= en_i ? term_i : '0;
    else if (en_i)     acc_o <= acc_o + term_i;
  end
endmodule
