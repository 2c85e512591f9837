#!/usr/bin/env bash
# A real Slurm run (a step of .ci/run): starts a one-node Slurm cluster on this machine and runs
# the README's job-array workflows on it, checking their outputs against unsharded runs.
#
#   1. Installs Debian's slurm-wlm and munge when missing.
#   2. Starts munged, slurmctld and slurmd by hand (no systemd) with a minimal slurm.conf written to
#      a temporary folder (ports picked free; SlurmUser = the current user; proctrack/linuxproc,
#      task/none), and waits for the node to be idle.
#   3. Featurize: submits scripts/slurm/featurize.sh (the script the README shows) as an 8-task
#      array with a small --limit, and `soapix merge` as a job that depends on it (afterok); checks
#      that the merged features.npy, labels.npy and centers.npy are byte-identical to an unsharded
#      run's.
#   4. Experiment grid: `soapix experiment compression --tiny --shard $SLURM_ARRAY_TASK_ID/2` as a
#      2-task array, then the same command without --shard as a dependent job (it finds every unit
#      done and merges); checks that its results.json equals an unsharded run's, timings, dates,
#      commands and paths aside.
#   5. Whatever happens (failure, timeout, Ctrl-C), cancels its jobs and stops its daemons by their
#      pids, and fails with a message that says why if Slurm cannot start: it never passes silently.
#
# Usage: bash scripts/slurm-ci.sh        (needs dist/ built: npm ci or npm run build:ts)
# Environment: SLURM_CI_TIMEOUT (seconds the jobs may take from submission, default 300), SLURM_CI_KEEP=1 keeps
# the temporary folder (configuration, logs, outputs) for inspection.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
timeout_s="${SLURM_CI_TIMEOUT:-300}"
limit=24  # MNIST training images featurized (3 per shard)
shards=8  # must equal the --array size in scripts/slurm/featurize.sh
exp_shards=2

say() { echo "slurm-ci: $*"; }
fail() {
  echo "slurm-ci: FAIL: $*" >&2
  exit 1
}

[[ -f dist/cli.js ]] || fail "dist/cli.js is missing: build first (npm ci or npm run build:ts)"
grep -qE "^shards=$shards( |$)" scripts/slurm/featurize.sh ||
  fail "scripts/slurm/featurize.sh no longer splits into $shards shards; update shards= here"

