// Tiles an M x N x K GEMM over an R x C output-stationary array. Each tile feeds for
// K + R + C - 1 cycles (step t: row i gets element t - i, column j gets element t - j; the array
// registers its edge inputs, so PE(i,j)'s last term lands at step K + i + j - 1 + 1). The
// previous tile's accumulators drain one row per cycle during the first R steps of the next
// tile's feed (row r is read at step r, before PE(r, 0) loads its first new term at the end of
// step r + 1); after the last tile, R drain-only cycles. Start/done handshake; cycles_o counts
// the cycles from start to done.
module logq_gemm_ctrl #(
  parameter int unsigned R  = 4,
  parameter int unsigned C  = 4,
  parameter int unsigned DW = 16,  // dimension width
  parameter int unsigned RW = (R > 1) ? $clog2(R) : 1
) (
  input  logic          clk_i,
  input  logic          rst_ni,
  input  logic          start_i,
  input  logic [DW-1:0] m_i,
  input  logic [DW-1:0] n_i,
  input  logic [DW-1:0] k_i,
  output logic          busy_o,
  output logic          done_o,
  output logic          feed_o,        // a feed step is active
  output logic [DW-1:0] tile_m_o,      // tile being fed
  output logic [DW-1:0] tile_n_o,
  output logic [DW:0]   step_o,        // t within the tile
  output logic          drain_o,       // a drain row is active
  output logic [RW-1:0] drain_row_o,
  output logic [RW-1:0] drain_row_next_o,  // drain_row_o of the next cycle (the array registers it)
  output logic [DW-1:0] drain_tile_m_o,
  output logic [DW-1:0] drain_tile_n_o,
  output logic [63:0]   cycles_o
);
  typedef enum logic [1:0] {Idle, Feed, DrainLast, Done} state_e;
  state_e state_q;

  logic [DW-1:0] tiles_m, tiles_n;
  logic [DW:0]   feed_len;
  logic          pending_q;  // a finished tile still has rows to drain
  logic [DW:0]   drain_step_q;
  logic [DW-1:0] tm_q, tn_q, dtm_q, dtn_q;
  logic [DW:0]   t_q;

  assign tiles_m  = DW'((32'(m_i) + R - 1) / R);
  assign tiles_n  = DW'((32'(n_i) + C - 1) / C);
  assign feed_len = (DW+1)'(32'(k_i) + R + C - 1);

  wire last_step = (t_q == feed_len - 1'b1);
  wire last_tile = (tm_q == tiles_m - 1'b1) && (tn_q == tiles_n - 1'b1);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q      <= Idle;
      t_q          <= '0;
      tm_q         <= '0;
      tn_q         <= '0;
      dtm_q        <= '0;
      dtn_q        <= '0;
      pending_q    <= 1'b0;
      drain_step_q <= '0;
      cycles_o     <= '0;
    end else begin
      // Drain of the previous tile, row by row, alongside whatever else happens.
      if (pending_q) begin
        if (drain_step_q == (DW+1)'(R - 1)) pending_q <= 1'b0;
        drain_step_q <= drain_step_q + 1'b1;
      end
      if (state_q == Feed || state_q == DrainLast) cycles_o <= cycles_o + 1'b1;
      case (state_q)
        Idle, Done: begin
          if (start_i && m_i != '0 && n_i != '0 && k_i != '0) begin
            state_q  <= Feed;
            t_q      <= '0;
            tm_q     <= '0;
            tn_q     <= '0;
            cycles_o <= '0;
          end
        end
        Feed: begin
          if (last_step) begin
            pending_q    <= 1'b1;
            drain_step_q <= '0;
            dtm_q        <= tm_q;
            dtn_q        <= tn_q;
            t_q          <= '0;
            if (last_tile) begin
              state_q <= DrainLast;
            end else if (tn_q == tiles_n - 1'b1) begin
              tn_q <= '0;
              tm_q <= tm_q + 1'b1;
            end else begin
              tn_q <= tn_q + 1'b1;
            end
          end else begin
            t_q <= t_q + 1'b1;
          end
        end
        DrainLast: begin
          if (drain_step_q == (DW+1)'(R - 1)) state_q <= Done;
        end
        default: state_q <= Idle;
      endcase
    end
  end

  assign busy_o         = (state_q == Feed) || (state_q == DrainLast);
  assign done_o         = (state_q == Done);
  assign feed_o         = (state_q == Feed);
  assign tile_m_o       = tm_q;
  assign tile_n_o       = tn_q;
  assign step_o         = t_q;
  assign drain_o        = pending_q;
  assign drain_row_o    = RW'(drain_step_q);
  // The value drain_step_q takes at the next edge (the always_ff above: a finished tile restarts
  // the drain at 0, a pending drain counts up).
  assign drain_row_next_o = (state_q == Feed && last_step) ? '0 : pending_q ? RW'(drain_step_q + 1'b1) : RW'(drain_step_q);
  assign drain_tile_m_o = dtm_q;
  assign drain_tile_n_o = dtn_q;
endmodule
