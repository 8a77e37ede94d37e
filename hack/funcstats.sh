#!/usr/bin/env bash
# funcstats.sh prints the ten longest functions in the non-test Go files under
# controllers/, realtime/ and cmd/, and the field counts of the Hub and
# Connection structs (hack/funcstats). DIR is the checkout to measure; it
# defaults to this one, and may be an older commit's worktree:
#
#   git worktree add /tmp/wt-before fec9511
#   hack/funcstats.sh /tmp/wt-before
#   git worktree remove /tmp/wt-before
set -euo pipefail
dir=$(cd "${1:-.}" && pwd)
cd "$(dirname "$0")/.."
go run ./hack/funcstats "$dir"
