# report_md.jq: bench/results/latest.json -> Markdown (jq -r).
def f($d): if . == null then "-" else (. * pow(10; $d) | round / pow(10; $d) | tostring) end;
def mb: if . == null then "-" else (. / 1024 | f(1)) end;
def yn: if . then "met" else "MISSED" end;

"# mod_leadcrm benchmark \(.run.stamp)",
"",
"\(.run.cores) cores, load average at start \(.run.loadavg_start), at end \(.run.loadavg_end); \(.run.scenario_seconds) s per scenario, wrk -t1 -c\(.run.connections) (login -c\(.run.login_connections)); build \(.run.build_s) s, seed \(.run.seed_s) s (\(.seed.users) users, \(.seed.leads) leads, \(.seed.consultations) consultations at the end), total \(.run.total_s) s.",
"",
"## Scenarios",
"",
"| scenario | c | req/s | p50 ms | p99 ms | sock err | non-2xx | RSS total MB | max child MB | x static | baseline | x baseline |",
"|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|",
(.scenarios[] |
  if .skipped then "| \(.name) | | \(.skipped) | | | | | | | | | |"
  else "| \(.name) | \(.connections) | \(.rps | f(0)) | \(.p50_ms | f(2)) | \(.p99_ms | f(2)) | \(.socket_errors) | \(.non2xx) | \(.rss_total_kb | mb) | \(.rss_max_child_kb | mb) | \(.vs_static | f(3)) | \(.baseline // "") | \(.vs_baseline | f(3)) |"
  end),
"",
(.baselines.bcrypt as $b | .scenarios[] | select(.name == "login") | "Login: \(.rps | f(1)) req/s = \(.vs_baseline | f(3)) x the bcrypt bound (\($b.cores) cores / \($b.seconds_per_hash * 1000 | f(1)) ms per hash = \($b.bound_rps | f(1))/s) and \((if .rps then .rps / $b.parallel_rate else null end) | f(3)) x the rate measured with \($b.threads) threads hashing at once (\($b.parallel_rate | f(1))/s). Meanwhile /health on one more connection (~50/s): \(.health_probe.requests) requests, p50 \(.health_probe.p50_ms | f(2)) ms, p99 \(.health_probe.p99_ms | f(2)) ms, non-2xx \(.health_probe.non2xx)."),
"",
"Long mixed run: \(.long_run.requests) of \(.long_run.requested) requests in \(.long_run.duration_s | f(1)) s (\(.long_run.rps | f(0)) req/s, p99 \(.long_run.p99_ms | f(2)) ms, non-2xx \(.long_run.non2xx)); httpd RSS \(.long_run.rss_total_before_kb | mb) -> \(.long_run.rss_total_after_kb | mb) MB (\(.long_run.rss_growth * 100 | f(2)) %), max child \(.long_run.rss_max_child_before_kb | mb) -> \(.long_run.rss_max_child_after_kb | mb) MB.",
"",
"## Baselines (same run)",
"",
"| baseline | rate/s | p50 ms | p99 ms |",
"|---|--:|--:|--:|",
"| static file through the same httpd | \(.baselines.static_rps | f(0)) | | |",
(.baselines.pgbench[] | "| pgbench -M \(.mode) -c\(.connections) `\(.name)` (failed \(.failed)) | \(.tps | f(0)) | \(.p50_ms | f(2)) | \(.p99_ms | f(2)) |"),
"| bcrypt cost 10: \(.baselines.bcrypt.seconds_per_hash * 1000 | f(1)) ms/hash, bound = \(.baselines.bcrypt.cores) cores / that | \(.baselines.bcrypt.bound_rps | f(1)) | | |",
"| bcrypt measured with \(.baselines.bcrypt.threads) threads at once (\(.baselines.bcrypt.parallel_rate / .baselines.bcrypt.single_thread_rate | f(2)) cores' worth) | \(.baselines.bcrypt.parallel_rate | f(1)) | | |",
"",
"## Targets",
"",
"| target | measured | required | |",
"|---|--:|--:|---|",
(.targets[] | "| \(.target) | \(.measured | f(3)) | \(.op) \(.required) | \(.met | yn) |")
,
"",
"## The peer (Express + Prisma, same run)",
"",
(if .peer.on | not then "Not run (BENCH_PEER=0)."
 else
   "The original service (`node dist/cluster.js`, 2 workers) on its own database in the same PostgreSQL cluster, seeded to the same 1,000 users and \(.peer.leads_seeded) leads (in \(.peer.seed_s) s, part of the seed time above), each wrk scenario run right after ours.",
   "",
   "| scenario | c | peer req/s | peer p50 ms | peer p99 ms | non-2xx | ours req/s | ours / peer |",
   "|---|--:|--:|--:|--:|--:|--:|--:|",
   (.peer.scenarios[] | "| \(.name) | \(.connections) | \(.rps | f(1)) | \(.p50_ms | f(2)) | \(.p99_ms | f(2)) | \(.non2xx) | \(.ours_rps | f(0)) | \(.ours_x | f(2)) |"),
   "",
   (.peer.memory | if . == null then "Memory: not measured."
    else "Memory after the runs: peer \(.peer_rss_kb | mb) MB RSS (\(.peer_processes) processes), httpd children \(.httpd_children_rss_kb | mb) MB (\(.httpd_children) children; \(.httpd_total_rss_kb | mb) MB with the parent)." end)
 end),
"",
"## Targets (issue 11)",
"",
"| target | value | required | |",
"|---|--:|--:|---|",
(.targets_issue11[] | "| \(.target) | \(.value | f(3)) | \(.op) \(.required) | \(.status)\(if .note then " (\(.note))" else "" end) |")
