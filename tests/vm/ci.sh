#!/usr/bin/env bash
# The appliance part of CI (for .ci/run): builds the vsd .deb, lints it,
# checks that installing and purging it leaves no file behind, builds the
# appliance image and runs the VM test under qemu (TCG unless the host has
# working KVM), then the VM lab's CI subset (tests/vm/lab.sh: vsd's kernel
# TUN path with kernel-decapsulating real servers, and vsd against kernel
# IPVS side by side, on Debian's kernel; VSD_SKIP_LAB=1 leaves it out).
# Fresh Debian 12, as root. Prints the time of each step, and a warning when
# the images (the appliance's, and the lab's unless cached) take over 6
# minutes or the VM tests (tests/vm/run.sh and the lab) over 12.
#
#   sudo bash tests/vm/ci.sh [--skip-install-check] [--deb FILE]
# The packages land in the repository's parent directory (dpkg-buildpackage),
# the image in build-image/. --deb FILE tests that package instead of
# building one (no lintian, no install check): for a developer who just
# built it.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
[ "$(id -u)" = 0 ] || { echo "tests/vm/ci.sh: run as root" >&2; exit 1; }
install_check=1 given_deb=
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-install-check) install_check=0; shift ;;
    --deb) given_deb=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); install_check=0; shift 2 ;;
    *) echo "tests/vm/ci.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

bash .ci/install-deps.sh
need=(dpkg-dev debhelper lintian qemu-system-x86 qemu-utils mmdebstrap dosfstools mtools syslinux syslinux-common fdisk)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

secs() { date +%s; }
t_ci=$(secs)
t=$(secs)
if [ -n "$given_deb" ]; then
  deb=$given_deb
  [ -f "$deb" ] || { echo "tests/vm/ci.sh: $deb: no such file" >&2; exit 2; }
  echo "=== testing $deb (not built here: no lintian, no install check)"
else
  echo "=== dpkg-buildpackage -b -us -uc"
  dpkg-buildpackage -b -us -uc >/tmp/vsd-dpkg-buildpackage.log 2>&1 || { tail -50 /tmp/vsd-dpkg-buildpackage.log; exit 1; }
  version=$(dpkg-parsechangelog -S Version)
  arch=$(dpkg --print-architecture)
  deb=$repo/../vsd_${version}_${arch}.deb
  echo "built $deb in $(( $(secs) - t )) s"

  echo "=== lintian"
  lintian --pedantic -I "$repo/../vsd_${version}_${arch}.changes" | tee /tmp/vsd-lintian.log || true
  if grep -q '^E:' /tmp/vsd-lintian.log; then echo "lintian reports errors" >&2; exit 1; fi
fi

if [ "$install_check" = 1 ]; then
  echo "=== install and purge leave the system as it was"
  # /run/vsd is left out: a runtime directory the netns tests that ran
  # before on this host use (their vsds' sockets and state), which the
  # package's purge rightly empties.
  snap() {
    find /etc /usr /var /opt /run -xdev \( -path /var/lib/dpkg -o -path /var/cache -o -path /var/log \
      -o -path /var/tmp -o -path /run/user -o -path '/run/vsd[0-9]*' -o -path '/run/netns' \
      -o -path /run/vsd \) -prune \
      -o -printf '%y %m %u %p\n' 2>/dev/null | sort
  }
  if dpkg-query -W -f='${Status}' vsd 2>/dev/null | grep -q "install ok installed"; then
    echo "vsd is installed on this machine: skipping the install/purge check"
  else
    snap >/tmp/vsd-snap-before
    apt-get install -y -qq "$deb" >/dev/null
    [ -x /usr/sbin/vsd ] && [ -f /etc/vsd/vsd.toml ] && man -w vsd.toml >/dev/null
    dpkg -P vsd >/dev/null
    snap >/tmp/vsd-snap-after
    if ! diff /tmp/vsd-snap-before /tmp/vsd-snap-after; then echo "purge left the differences above" >&2; exit 1; fi
    echo "ok: nothing left after purge"
  fi
fi

echo "=== etc/image/build.sh"
t=$(secs)
bash etc/image/build.sh --deb "$deb"
image_s=$(( $(secs) - t ))
echo "image built in $image_s s"

echo "=== tests/vm/run.sh"
t=$(secs)
bash tests/vm/run.sh --image build-image/vsd-appliance.qcow2
vm_s=$(( $(secs) - t ))
echo "VM tests in $vm_s s"

lab_image_s=0 lab_s=0
if [ "${VSD_SKIP_LAB:-0}" != 1 ]; then
  echo "=== tests/vm/lab-image.sh (cached on the recipe and the package's dependencies)"
  t=$(secs)
  lab_image=$(bash tests/vm/lab-image.sh --deb "$deb" | tail -1)
  lab_image_s=$(( $(secs) - t ))
  echo "lab image $lab_image in $lab_image_s s"
  echo "=== tests/vm/lab.sh (CI subset)"
  t=$(secs)
  bash tests/vm/lab.sh --deb "$deb" --image "$lab_image"
  lab_s=$(( $(secs) - t ))
  echo "VM lab in $lab_s s"
fi

# The budgets (issue 16: images under 6 min, VM tests under 12) are
# reported, not asserted: a slow or shared CI machine must not turn working
# tests red (a timed assertion is no measurement); the line says what to trim.
[ $(( image_s + lab_image_s )) -le 360 ] ||
  echo "WARNING: image builds over budget: $image_s s + $lab_image_s s (lab) > 6 min; a slow mirror? (etc/image/build.sh --mirror)" >&2
[ $(( vm_s + lab_s )) -le 720 ] ||
  echo "WARNING: VM tests over budget: $vm_s s + $lab_s s (lab) > 12 min; trim LAB_CI_TESTS in tests/vm/lab.sh" >&2
echo "tests/vm/ci.sh: package, image, VM tests and VM lab passed in $(( $(secs) - t_ci )) s" \
  "(image ${image_s} s, lab image ${lab_image_s} s, VM ${vm_s} s, lab ${lab_s} s)"
