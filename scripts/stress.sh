#!/usr/bin/env bash
# Runs the suites that drive real tools (HAProxy, keepalived, etcd, the namespace failover lab)
# N times while busy loops keep every core loaded, and prints pass/fail counts per file.
# A test that passes only on an idle machine shows up here, not in CI.
#
#   bash scripts/stress.sh [N=20] [test files…]     e.g. bash scripts/stress.sh 5
#   STRESS_LOAD=0 bash scripts/stress.sh 3          same, without the CPU load
#
# Logs of failing runs stay in the folder printed at the end. Exit 1 if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

runs="${1:-20}"
shift || true
files=("$@")
if ((${#files[@]} == 0)); then
  files=(
    __tests__/front-failover.test.ts
    __tests__/front.test.ts
    __tests__/etcd-cluster.test.ts
    __tests__/etcd-tls.test.ts
    __tests__/etcd-day2.test.ts
    __tests__/failover-lab.test.ts
    __tests__/failover-policies.test.ts
  )
fi
load="${STRESS_LOAD:-$(nproc)}"
out="$(mktemp -d "${TMPDIR:-/tmp}/coreos-stress-XXXXXX")"

# Busy loops, one per core (or STRESS_LOAD of them), at normal priority: they compete with the tests.
loaders=()
stop_load() {
  for pid in "${loaders[@]}"; do kill "$pid" 2>/dev/null; done
  wait "${loaders[@]}" 2>/dev/null
  loaders=()
}
trap stop_load EXIT
trap 'exit 130' INT TERM
for ((i = 0; i < load; i++)); do
  bash -c 'while :; do :; done' &
  loaders+=("$!")
done

declare -A pass fail
for f in "${files[@]}"; do
  pass[$f]=0
  fail[$f]=0
done
started=$(date +%s)
for ((run = 1; run <= runs; run++)); do
  json="$out/run-$run.json"
  run_failed=0
  CI=true npx jest --ci --json --outputFile="$json" "${files[@]}" >"$out/run-$run.log" 2>&1
  for f in "${files[@]}"; do
    status=$(node -e '
      const r = require(process.argv[1]);
      const t = r.testResults.find((x) => x.name.endsWith(process.argv[2]));
      process.stdout.write(!t ? "missing" : t.status === "passed" && t.assertionResults.every((a) => a.status !== "failed") ? "passed" : "failed");
    ' "$json" "$f" 2>/dev/null || echo missing)
    if [ "$status" = passed ]; then
      pass[$f]=$((pass[$f] + 1))
    else
      fail[$f]=$((fail[$f] + 1))
      run_failed=1
      echo "run $run: $f $status (log: $out/run-$run.log)"
    fi
  done
  ((run_failed)) || rm -f "$out/run-$run.log" "$json"
  echo "run $run/$runs done ($(($(date +%s) - started)) s)"
done
stop_load

echo
echo "stress: $runs runs, $load busy loops on $(nproc) cores, $(($(date +%s) - started)) s"
printf '%-40s %6s %6s\n' file passed failed
failed=0
for f in "${files[@]}"; do
  printf '%-40s %6d %6d\n' "${f#__tests__/}" "${pass[$f]}" "${fail[$f]}"
  failed=$((failed + fail[$f]))
done
echo "logs: $out"
((failed == 0))
