// Places one MAC term into the accumulator's format (docs/numerics.md §3): the signed product P
// shifted left by s ≥ 0 (bits above ACC_W are dropped: two's-complement wrap), or right by −s with
// floor (arithmetic shift) or round-half-up (add 2^(r−1) first). Right shifts beyond PW+1 give
// the same result as PW+1 (the sign, or 0), so the shifter saturates there.
module logq_term_place #(
  parameter int unsigned PW    = 16,  // product width (signed)
  parameter int unsigned SW    = 10,  // shift width (signed)
  parameter int unsigned ACC_W = 48,
  parameter bit          RIGHT = 1'b1  // 0: the shift is never negative (no right-shift logic)
) (
  input  logic signed [PW-1:0]    product_i,
  input  logic signed [SW-1:0]    shift_i,
  input  logic                    half_up_i,
  output logic signed [ACC_W-1:0] term_o
);
  localparam int unsigned XW = PW + 2;  // room for the rounding add
  localparam int unsigned LW = (ACC_W > PW) ? ACC_W : PW;
  localparam bit BIG_SHIFT = (SW > 31) || ((64'(1) << (SW - 1)) > 64'(LW));

  logic signed [LW-1:0] left;
  logic signed [XW-1:0] ext, rounded, right;
  logic        [SW-1:0] r_mag;
  logic        [SW-1:0] r_sat;

  always_comb begin
    // Left: sign-extend (or keep) P at LW bits, shift, keep the low ACC_W bits.
    // Comparisons in 32 bits: LW or PW + 1 need not fit the SW-bit shift field. A shift field
    // too narrow to reach LW needs no comparison at all.
    if (BIG_SHIFT && 32'(shift_i) >= $signed(32'(LW))) left = '0;
    else                                              left = LW'(product_i) <<< shift_i[SW-2:0];
    // Right: magnitude of the shift, saturated at PW + 1.
    r_mag   = '0;
    r_sat   = '0;
    ext     = '0;
    rounded = '0;
    right   = '0;
    if (RIGHT) begin
      r_mag = SW'(-shift_i);
      r_sat = (32'(r_mag) > 32'(PW + 1)) ? SW'(PW + 1) : r_mag;
      ext   = XW'(product_i);
      if (half_up_i && r_sat != '0) rounded = ext + (XW'(1) <<< (r_sat - SW'(1)));
      else                          rounded = ext;
      right = rounded >>> r_sat;
    end
    if (!RIGHT || !shift_i[SW-1]) term_o = ACC_W'(left);
    else                          term_o = ACC_W'(right);
  end
endmodule
