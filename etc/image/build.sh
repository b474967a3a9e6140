#!/usr/bin/env bash
# Builds the vsd appliance: a bootable Debian 12 disk image made from Debian
# packages alone (mmdebstrap) plus the vsd .deb. This script is the recipe.
#
#   sudo etc/image/build.sh --deb ../vsd_0.1.0_amd64.deb [--out build-image]
#
# Options:
#   --deb FILE        the vsd package (dpkg-buildpackage -b -us -uc puts it in ..);
#                     default: the newest ../vsd_*.deb next to the repository
#   --out DIR         output directory (default build-image/, ignored by git)
#   --format F        qcow2 (default) or raw
#   --size SIZE       disk size, e.g. 2G (default); the root file system fills it
#   --no-autologin    no root autologin on the serial console (the default image
#                     logs root in on ttyS0, which the VM tests drive)
#   --mirror M        apt source for mmdebstrap (a URL, or a .list/.sources file;
#                     repeatable); default: this machine's Debian sources
#   --keep-work       keep the work directory (root tree, partition images)
#   --variant V       appliance (default) or lab: the VM lab's image
#                     (tests/vm/lab-image.sh): vsd installed but not enabled,
#                     ip_vs not blacklisted, plus the integration tests' tools
#                     (ipvsadm, conntrack, socat, curl, python3, busybox, ...)
#   --name NAME       image file name without suffix (default vsd-appliance,
#                     vsd-lab for --variant lab)
#
# Output in DIR: vsd-appliance.qcow2 (or .raw), and the image's kernel and
# initrd (vmlinuz, initrd.img) for qemu -kernel boots and the KVM probe of
# tests/vm/run.sh.
#
# The disk: an MBR with syslinux's boot code; partition 1, FAT (VSDBOOT), holds
# syslinux, the kernel and the initrd; partition 2, ext4 (vsdroot), is the root.
# Both file systems are made from directories (mkfs.ext4 -d, mtools): no loop
# devices or mounts are needed. Kernel command line: console=tty0
# console=ttyS0,115200 — the serial console is the last, so it is /dev/console.
#
# What is in it: Debian's kernel (linux-image-amd64, its initrd with only the
# disk drivers a VM needs), systemd with systemd-networkd, nftables, iproute2,
# bash-completion, and vsd (enabled). ip_vs is blacklisted (modprobe.d: blacklist + install
# /bin/false): vsd needs no IPVS. At every boot vsd-config.service copies an
# operator's vsd.toml and systemd-networkd files from a disk labelled VSDCONF
# (see etc/image/mkconfig.sh and README.md "The package and the appliance image") before the network
# and vsd start. Without one, every en*/eth* interface uses DHCP.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

deb="" out="$repo/build-image" format=qcow2 size=2G autologin=1 keep_work=0 variant=appliance name=""
mirrors=()
while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --format) format=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --no-autologin) autologin=0; shift ;;
    --mirror) mirrors+=("$2"); shift 2 ;;
    --keep-work) keep_work=1; shift ;;
    --variant) variant=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "build.sh: run as root (mmdebstrap, file ownership in the image)" >&2; exit 1; }
case "$format" in qcow2|raw) ;; *) echo "build.sh: --format qcow2 or raw" >&2; exit 2 ;; esac
case "$variant" in appliance|lab) ;; *) echo "build.sh: --variant appliance or lab" >&2; exit 2 ;; esac
if [ -z "$name" ]; then
  if [ "$variant" = lab ]; then name=vsd-lab; else name=vsd-appliance; fi
fi

if [ -z "$deb" ]; then
  deb=$(ls -t "$repo"/../vsd_*.deb 2>/dev/null | grep -v dbgsym | head -1 || true)
  [ -n "$deb" ] || { echo "build.sh: no --deb given and no ../vsd_*.deb; build it first: dpkg-buildpackage -b -us -uc" >&2; exit 2; }
