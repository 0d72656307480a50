# ab_report.jq: bench/results/ab-*.json from bench/ab's wrk rounds: the
# median of each side's rounds, the B/A ratios and the targets.
# Inputs (jq --arg/--argjson/--slurpfile): stamp, cores, base, head,
# load_start, load_end, duration, rounds, conns, rule, smoke, exported,
# build_s, total_s, runs (one object per wrk round: claim, side, round, rps, p50_ms,
# p99_ms, non2xx, socket_errors...).

def r3: . * 1000 | round / 1000;
def median: sort | length as $n
  | if $n == 0 then null
    elif $n % 2 == 1 then .[($n - 1) / 2]
    else (.[$n / 2 - 1] + .[$n / 2]) / 2 end;
def runs($c; $s): $runs | map(select(.claim == $c and .side == $s));
# the side's medians and the error count of all its rounds
def side($c; $s): runs($c; $s) as $r
  | {rounds: ($r | length),
     rps: ($r | map(.rps) | median | . * 10 | round / 10),
     p50_ms: ($r | map(.p50_ms | tonumber) | median | r3),
     p99_ms: ($r | map(.p99_ms | tonumber) | median | r3),
     cpu_us: ($r | map(.cpu_us // empty) | if length == 0 then null else median end),
     # a non-2xx or a timeout means the round measured something else;
     # socket read errors (a keep-alive close racing a request) are shown
     errors: ($r | map(.non2xx + .timeouts) | add),
     socket_errors: ($r | map(.socket_errors) | add),
     per_round_rps: ($r | map(.rps))};
# one table row: B/A of a metric against a bound (op "info": no target);
# a non-2xx or a timeout on either side makes the row missed
def row($issue; $what; $c; $a; $b; $metric; $op; $bound):
  side($c; $a) as $A | side($c; $b) as $B
  | (if $A[$metric] == null or $B[$metric] == null or $A[$metric] == 0 then null
     else $B[$metric] / $A[$metric] | r3 end) as $ratio
  | {issue: $issue, claim: $what, metric: $metric, a_side: $a, b_side: $b,
     a: $A[$metric], b: $B[$metric], ratio: $ratio, op: $op, bound: $bound,
     errors: ($A.errors + $B.errors),
     met: (if $op == "info" then null
           elif $ratio == null or ($A.errors + $B.errors) > 0 then false
           elif $op == ">=" then $ratio >= $bound else $ratio <= $bound end)};

{
  run: {stamp: $stamp, smoke: $smoke, cores: $cores, base: $base,
        head: $head, loadavg_start: $load_start, loadavg_end: $load_end,
        round_s: $duration, rounds: $rounds, connections: $conns,
        general_rule: $rule, build_s: $build_s, otlp_documents_received: $exported,
        total_s: $total_s},
  claims: [
    row(10; "GET /health req/s, current vs \($base)"; "health"; "A"; "B"; "rps"; ">="; 0.97),
    row(10; "GET /auth/profile req/s, current vs \($base)"; "profile"; "A"; "B"; "rps"; ">="; 0.97),
    row(10; "(info) GET /health req/s, limits on vs all off, current"; "health"; "B0"; "B"; "rps"; "info"; null),
    row(10; "(info) GET /auth/profile req/s, limits on vs all off, current"; "profile"; "B0"; "B"; "rps"; "info"; null),
    row(13; "GET /api/leads/:id req/s, API key vs JWT"; "key"; "jwt"; "key"; "rps"; ">="; 0.90),
    row(13; "GET /api/leads/:id p50, API key vs JWT"; "key"; "jwt"; "key"; "p50_ms"; "<="; 1.10),
    row(17; "GET /auth/profile req/s, exporting on vs off"; "export"; "off"; "on"; "rps"; ">="; 0.95),
    row(17; "GET /auth/profile p50, exporting on vs off"; "export"; "off"; "on"; "p50_ms"; "<="; 1.05),
    row(17; "GET /auth/profile p99, exporting on vs off"; "export"; "off"; "on"; "p99_ms"; "<="; 1.05),
    row(17; "GET /auth/profile req/s, receivers hang vs off"; "export"; "off"; "hung"; "rps"; ">="; 0.95),
    row(17; "GET /auth/profile p50, receivers hang vs off"; "export"; "off"; "hung"; "p50_ms"; "<="; 1.05),
    row(17; "GET /auth/profile p99, receivers hang vs off"; "export"; "off"; "hung"; "p99_ms"; "<="; 1.05),
    row(17; "GET /auth/profile req/s, receivers refuse vs off"; "export"; "off"; "refused"; "rps"; ">="; 0.95),
    row(17; "GET /auth/profile p50, receivers refuse vs off"; "export"; "off"; "refused"; "p50_ms"; "<="; 1.05),
    row(17; "GET /auth/profile p99, receivers refuse vs off"; "export"; "off"; "refused"; "p99_ms"; "<="; 1.05),
    row(10; "(info) GET /health server CPU per request, current vs \($base)"; "health"; "A"; "B"; "cpu_us"; "info"; null),
    row(10; "(info) GET /auth/profile server CPU per request, current vs \($base)"; "profile"; "A"; "B"; "cpu_us"; "info"; null),
    row(17; "(info) GET /auth/profile server CPU per request, exporting on vs off"; "export"; "off"; "on"; "cpu_us"; "info"; null),
    row(17; "(info) GET /auth/profile server CPU per request, receivers hang vs off"; "export"; "off"; "hung"; "cpu_us"; "info"; null),
    row(17; "(info) GET /auth/profile server CPU per request, receivers refuse vs off"; "export"; "off"; "refused"; "cpu_us"; "info"; null)
  ],
  sides: ([$runs[] | {claim, side}] | unique
          | map(. + side(.claim; .side))),
  runs: $runs
}
