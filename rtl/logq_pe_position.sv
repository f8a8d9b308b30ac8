// One position of the PE array: the operand registers that pass the words on (activation to the
// right, weight down) and the PE slot that computes on the incoming words. logq_pe_array builds
// itself from these; `logq power` synthesizes one alone, so the energy it measures per MAC is an
// array position's (registers, field split and PE), fed the words an array position sees.
module logq_pe_position #(
  parameter int unsigned KIND   = logq_pkg::PE_UNIVERSAL,  // a logq_pkg::pe_kind_e
  parameter int unsigned DW     = 9,
  parameter int unsigned DA     = 9,
  parameter int unsigned MW     = 7,
  parameter int unsigned EW     = 8,
  parameter int unsigned FW     = 7,
  parameter int unsigned KW     = 5,
  parameter int unsigned MANT_F = 1,
  parameter int unsigned ACC_W  = 48,
  parameter int unsigned AW     = (DA > MW + EW + 1) ? DA : MW + EW + 1,
  parameter int unsigned WW     = (DW > KW + 3) ? DW : KW + 3,
  // Low bits of each word this KIND's PE reads: only these are registered. (In an array of one
  // kind Yosys removes the other bits' registers, which feed nothing; `logq power` sets these so a
  // lone position matches. logq_pe_array leaves them at AW and WW.)
  parameter int unsigned A_USED = AW,
  parameter int unsigned W_USED = WW
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
  output logic                    valid_o,   // the inputs, one cycle later (to the next PE)
  output logic                    first_o,
  output logic [AW-1:0]           a_word_o,
  output logic [WW-1:0]           w_word_o,
  output logic signed [ACC_W-1:0] acc_o
);
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_o <= 1'b0;
      first_o <= 1'b0;
    end else begin
      valid_o <= valid_i;
      first_o <= first_i;
    end
  end
  logic [A_USED-1:0] a_q;
  logic [W_USED-1:0] w_q;
  always_ff @(posedge clk_i) begin
    a_q <= a_word_i[A_USED-1:0];
    w_q <= w_word_i[W_USED-1:0];
  end
  assign a_word_o = AW'(a_q);
  assign w_word_o = WW'(w_q);
  if (A_USED < AW) begin : g_a_unused
    logic unused_a;
    assign unused_a = ^a_word_i[AW-1:A_USED];
  end
  if (W_USED < WW) begin : g_w_unused
    logic unused_w;
    assign unused_w = ^w_word_i[WW-1:W_USED];
  end

  logq_pe_slot #(
    .KIND(KIND), .DW(DW), .DA(DA), .MW(MW), .EW(EW), .FW(FW), .KW(KW),
    .MANT_F(MANT_F), .ACC_W(ACC_W), .AW(AW), .WW(WW)
  ) u_pe (
    .clk_i, .rst_ni, .mode_i, .frac_bits_i, .half_up_i, .valid_i, .first_i, .a_word_i, .w_word_i, .acc_o
  );
endmodule
