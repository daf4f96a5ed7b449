#!/usr/bin/env bash
# Sets up a fresh machine: a virtual env with the matching torch/torchvision pair, hitlbench with
# its test extras, and the Fashion-MNIST files from Debian's package when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet torch==2.14.1 torchvision==0.29.1
.venv/bin/pip install --quiet -e '.[test,ray,crowd]'

if [ -n "${HITLBENCH_DATA:-}" ] || [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  :
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist
else
  echo "Fashion-MNIST is missing. Either run: sudo apt-get install dataset-fashion-mnist" >&2
  echo "or set HITLBENCH_DATA to a folder with the four *-ubyte.gz files." >&2
fi
