#!/usr/bin/env bash
# Two httpd nodes sharing PostgreSQL and memcached behind a balancer:
# bench/cluster prints TAP (rotation across nodes, logout-all across nodes,
# rate limits counted once across nodes, stats and lists cached in a shared
# Redis with every write through A in the next read at B, a node stopped
# under load).
# Usage: t/scripts/cluster.sh REPO_ROOT
exec "${1:?repo root}/bench/cluster"
