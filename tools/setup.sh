# Shared by tools/run and tools/check: install what is missing, then configure and
# build build/ (optimised, assertions on). Sourced, not run.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

packages=(libsystemc-dev libyaml-cpp-dev libboost-program-options-dev doctest-dev nlohmann-json3-dev cmake ninja-build g++ pkg-config
          gnuplot-nox parallel slurm-wlm munge)  # sweeps: plots, GNU parallel, a one-node Slurm cluster for the tests
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
fi

if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C build
