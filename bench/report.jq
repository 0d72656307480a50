# report.jq: assembles bench/results/*.json from the pieces bench/run
# collected, computes the ratios and checks the targets (bench/README.md).
# Inputs (jq --arg/--argjson/--slurpfile): stamp, cores, load_start,
# load_end, duration, conns, login_conns, build_s, seed_s, total_s, counts,
# scenarios, pgbench, bcrypt, long.

def scen($n): $scenarios | map(select(.name == $n and (.skipped | not))) | first;
def pg($n): $pgbench | map(select(.name == $n)) | first;
def r3: . * 1000 | round / 1000;
def ratio($a; $b): if $a == null or $b == null or $b == 0 then null
                   else $a / $b | r3 end;
# the DB baseline of each scenario that has one: [pgbench name or "bcrypt"]
def baseline_of($n):
  {profile: "profile", list: "list", list_status: "list_status",
   lead_post: "lead_insert", login: "bcrypt"}[$n];
def baseline_rate($b):
  if $b == null then null
  elif $b == "bcrypt" then $bcrypt[0].bound_rps
  else pg($b).tps end;
# a target with nothing measured (skipped, or no request completed) is
# missed, never met
def check($what; $measured; $op; $required):
  {target: $what, measured: $measured, op: $op, required: $required,
   met: (if $measured == null then false
         elif $op == ">=" then $measured >= $required
         elif $op == "<" then $measured < $required
         else $measured <= $required end)};

(scen("static").rps) as $static
| ($scenarios | map(if .skipped then . else
      (if .requests == 0 then {rps: null, p50_ms: null, p90_ms: null,
                               p99_ms: null, max_ms: null} else {} end) as $none
      | (. + $none) | . + {vs_static: ratio(.rps; $static),
           baseline: baseline_of(.name),
           vs_baseline: ratio(.rps; baseline_rate(baseline_of(.name)))}
    end)) as $scen
| ([$scen[] | select(.skipped | not) | .rss_max_child_kb]
   + [$long[0].rss_max_child_after_kb] | max) as $max_child_kb
| {
    run: {stamp: $stamp, cores: $cores, loadavg_start: $load_start,
          loadavg_end: $load_end, scenario_seconds: $duration,
          connections: $conns, login_connections: $login_conns,
          build_s: $build_s, seed_s: $seed_s, total_s: $total_s},
    seed: $counts,
    baselines: {static_rps: $static, pgbench: $pgbench,
                bcrypt: $bcrypt[0]},
    scenarios: $scen,
    long_run: $long[0],
    targets: ([
      check("profile >= 0.50 x static"; ratio(scen("profile").rps; $static); ">="; 0.50),
      check("leads list unfiltered >= 0.45 x pgbench"; ratio(scen("list").rps; pg("list").tps); ">="; 0.45),
      check("leads list status filter >= 0.45 x pgbench"; ratio(scen("list_status").rps; pg("list_status").tps); ">="; 0.45),
      check("POST /api/leads >= 0.45 x pgbench INSERT"; ratio(scen("lead_post").rps; pg("lead_insert").tps); ">="; 0.45),
      check("login >= 0.85 x bcrypt bound"; ratio(scen("login").rps; $bcrypt[0].bound_rps); ">="; 0.85),
      check("/health p99 during login < 50 ms"; scen("login").health_probe.p99_ms; "<"; 50)
    ]
    + [$scen[] | select((.skipped | not) and .name != "login")
       | check("p99 <= 25 ms: \(.name)";
               (if .requests > 0 then .p99_ms else null end); "<="; 25)]
    + [check("max child RSS <= 30 MB"; ($max_child_kb / 1024 | r3); "<="; 30),
       check("total RSS growth < 5% over \($long[0].requests) mixed requests";
             ($long[0].rss_growth * 100 | r3); "<"; 5)])
  }
