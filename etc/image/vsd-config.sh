#!/bin/sh
# vsd appliance (installed as /usr/local/sbin/vsd-apply-config, run by
# vsd-config.service at every boot before the network and vsd start): copies
# the operator's configuration from a disk labelled VSDCONF, read-only.
#
#   vsd.toml                        -> /etc/vsd/vsd.toml
#   *.network, *.netdev, *.link     -> /etc/systemd/network/ (they replace all
#                                      files there, the DHCP default included)
#   hostname                        -> /etc/hostname
#   sysctl.conf                     -> /etc/sysctl.d/90-vsdconf.conf (applied)
#   root-password-hash              -> root's password (a crypt(3) hash, e.g.
#                                      from `openssl passwd -6`)
#   local.sh                        -> run last with /bin/sh (anything else)
#
# Without such a disk the image's configuration stays as it is.
set -eu
log() { echo "vsd-config: $*"; }

udevadm settle --timeout=20 || true
dev=""
for t in 1 2 3 4 5; do
  dev=$(blkid -L VSDCONF 2>/dev/null || true)
  [ -n "$dev" ] && break
  [ -e /dev/disk/by-label/VSDCONF ] && { dev=/dev/disk/by-label/VSDCONF; break; }
  sleep 1
done
if [ -z "$dev" ]; then
  log "no disk labelled VSDCONF: keeping the image's configuration"
  exit 0
fi
mnt=$(mktemp -d /run/vsdconf.XXXXXX)
mount -o ro "$dev" "$mnt"
trap 'umount "$mnt" 2>/dev/null || true; rmdir "$mnt" 2>/dev/null || true' EXIT
log "configuration disk $dev"

if [ -f "$mnt/vsd.toml" ]; then
  install -D -m 0644 "$mnt/vsd.toml" /etc/vsd/vsd.toml
  log "installed /etc/vsd/vsd.toml"
fi

net_files=$(find "$mnt" -maxdepth 1 -type f \( -name '*.network' -o -name '*.netdev' -o -name '*.link' \) | sort)
if [ -n "$net_files" ]; then
  mkdir -p /etc/systemd/network
  rm -f /etc/systemd/network/*.network /etc/systemd/network/*.netdev /etc/systemd/network/*.link
  for f in $net_files; do
    install -m 0644 "$f" /etc/systemd/network/
    log "installed /etc/systemd/network/$(basename "$f")"
  done
fi

if [ -f "$mnt/hostname" ]; then
  name=$(tr -cd 'A-Za-z0-9.-' <"$mnt/hostname")
  if [ -n "$name" ]; then
    echo "$name" >/etc/hostname
    hostname "$name"
    log "hostname $name"
  fi
fi

if [ -f "$mnt/sysctl.conf" ]; then
  install -m 0644 "$mnt/sysctl.conf" /etc/sysctl.d/90-vsdconf.conf
  sysctl -q -p /etc/sysctl.d/90-vsdconf.conf || log "some sysctls of sysctl.conf failed"
  log "installed /etc/sysctl.d/90-vsdconf.conf"
fi

if [ -f "$mnt/root-password-hash" ]; then
  hash=$(head -n 1 "$mnt/root-password-hash")
  usermod -p "$hash" root
  log "root password set"
fi

if [ -f "$mnt/local.sh" ]; then
  log "running local.sh"
  sh "$mnt/local.sh" || log "local.sh exited with status $?"
fi
