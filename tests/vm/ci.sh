#!/usr/bin/env bash
# The appliance part of CI (for .ci/run): builds the vsd .deb, lints it,
# checks that installing and purging it leaves no file behind, builds the
# appliance image and runs the VM test under qemu (TCG unless the host has
# working KVM). Fresh Debian 12, as root. Prints the time of each step and
# fails when the image build takes over 6 minutes or the VM tests over 12.
#
#   sudo bash tests/vm/ci.sh [--skip-install-check]
# The packages land in the repository's parent directory (dpkg-buildpackage),
# the image in build-image/.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
[ "$(id -u)" = 0 ] || { echo "tests/vm/ci.sh: run as root" >&2; exit 1; }
install_check=1
[ "${1:-}" = --skip-install-check ] && install_check=0

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
t=$(secs)
echo "=== dpkg-buildpackage -b -us -uc"
dpkg-buildpackage -b -us -uc >/tmp/vsd-dpkg-buildpackage.log 2>&1 || { tail -50 /tmp/vsd-dpkg-buildpackage.log; exit 1; }
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
deb=$repo/../vsd_${version}_${arch}.deb
echo "built $deb in $(( $(secs) - t )) s"

echo "=== lintian"
lintian --pedantic -I "$repo/../vsd_${version}_${arch}.changes" | tee /tmp/vsd-lintian.log || true
if grep -q '^E:' /tmp/vsd-lintian.log; then echo "lintian reports errors" >&2; exit 1; fi

if [ "$install_check" = 1 ]; then
  echo "=== install and purge leave the system as it was"
  snap() {
    find /etc /usr /var /opt /run -xdev \( -path /var/lib/dpkg -o -path /var/cache -o -path /var/log \
      -o -path /var/tmp -o -path /run/user -o -path '/run/vsd[0-9]*' -o -path '/run/netns' \) -prune \
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

[ "$image_s" -le 360 ] || { echo "image build over budget: $image_s s > 6 min" >&2; exit 1; }
[ "$vm_s" -le 720 ] || { echo "VM tests over budget: $vm_s s > 12 min" >&2; exit 1; }
echo "tests/vm/ci.sh: package, image and VM tests passed (image ${image_s} s, VM ${vm_s} s)"