fi
[ -f "$deb" ] || { echo "build.sh: $deb: no such file" >&2; exit 2; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")

# Host tools, from Debian's archive (a no-op when present).
need=(mmdebstrap qemu-utils dosfstools mtools syslinux syslinux-common fdisk e2fsprogs)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "build.sh: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# apt sources: this machine's Debian 12 sources unless --mirror was given.
if [ "${#mirrors[@]}" = 0 ]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # Debian's own archive (or a mirror of it) for bookworm; not third-party repositories.
    active=$(grep -v '^[[:space:]]*#' "$f" || true)
    if grep -q bookworm <<<"$active" && grep -Eq 'debian\.org|/debian(-security)?/?([[:space:]]|$)' <<<"$active"; then
      mirrors+=("$f")
    fi
  done
  [ "${#mirrors[@]}" -gt 0 ] || mirrors=(http://deb.debian.org/debian)
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "$out/work.XXXXXX")
cleanup() {
  local rc=$?
  if [ "$keep_work" = 1 ]; then echo "build.sh: work directory kept: $work"; else rm -rf "$work"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start=$(date +%s)
step() { printf '[%4ss] %s\n' "$(( $(date +%s) - start ))" "$*"; }

# Files the image gets, written here and copied in by a customize hook.
files=$work/files
mkdir -p "$files"
cp "$here/vsd-config.sh" "$files/vsd-apply-config"
cp "$here/vsd-config.service" "$files/vsd-config.service"

step "mmdebstrap: Debian 12 and $(basename "$deb") (sources: ${mirrors[*]})"
root=$work/root
pkgs=(
  linux-image-amd64 initramfs-tools zstd
  systemd systemd-sysv udev dbus kmod e2fsprogs procps
  iproute2 nftables bash-completion
)
# The VM lab runs tests/integration/*_test.sh and the IPVS differential test
# inside the VM: their tools (.ci/install-deps.sh's runtime list) and ipvsadm.
if [ "$variant" = lab ]; then
  pkgs+=(conntrack socat curl python3 busybox ipvsadm arping ndisc6)
fi
# Only the kernel modules an appliance VM can use; no docs, man pages or
# locales except vsd's own documentation and the copyright files.
excludes=(
  '/usr/share/man/*' '/usr/share/info/*' '/usr/share/locale/*' '/usr/share/lintian/*' '/usr/share/doc/*'
  '/lib/modules/*/kernel/sound/*' '/lib/modules/*/kernel/drivers/gpu/*'
  '/lib/modules/*/kernel/drivers/media/*' '/lib/modules/*/kernel/drivers/net/wireless/*'
  '/lib/modules/*/kernel/net/wireless/*' '/lib/modules/*/kernel/net/mac80211/*'
  '/lib/modules/*/kernel/drivers/bluetooth/*' '/lib/modules/*/kernel/net/bluetooth/*'
  '/lib/modules/*/kernel/drivers/infiniband/*' '/lib/modules/*/kernel/drivers/staging/*'
  '/lib/modules/*/kernel/drivers/isdn/*' '/lib/modules/*/kernel/drivers/iio/*'
  '/lib/modules/*/kernel/drivers/usb/gadget/*'
)
dpkgopts=()
for p in "${excludes[@]}"; do
  dpkgopts+=(--dpkgopt="path-exclude=$p")
done
dpkgopts+=(--dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-include=/usr/share/doc/vsd/*')

# The initrd: the disk drivers of common hypervisors instead of "most"
# modules (a smaller initrd boots faster, notably under TCG). Written before
# the kernel is installed, so its postinst builds the initrd once.
initrd_modules="virtio_pci virtio_blk virtio_scsi sd_mod sr_mod ahci ata_piix ata_generic nvme"
initrd_modules+=" xen_blkfront vmw_pvscsi hv_storvsc ext4 crc32c_generic"

mmdebstrap --variant=apt --mode=root --format=directory \
  --include="$(IFS=,; echo "${pkgs[*]}")" \
  "${dpkgopts[@]}" \
  --setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"' \
  --setup-hook="printf 'MODULES=list\nCOMPRESS=zstd\n' > \"\$1/etc/initramfs-tools/conf.d/vsd-appliance.conf\"" \
  --setup-hook="printf '%s\n' $initrd_modules > \"\$1/usr/share/initramfs-tools/modules.d/vsd-appliance\"" \
  --customize-hook="copy-in '$deb' /tmp" \
  --customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o APT::Sandbox::User=root '/tmp/$(basename "$deb")'" \
  --customize-hook="rm -f \"\$1/tmp/$(basename "$deb")\"" \
  --customize-hook="AUTOLOGIN=$autologin VARIANT=$variant FILES='$files' '$here/customize.sh' \"\$1\"" \
  bookworm "$root" "${mirrors[@]}"

step "kernel and initrd"
kver=$(ls "$root"/lib/modules | sort -V | tail -1)
cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/initrd.img"
ls -l "$work/vmlinuz" "$work/initrd.img" | awk '{print "  " $5 " " $NF}'
du -sh "$root" | awk '{print "  root tree: " $1}'

# Sizes in MiB: 1 MiB before the first partition, 128 MiB boot, the rest root.
total_mib=$(( $(numfmt --from=iec "$size") / 1048576 ))
boot_mib=128
root_mib=$(( total_mib - 1 - boot_mib ))
used_mib=$(( $(du -sm "$root" | cut -f1) ))
[ "$root_mib" -gt $(( used_mib * 12 / 10 + 64 )) ] || { echo "build.sh: --size $size is too small for a ${used_mib} MiB root" >&2; exit 1; }

step "boot partition (FAT, syslinux)"
cat >"$work/syslinux.cfg" <<EOF
SERIAL 0 115200
DEFAULT vsd
PROMPT 0
TIMEOUT 0
LABEL vsd
  LINUX /vmlinuz
  INITRD /initrd.img
  APPEND root=LABEL=vsdroot ro console=tty0 console=ttyS0,115200n8 quiet
EOF
mkfs.vfat -n VSDBOOT -C "$work/boot.img" $(( boot_mib * 1024 )) >/dev/null
mcopy -i "$work/boot.img" "$work/vmlinuz" "$work/initrd.img" "$work/syslinux.cfg" ::/
syslinux --install "$work/boot.img"

step "root file system (ext4 from the tree, ${root_mib} MiB)"
# The tree's mount points must be empty: mmdebstrap has unmounted them.
mkfs.ext4 -q -L vsdroot -d "$root" "$work/root.img" "${root_mib}M"

step "disk: MBR + partitions"
disk=$work/disk.raw
truncate -s "${total_mib}M" "$disk"
sfdisk -q "$disk" <<EOF
label: dos
start=1MiB, size=${boot_mib}MiB, type=c, bootable
start=$(( 1 + boot_mib ))MiB, type=83
EOF
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none
dd if="$work/boot.img" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/root.img" of="$disk" bs=1M seek=$(( 1 + boot_mib )) conv=notrunc,sparse status=none

step "output ($format)"
img=$out/$name.$format
rm -f "$img"
if [ "$format" = qcow2 ]; then
  qemu-img convert -f raw -O qcow2 "$disk" "$img"
else
  mv "$disk" "$img"
fi
cp "$work/vmlinuz" "$work/initrd.img" "$out/"
qemu-img info "$img" | sed -n 's/^\(virtual size\|disk size\): /  \1: /p'
step "done: $img"
