#!/bin/sh
# mmdebstrap customize hook of etc/image/build.sh: turns the installed tree
# ($1) into the appliance. Runs on the build host; commands that must run
# inside the image use chroot. Environment: AUTOLOGIN (1/0), FILES (the
# directory with vsd-apply-config and vsd-config.service), VARIANT
# (appliance, the default, or lab: the VM lab of tests/vm/lab.sh, where the
# tests start vsd themselves and kernel IPVS is the differential baseline).
set -eu
root=$1

echo vsd >"$root/etc/hostname"
cat >"$root/etc/hosts" <<'HOSTS'
127.0.0.1	localhost
127.0.1.1	vsd
::1		localhost ip6-localhost ip6-loopback
HOSTS
cat >"$root/etc/fstab" <<'FSTAB'
# <file system>   <mount point>  <type>  <options>           <dump>  <pass>
LABEL=vsdroot     /              ext4    errors=remount-ro   0       1
FSTAB
ln -sf /usr/share/zoneinfo/Etc/UTC "$root/etc/localtime"
echo Etc/UTC >"$root/etc/timezone"
# A fresh machine id per VM (systemd makes one at first boot); no
# interactive first-boot questions on the console.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
chroot "$root" systemctl mask systemd-firstboot.service >/dev/null

variant=${VARIANT:-appliance}
[ "$variant" = lab ] && echo vsd-lab >"$root/etc/hostname"

# No IPVS: vsd does the job in userspace, and this proves it. (The lab
# keeps ip_vs: it is the baseline of the differential test.)
[ "$variant" = lab ] || cat >"$root/etc/modprobe.d/vsd-no-ip_vs.conf" <<'MODPROBE'
# vsd replaces the kernel's IPVS: keep ip_vs (and so every ip_vs_* scheduler,
# which depends on it) from loading at all.
blacklist ip_vs
install ip_vs /bin/false
MODPROBE

# Networking: systemd-networkd from .network files. The default gives every
# Ethernet interface DHCP; the VSDCONF disk's files replace it.
mkdir -p "$root/etc/systemd/network"
cat >"$root/etc/systemd/network/99-vsd-default.network" <<'NETWORK'
# Default of the vsd appliance: DHCP (v4) and SLAAC on every Ethernet
# interface. Files from a VSDCONF disk replace this one.
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
NETWORK
chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1
# network-online.target (vsd.service waits for it) must not hold the boot for
# two minutes because an interface has no carrier or no DHCP server.
mkdir -p "$root/etc/systemd/system/systemd-networkd-wait-online.service.d"
cat >"$root/etc/systemd/system/systemd-networkd-wait-online.service.d/vsd-appliance.conf" <<'WAIT'
[Service]
ExecStart=
ExecStart=/lib/systemd/systemd-networkd-wait-online --timeout=30
WAIT

# The operator's configuration from a VSDCONF disk, at every boot.
install -m 0755 "$FILES/vsd-apply-config" "$root/usr/local/sbin/vsd-apply-config"
install -m 0644 "$FILES/vsd-config.service" "$root/etc/systemd/system/vsd-config.service"
chroot "$root" systemctl enable vsd-config.service >/dev/null 2>&1
# The package ships vsd disabled; the appliance runs it (the lab's tests
# start their own vsds in network namespaces, and have no NIC to wait for).
if [ "$variant" = lab ]; then
  chroot "$root" systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1
else
  chroot "$root" systemctl enable vsd.service >/dev/null 2>&1
fi

# Serial console: the kernel's console= makes systemd start
# serial-getty@ttyS0; with AUTOLOGIN=1 it logs root in (tests/vm drives it).
if [ "${AUTOLOGIN:-1}" = 1 ]; then
  mkdir -p "$root/etc/systemd/system/serial-getty@ttyS0.service.d"
  cat >"$root/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'GETTY'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %I $TERM
GETTY
fi
# Console noise off the serial line once the system is up.
mkdir -p "$root/etc/sysctl.d"
echo "kernel.printk = 3 4 1 3" >"$root/etc/sysctl.d/10-vsd-console.conf"

# Journal kept on disk: journalctl -u vsd across reboots.
mkdir -p "$root/var/log/journal"

# apt's lists and caches are not needed to run; apt update brings them back.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
