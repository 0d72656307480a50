# report.jq: assembles bench/results/*.json from the pieces bench/run
# collected, computes the ratios and checks the targets (bench/README.md).
# Inputs (jq --arg/--argjson/--slurpfile): stamp, cores, load_start,
# load_end, duration, conns, login_conns, build_s, seed_s, total_s, counts,
# scenarios, pgbench, bcrypt, long, leads_seeded, peer_on, peer (the
# Express + Prisma peer's scenarios, bench/peer.sh), peer_mem, peer_seed_s.

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

# ---- issue 11: targets against the peer and the machine ----
# A scenario counts when it ran, completed requests and at most 1 % of
# them were non-2xx; otherwise its targets are "not measured" (never met).
def why($s):
  if $s == null then "did not run"
  elif $s.skipped then $s.skipped
  elif ($s.requests // 0) == 0 then "no request completed"
  elif $s.non2xx > $s.requests * 0.01 then "\($s.non2xx) non-2xx of \($s.requests)"
  else null end;
def rate($s): if why($s) == null then $s.rps else null end;
def p99($s): if why($s) == null then $s.p99_ms else null end;
def ours($n): $scenarios | map(select(.name == $n)) | first;
def theirs($n): $peer | map(select(.name == $n)) | first;
def pwhy($n): if $peer_on == 0 then "not run (BENCH_PEER=0)"
              else why(theirs($n)) end;
def t11($group; $what; $v; $op; $req; $note):
  {group: $group, target: $what, value: (if $v == null then null else $v | r3 end),
   op: $op, required: $req,
   status: (if $v == null then "not measured"
            elif ($op == ">=" and $v >= $req) or ($op == "<=" and $v <= $req)
                 or ($op == "<" and $v < $req) then "met"
            else "MISSED" end),
   note: (if $v == null then $note else null end)};
def vs_peer($n; $req):
  t11("peer"; "\($n) >= \($req) x the peer";
      ratio(rate(ours($n)); rate(theirs($n))); ">="; $req;
      (if why(ours($n)) then "ours: \(why(ours($n)))" else "peer: \(pwhy($n))" end));
def p99_target($n; $max):
  ours($n) as $s
  | t11("latency"; "p99 <= \($max) ms: \($n)\(if $s.connections and $s.connections != 16 then " (c\($s.connections))" else "" end)";
        p99($s); "<="; $max; why($s));

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
| . + {
    peer: {on: ($peer_on == 1), leads_seeded: $leads_seeded, seed_s: $peer_seed_s,
           scenarios: [$peer[] | . + {ours_rps: rate(ours(.name)),
                                      ours_x: ratio(rate(ours(.name)); rate(.))}],
           memory: $peer_mem[0]},
    targets_issue11: ([
      vs_peer("profile"; 10), vs_peer("list"; 50), vs_peer("list_status"; 50),
      vs_peer("lead_post"; 1.8), vs_peer("login"; 1.0),
      t11("peer"; "memory <= 1/10 of the peer (httpd children RSS / peer RSS)";
          (if $peer_mem[0] == null then null
           else ratio($peer_mem[0].httpd_children_rss_kb; $peer_mem[0].peer_rss_kb) end);
          "<="; 0.1;
          (if $peer_on == 0 then "not run (BENCH_PEER=0)" else "no memory figures" end)),
      t11("machine"; "profile >= 0.5 x the static file";
          ratio(rate(ours("profile")); rate(ours("static"))); ">="; 0.5;
          why(ours("profile")) // why(ours("static"))),
      t11("machine"; "lead create >= 0.95 x pgbench of the same INSERT";
          ratio(rate(ours("lead_post")); pg("lead_insert").tps); ">="; 0.95;
          why(ours("lead_post")) // "no pgbench lead_insert"),
      t11("machine"; "login >= 0.9 x the bcrypt bound";
          ratio(rate(ours("login")); $bcrypt[0].bound_rps); ">="; 0.9;
          why(ours("login")) // "no bcrypt bound")
    ]
    + [("profile", "list", "list_status", "list_source", "list_search",
        "list_search3", "list_deep", "list_deep5000", "list_cursor", "stats",
        "series", "users_list", "consultations_list", "availability")
       | p99_target(.; 25)]
    + [("lead_post", "consultation_post", "refresh", "mixed") | p99_target(.; 30)]
    + [t11("latency"; "p99 <= 30 ms: long mixed run"; p99($long[0]); "<="; 30;
           why($long[0])),
       t11("memory"; "RSS growth < 5 % over the long mixed run";
           (if why($long[0]) == null then $long[0].rss_growth * 100 else null end);
           "<"; 5; why($long[0])),
       t11("memory"; "max child RSS <= 30 MB";
           (if $max_child_kb == null then null else $max_child_kb / 1024 end);
           "<="; 30; "no RSS figures")])
  }
