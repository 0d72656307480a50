# ab_report_md.jq: the Markdown of a bench/ab result (ab_report.jq's JSON).
def fmt: if . == null then "-" else tostring end;
.run as $r
| (if $r.smoke then
    "**SMOKE RUN (rounds of \($r.round_s) s): the figures are NOT meaningful; run `bench/ab` with the default duration on a quiet machine.**\n\n"
   else "" end)
+ "# bench/ab \($r.stamp)\n\n"
+ "Current build \($r.head) vs \($r.base); \($r.rounds) interleaved rounds of \($r.round_s) s per side, "
+ "wrk -c\($r.connections), medians; \($r.cores) cores; load average \($r.loadavg_start) at start, "
+ "\($r.loadavg_end) at end; total \($r.total_s) s (builds \($r.build_s) s). Rate limits: shipped defaults, `\($r.general_rule)`. "
+ "OTLP documents received while exporting: \($r.otlp_documents_received).\n\n"
+ "| issue | claim | A | B | ratio B/A | target | result |\n|---|---|---|---|---|---|---|\n"
+ ([.claims[] |
    "| \(.issue) | \(.claim) | \(.a_side) \(.a | fmt) | \(.b_side) \(.b | fmt) | \(.ratio | fmt) | "
    + (if .op == "info" then "- | -" else "\(.op) \(.bound) | " + (if .met then "met" else "MISSED" end) end)
    + (if .errors > 0 then " (\(.errors) errors)" else "" end) + " |"] | join("\n"))
+ "\n\n## Each side (medians; req/s of every round)\n\n"
+ "| scenario | side | req/s | p50 ms | p99 ms | server CPU µs/req | non-2xx + timeouts | socket errors | req/s per round |\n|---|---|---|---|---|---|---|---|---|\n"
+ ([.sides[] |
    "| \(.claim) | \(.side) | \(.rps | fmt) | \(.p50_ms | fmt) | \(.p99_ms | fmt) | \(.cpu_us | fmt) | \(.errors) | \(.socket_errors) | \(.per_round_rps | map(tostring) | join(", ")) |"]
   | join("\n"))
+ "\n"
