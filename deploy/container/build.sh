#!/bin/sh
# Prepares the build context of the eseal container image from the offline bundle:
#   deploy/container/build.sh dist/eseal-<version>-linux-x64.tar.gz [context-dir]
# writes (default dist/container-<version>/): Containerfile, rootfs.tar (/bin/sh = a static busybox,
# /opt/eseal = the bundle, /etc/passwd, /etc/group, /tmp; all owned by root), data.tar (/data, owned
# by 10001, the user the image runs as) and the seccomp profile for Docker 1.13 hosts; then prints
# the docker build command. Needs tar and a static busybox (ESEAL_BUSYBOX, default /bin/busybox:
# Debian's busybox-static). Builds nothing itself: docker may not be on the machine that bundles.
set -eu

usage() { echo "usage: $0 eseal-<version>-linux-x64.tar.gz [context-dir]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
tarball=$1
here=$(cd "$(dirname "$0")" && pwd -P)
busybox=${ESEAL_BUSYBOX:-/bin/busybox}
uid=10001

[ -f "$tarball" ] || { echo "$0: no such bundle: $tarball" >&2; exit 1; }
# the bundle unpacks to one folder eseal-<version>/
top=$(tar -tzf "$tarball" | head -n 1)
top=${top%%/*}
case "$top" in
  eseal-?*) version=${top#eseal-} ;;
  *) echo "$0: $tarball is not an eseal bundle (its first entry is '$top', not eseal-<version>/)" >&2; exit 1 ;;
esac
[ -f "$busybox" ] || { echo "$0: no busybox at $busybox (apt-get install busybox-static, or set ESEAL_BUSYBOX)" >&2; exit 1; }
if command -v file >/dev/null 2>&1 && ! file -L "$busybox" | grep -q 'statically linked'; then
  echo "$0: $busybox is not statically linked: the image has no libc for it (apt-get install busybox-static)" >&2
  exit 1
fi

context=${2:-$(dirname "$tarball")/container-$version}
rm -rf "$context"
mkdir -p "$context"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT INT TERM

root=$stage/rootfs
mkdir -p "$root/bin" "$root/etc" "$root/opt" "$root/tmp"
cp "$busybox" "$root/bin/sh"
chmod 0755 "$root/bin/sh"
chmod 1777 "$root/tmp"
tar -xzf "$tarball" -C "$root/opt"
mv "$root/opt/$top" "$root/opt/eseal"
[ -x "$root/opt/eseal/bin/eseal" ] || { echo "$0: the bundle has no bin/eseal" >&2; exit 1; }
printf 'root:x:0:0:root:/:/bin/sh\neseal:x:%s:%s:eseal:/data:/bin/sh\n' "$uid" "$uid" > "$root/etc/passwd"
printf 'root:x:0:\neseal:x:%s:\n' "$uid" > "$root/etc/group"
# numeric owners in the archives: ADD keeps them whoever ran this script
tar -cf "$context/rootfs.tar" -C "$root" --numeric-owner --owner=0 --group=0 .

mkdir -p "$stage/data/data"
chmod 0700 "$stage/data/data"
tar -cf "$context/data.tar" -C "$stage/data" --numeric-owner --owner=$uid --group=$uid data

cp "$here/Containerfile" "$context/Containerfile"
cp "$here/seccomp-clone3-enosys.json" "$context/seccomp-clone3-enosys.json"
echo "eseal $version: build context in $context"
echo "  docker build -t eseal:$version -f $context/Containerfile $context"
