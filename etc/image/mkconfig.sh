#!/usr/bin/env bash
# Makes a vsd appliance configuration disk: a small FAT image labelled
# VSDCONF holding the given files (vsd.toml, *.network, *.netdev, *.link,
# hostname, sysctl.conf, root-password-hash, local.sh; see
# etc/image/vsd-config.sh). NAME=FILE puts FILE on the disk as NAME.
# No root or mounts needed (mtools).
#
#   etc/image/mkconfig.sh OUT.img vsd.toml=my-cluster.toml 10-lan.network 20-wan.network ...
#
# Attach it as a second disk (qemu: -drive file=OUT.img,format=raw,if=virtio,readonly=on).
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
out=$1; shift
for a in "$@"; do
  f=${a#*=}
  [ -f "$f" ] || { echo "mkconfig.sh: $f: no such file" >&2; exit 2; }
done
rm -f "$out"
mkfs.vfat -n VSDCONF -C "$out" 4096 >/dev/null
for a in "$@"; do
  if [[ $a == *=* ]]; then name=${a%%=*} f=${a#*=}; else name=$(basename "$a") f=$a; fi
  mcopy -i "$out" "$f" "::/$name"
done
mdir -i "$out" -b ::/ | sed 's,^::/,  ,'