# ---- 1. install --------------------------------------------------------------------------------
need=()
for cmd in slurmctld slurmd sbatch squeue scontrol scancel sinfo; do command -v "$cmd" >/dev/null || need+=(slurm-wlm); done
for cmd in munged mungekey; do command -v "$cmd" >/dev/null || need+=(munge); done
if ((${#need[@]})); then
  pkgs=$(printf '%s\n' "${need[@]}" | sort -u | tr '\n' ' ')
  say "installing $pkgs"
  sudo=""
  ((EUID == 0)) || sudo="sudo"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $pkgs; } ||
    fail "cannot install $pkgs (apt-get failed; Slurm is needed for this step)"
fi
say "$(slurmctld -V), munge $(munged -V 2>&1 | head -n 1 | awk '{print $2}')"

# ---- 2. the cluster ----------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/soapix-slurm.XXXXXX")"
chmod 700 "$work"
mkdir -p "$work/munge" "$work/ctld" "$work/spool" "$work/logs" "$work/out"
user="$(id -un)"
host="$(hostname -s)"
pids=()    # daemons we started, in start order
names=()   # their names
jobs=()    # job ids we submitted
ok=0

daemon_logs() {
  local f
  for f in "$work"/munge/munged.log "$work"/slurmctld.log "$work"/slurmd.log "$work"/logs/*; do
    [[ -s "$f" ]] || continue
    echo "----- ${f#"$work"/} (last 25 lines)" >&2
    tail -n 25 "$f" >&2
  done
}

cleanup() {
  local rc=$? pid i
  trap - EXIT INT TERM
  set +e
  ((rc == 0 && ok == 1)) || daemon_logs
  if ((${#jobs[@]})) && [[ -n "${SLURM_CONF:-}" ]]; then
    scancel "${jobs[@]}" 2>/dev/null
    # Let the step daemons of cancelled jobs finish before slurmd goes.
    for ((i = 0; i < 20; i++)); do
      [[ -z "$(squeue -h -j "$(IFS=,; echo "${jobs[*]}")" 2>/dev/null)" ]] && break
      sleep 0.5
    done
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "slurm-ci: daemon $pid did not stop on SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
  ((${#pids[@]})) && say "stopped daemons ${pids[*]}"
  if [[ "${SLURM_CI_KEEP:-0}" == 1 ]]; then say "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Free TCP ports for slurmctld and slurmd (another cluster on this machine must not clash).
read -r ctld_port slurmd_port < <(node -e '
  const net = require("node:net");
  const get = () => new Promise((ok) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); }); });
  (async () => { const a = await get(); let b = await get(); while (b === a) b = await get(); console.log(a, b); })();')

cpus="$(nproc)"
mem_mb=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 / 2)) # half the memory for jobs

mungekey --create --keyfile="$work/munge/munge.key" --force >/dev/null 2>&1 ||
  dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
socket="$work/munge/munge.socket"

export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=soapix-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$work/ctld
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MailProg=/bin/true
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

munged --foreground --force --socket="$socket" --key-file="$work/munge/munge.key" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" \
  >"$work/munge/munged.out" 2>&1 &
pids+=($!)
names+=(munged)
for _ in $(seq 1 40); do [[ -S "$socket" ]] && break; kill -0 "${pids[0]}" 2>/dev/null || break; sleep 0.25; done
[[ -S "$socket" ]] || { cat "$work/munge/munged.out" >&2; fail "munged did not start (no socket $socket)"; }

slurmctld -D -f "$SLURM_CONF" >"$work/slurmctld.out" 2>&1 &
pids+=($!)
names+=(slurmctld)
slurmd -D -f "$SLURM_CONF" -N "$host" >"$work/slurmd.out" 2>&1 &
pids+=($!)
names+=(slurmd)

state=""
for _ in $(seq 1 120); do
  for i in "${!pids[@]}"; do
    kill -0 "${pids[i]}" 2>/dev/null ||
      { cat "$work"/*.out >&2; fail "${names[i]} (pid ${pids[i]}) exited at start; its output and the logs follow"; }
  done
  state="$(sinfo -h -n "$host" -o %T 2>/dev/null || true)"
  [[ "$state" == idle ]] && break
  sleep 0.5
done
[[ "$state" == idle ]] || fail "the Slurm node did not become idle within 60 s (state: '${state:-no answer from slurmctld}'); logs follow"
say "cluster up: node $host ($cpus CPUs), slurmctld :$ctld_port, slurmd :$slurmd_port, daemons ${pids[*]}"

# ---- 3 and 4: submit ----------------------------------------------------------------------------
# The README's script as it stands; the sbatch flags only fit the request to this small node.
small=(--cpus-per-task=1 --mem=1G --time=00:10:00)
sharded="$work/out/featurize-sharded"
fid=$(sbatch --parsable "${small[@]}" --chdir="$root" --output="$work/logs/featurize-%A_%a.out" \
  scripts/slurm/featurize.sh "$sharded" --limit "$limit" --quiet)
jobs+=("$fid")
mid=$(sbatch --parsable "${small[@]}" --chdir="$root" --output="$work/logs/merge-%j.out" \
  --dependency=afterok:"$fid" --job-name=soapix-merge --wrap "npx --no-install soapix merge '$sharded'")
jobs+=("$mid")

grid="$work/out/compression-sharded"
eid=$(sbatch --parsable "${small[@]}" --chdir="$root" --output="$work/logs/experiment-%A_%a.out" \
  --array=1-"$exp_shards" --job-name=soapix-compression \
  --wrap "npx --no-install soapix experiment compression --tiny -q --shard \$SLURM_ARRAY_TASK_ID/$exp_shards --out '$grid'")
jobs+=("$eid")
rid=$(sbatch --parsable "${small[@]}" --chdir="$root" --output="$work/logs/experiment-merge-%j.out" \
  --dependency=afterok:"$eid" --job-name=soapix-compression-merge \
  --wrap "npx --no-install soapix experiment compression --tiny -q --out '$grid'")
jobs+=("$rid")
say "submitted: featurize array $fid ($shards tasks) -> merge $mid; compression array $eid ($exp_shards tasks) -> merge $rid"
deadline=$((SECONDS + timeout_s))

# The unsharded references, computed here while the cluster works.
single="$work/out/featurize-single"
node dist/cli.js featurize --dataset mnist --split train --r-cut 63 --n-max 7 --l-max 10 --sigma 3 \
  --dtype float32 --threads 1 --limit "$limit" --quiet --out "$single" || fail "the unsharded featurize run failed"
node dist/cli.js experiment compression --tiny -q --out "$work/out/compression-single" >"$work/logs/compression-single.out" 2>&1 ||
  { cat "$work/logs/compression-single.out" >&2; fail "the unsharded compression run failed"; }

# ---- wait ----------------------------------------------------------------------------------------
while [[ -n "$(squeue -h -j "$(IFS=,; echo "${jobs[*]}")" 2>/dev/null)" ]]; do
  if ((SECONDS >= deadline)); then
    squeue -j "$(IFS=,; echo "${jobs[*]}")" >&2 || true
    fail "the jobs did not finish within $timeout_s s (SLURM_CI_TIMEOUT)"
  fi
  sleep 1
done

# Every job and array task must have COMPLETED with exit code 0 (a failed task leaves the dependent
# job pending forever, so this also names the cause of a missing merge).
bad=0
for id in "${jobs[@]}"; do
  while read -r line; do
    [[ -n "$line" ]] || continue
    jid=$(grep -o 'JobId=[^ ]*' <<<"$line" | head -n 1)
    name=$(grep -o 'JobName=[^ ]*' <<<"$line" | head -n 1)
    st=$(grep -o 'JobState=[^ ]*' <<<"$line")
    ec=$(grep -o ' ExitCode=[^ ]*' <<<"$line")
    say "  $jid $name $st$ec"
    [[ "$st" == JobState=COMPLETED && "$ec" == " ExitCode=0:0" ]] || bad=1
  done < <(scontrol -o show job "$id" 2>/dev/null)
done
((bad == 0)) || fail "a Slurm job did not complete successfully (job logs follow)"

# ---- 3. featurize: byte-identical arrays ---------------------------------------------------------
for f in features.npy labels.npy centers.npy; do
  [[ -f "$sharded/$f" ]] || fail "the merge job wrote no $f in $sharded"
  cmp -s "$sharded/$f" "$single/$f" || fail "$f of the Slurm run differs from the unsharded run's"
  say "  $f identical ($(stat -c %s "$single/$f") bytes)"
done
rows=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).rows ?? "?")' "$single/meta.json")
say "featurize: $shards shards merged by Slurm = the unsharded run ($limit images, $rows rows)"

# ---- 4. experiment grid: same results.json numbers -----------------------------------------------
[[ -f "$grid/results.json" ]] || fail "the compression merge job wrote no results.json in $grid"
node scripts/slurm/same-results.mjs "$grid/results.json" "$work/out/compression-single/results.json" ||
  fail "the compression results of the Slurm run differ from the unsharded run's"
say "compression --tiny: $exp_shards shards + merge by Slurm = the unsharded run"

ok=1
say "ok"
