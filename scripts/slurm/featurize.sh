#!/bin/bash
#SBATCH --job-name=soapix-featurize
#SBATCH --array=1-8
#SBATCH --cpus-per-task=16
#SBATCH --mem=4G
#SBATCH --time=01:00:00
#SBATCH --output=soapix-featurize-%A_%a.out
# One Slurm array task per shard: task i featurizes part i of 8 of MNIST's training images at the
# paper's parameters into the shared folder OUT (the folder every task and the merge can reach).
#   jobid=$(sbatch --parsable featurize.sh OUT [more soapix featurize flags, e.g. --limit 1000])
#   sbatch --dependency=afterok:$jobid --wrap "npx --no-install soapix merge OUT"
# A rerun of the array (or of one task: sbatch --array=3 featurize.sh OUT) skips finished shards.
set -euo pipefail
shards=8 # the size of --array above
out="${1:?usage: sbatch featurize.sh OUT [more soapix featurize flags]}"
shift
npx --no-install soapix featurize --dataset mnist --split train --r-cut 63 --n-max 7 --l-max 10 --sigma 3 \
  --dtype float32 --threads "${SLURM_CPUS_PER_TASK:-0}" \
  --shard "${SLURM_ARRAY_TASK_ID:?submit this script with sbatch}/$shards" --out "$out" "$@"
