#!/usr/bin/env bash
# Losing the PostgreSQL primary (issue 17, part 2), TAP: a synchronous
# standby is promoted under load, with DBDParams naming both nodes; see
# bench/failover for what is checked.  About 40 s.
# Usage: t/scripts/failover.sh REPO_ROOT
exec "${1:?repo root}/bench/failover"
