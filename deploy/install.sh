#!/bin/sh
# eseal installer: installs, upgrades (rolling back when the new version is not healthy) and removes
# the offline bundle on a systemd server (CentOS 7.6: bash 4.2, systemd 219; also busybox sh).
#
#   sh install.sh eseal-<version>-linux-x64.tar.gz [--roles relay,console,gb28181,edge] [--data /data/eseal] [--no-start]
#   sh install.sh --rollback            # back to the previous version (the `previous` link)
#   sh install.sh --uninstall [--purge] # units and code go; data and /etc/eseal stay unless --purge
#
# Layout: /opt/eseal/<version>/ (the unpacked bundle), /opt/eseal/current -> <version> (what the units
# run), /opt/eseal/previous -> <version> (what a failed upgrade goes back to), /opt/eseal/install.state
# (roles, data directory, ports this installer opened), /etc/eseal/eseal.yaml (made once from the
# bundle's example, never overwritten), /etc/eseal/eseal-<role>.env (secrets, e.g.
# ESEAL_EDGE_PASSWORD; root only), /etc/systemd/system/eseal-<role>.service.
#
# ESEAL_INSTALL_ROOT prefixes every path written or read (tests); the commands systemctl,
# firewall-cmd, useradd, userdel, runuser, chronyc and timedatectl are taken from PATH.
# ESEAL_HEALTH_TIMEOUT (90 s) and ESEAL_HEALTH_INTERVAL (2 s) bound the health check after a start;
# ESEAL_FIREWALL_ZONE picks a firewalld zone other than the default one.
#
# Exit status: 0 done; 1 failed (nothing switched); 2 usage; 3 the new version was not healthy (rolled
# back to the previous one when there was one).

set -u
umask 022

PROG=eseal-install
R=${ESEAL_INSTALL_ROOT:-}
R=${R%/}
OPT=$R/opt/eseal
ETC=$R/etc/eseal
CONF=$ETC/eseal.yaml
UNIT_DIR=$R/etc/systemd/system
STATE=$OPT/install.state
SVC_USER=eseal
# owner of /etc/eseal and its files: root, or in a test root whoever runs the test
ROOT_UID=0
[ -n "$R" ] && ROOT_UID=$(id -u)
KNOWN_ROLES='relay console gb28181 edge' # the start order: the console reads the relay, the edge reports to it
DEFAULT_ROLES='relay console'
DEFAULT_DATA=/data/eseal
HEALTH_TIMEOUT=${ESEAL_HEALTH_TIMEOUT:-90}
HEALTH_INTERVAL=${ESEAL_HEALTH_INTERVAL:-2}
FW_ZONE=${ESEAL_FIREWALL_ZONE:-}
# gb28181 until its role says otherwise: SIP on 5060 (UDP and TCP), RTP/PS media on this range
GB_SIP_PORT=5060
GB_MEDIA_PORTS=30000-30500

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: WARNING: %s\n' "$PROG" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$PROG" "$1" >&2
  exit "${2:-1}"
}
have() { command -v "$1" >/dev/null 2>&1; }

usage() {
  cat <<'EOF'
usage: install.sh eseal-<version>-linux-x64.tar.gz [--roles relay,console,gb28181,edge] [--data DIR] [--no-start]
       install.sh --rollback
       install.sh --uninstall [--purge]

  --roles LIST   the roles this server runs, one systemd unit each (default: the installed ones, else relay,console)
  --data DIR     the data directory on the disk chosen for evidence (default: the configuration's
                 dataDir, else /data/eseal); 0700, owned by the eseal user
  --no-start     install or upgrade without starting (or restarting) the services
  --rollback     switch back to the previous version and restart
  --uninstall    remove the units, the firewall openings and /opt/eseal; keep data and /etc/eseal
  --purge        with --uninstall: remove the data directory, /etc/eseal and the eseal user too
EOF
  exit "${1:-2}"
}

# ---- state: key=value lines in /opt/eseal/install.state ----------------------------------------

state_get() { [ -f "$STATE" ] && sed -n "s/^$1=//p" "$STATE" | head -n 1; }

state_write() { # roles data ports
  mkdir -p "$OPT" || die "cannot create $OPT"
  printf 'roles=%s\ndata=%s\nports=%s\n' "$1" "$2" "$3" >"$STATE.tmp" && mv -f "$STATE.tmp" "$STATE" ||
    die "cannot write $STATE"
}

# ---- locking: one installer at a time -----------------------------------------------------------

LOCK=
TMP=
cleanup() {
  [ -n "$TMP" ] && rm -rf "$TMP"
  [ -n "$LOCK" ] && rmdir "$LOCK" 2>/dev/null
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

take_lock() {
  mkdir -p "$OPT" || die "cannot create $OPT"
  mkdir "$OPT/.lock" 2>/dev/null || die "another install.sh is running (or one was killed: remove $OPT/.lock)"
  LOCK=$OPT/.lock
}

need_root() {
  [ -n "$R" ] && return 0
  [ "$(id -u)" = 0 ] || die 'run as root (sudo sh install.sh …)'
}

# ---- the eseal user ------------------------------------------------------------------------------

passwd_field() { # field number of the eseal line in passwd
  [ -f "$R/etc/passwd" ] && awk -F: -v u="$SVC_USER" -v f="$1" '$1 == u { print $f; exit }' "$R/etc/passwd"
}

user_exists() {
  [ -n "$(passwd_field 1)" ] && return 0
  [ -z "$R" ] && id -u "$SVC_USER" >/dev/null 2>&1
}

ensure_user() { # home
  if user_exists; then return 0; fi
  have useradd || die "useradd not found: create a system user $SVC_USER by hand (no login shell) and run again"
  nologin=/sbin/nologin
  [ -x "$nologin" ] || nologin=/usr/sbin/nologin
  [ -x "$nologin" ] || nologin=/bin/false
  useradd -r -M -d "$1" -s "$nologin" -c 'eseal appliance' "$SVC_USER" || die "useradd $SVC_USER failed"
  say "created the system user $SVC_USER (no login shell)"
}

# owner by number where passwd has it (so a test root's passwd works), by name otherwise
owner() {
  uid=$(passwd_field 3)
  gid=$(passwd_field 4)
  if [ -n "$uid" ] && [ -n "$gid" ]; then printf '%s:%s' "$uid" "$gid"; else printf '%s:%s' "$SVC_USER" "$SVC_USER"; fi
}
group_of_user() { owner | sed 's/^[^:]*://'; }

as_service_user() { # runs a command as the eseal user (it must not create root-owned files in the data dir)
  if have runuser; then
    runuser -u "$SVC_USER" -- "$@"
  else
    su -s /bin/sh -c 'exec "$0" "$@"' "$SVC_USER" "$@"
  fi
}

# ---- reading the configuration through the bundle's own `eseal config check` ---------------------

CFG=
# config_check BIN ROLE: the effective configuration as the ROLE's unit will see it (its env file too)
config_check() {
  CFG=$(
    env_file=$ETC/eseal-$2.env
    if [ -r "$env_file" ]; then
      set -a
      . "$env_file"
      set +a
    fi
    # checked as the role's unit will run it (`eseal start --roles <role>`): a role's own rules apply
    ESEAL_ROLES=$2 "$1" config check --config "$CONF" 2>&1
  ) || return 1
}

# cfg_value KEY: the value of KEY in the last config check, strings without their quotes
cfg_value() {
  key=$(printf '%s' "$1" | sed 's/\./\\./g')
  printf '%s\n' "$CFG" | sed -n "s/^$key = //p" | head -n 1 | sed 's/^"\(.*\)"$/\1/'
}

is_loopback() {
  case $1 in
    127.* | ::1 | localhost | '[::1]') return 0 ;;
    *) return 1 ;;
  esac
}

# the live port of each edge camera: its livePort, else edge.live.basePort + its index
edge_camera_ports() { # base cameras-json
  printf '%s\n' "$2" | awk -v base="$1" '
    {
      s = $0; n = length(s); depth = 0; inq = 0; esc = 0; idx = -1
      for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        if (inq) { if (esc) esc = 0; else if (c == "\\") esc = 1; else if (c == "\"") inq = 0; continue }
        if (c == "\"") {
          inq = 1
          if (depth == 2 && substr(s, i, 11) == "\"livePort\":") { v = substr(s, i + 11); sub(/[^0-9].*/, "", v); lp[idx] = v }
          continue
        }
        if (c == "{" || c == "[") { depth++; if (c == "{" && depth == 2) { idx++; lp[idx] = "" } }
        else if (c == "}" || c == "]") depth--
      }
      for (k = 0; k <= idx; k++) print (lp[k] == "" ? base + k : lp[k])
    }'
}

# role_section ROLE: the top-level configuration key ROLE owns (the console's is admin.*)
role_section() {
  case $1 in
    console) echo admin ;;
    *) echo "$1" ;;
  esac
}

# role_ports ROLE: the ports ROLE listens on from outside this server, as firewalld writes them
role_ports() {
  case $1 in
    relay)
      listen=$(cfg_value relay.listen)
      host=${listen%:*}
      port=${listen##*:}
      if is_loopback "$host"; then return 0; fi
      [ "$port" -lt 1024 ] 2>/dev/null &&
        warn "relay.listen port $port is below 1024: the $SVC_USER user cannot bind it under systemd 219 (no AmbientCapabilities); listen on 8443 and forward with: firewall-cmd --permanent --add-forward-port=port=$port:proto=tcp:toport=8443"
      printf '%s/tcp\n' "$port"
      ;;
    console)
      listen=$(cfg_value admin.listen)
      [ -n "$listen" ] || return 0 # default 127.0.0.1:9090
      if is_loopback "${listen%:*}"; then return 0; fi
      printf '%s/tcp\n' "${listen##*:}"
      ;;
    edge)
      if is_loopback "$(cfg_value edge.live.host)"; then return 0; fi
      for p in $(edge_camera_ports "$(cfg_value edge.live.basePort)" "$(cfg_value edge.cameras)"); do
        if [ "$p" = 0 ]; then warn 'an edge camera has livePort 0 (any free port): no firewall opening for it'; else printf '%s/tcp\n' "$p"; fi
      done
      ;;
    gb28181)
      sip=$(cfg_value gb28181.sip.port)
      [ -n "$sip" ] || { l=$(cfg_value gb28181.sip.listen) && [ -n "$l" ] && sip=${l##*:}; }
      sip=${sip:-$GB_SIP_PORT}
      media=$(cfg_value gb28181.media.ports | tr -d '[] "' | tr ',' '-')
      media=${media:-$GB_MEDIA_PORTS}
      printf '%s/udp\n%s/tcp\n%s/udp\n%s/tcp\n' "$sip" "$sip" "$media" "$media"
      ;;
  esac
}

# ---- firewalld -----------------------------------------------------------------------------------

FW_OPENED=
firewall_apply() { # wanted-ports (space-separated); sets FW_OPENED to what firewalld now has from us
  wanted=$1
  old=$(state_get ports)
  zone=
  [ -n "$FW_ZONE" ] && zone=--zone=$FW_ZONE
  if ! have firewall-cmd; then
    [ -n "$wanted" ] && warn "firewalld is not installed: open these ports by hand: $wanted"
    FW_OPENED=
    return 0
  fi
  if ! firewall-cmd --state >/dev/null 2>&1; then
    [ -n "$wanted" ] && warn "firewalld is not running: open these ports by hand (or start firewalld and run this again): $wanted"
    FW_OPENED=
    return 0
  fi
  for p in $old; do
    case " $wanted " in
      *" $p "*) ;;
      *)
        firewall-cmd $zone --remove-port="$p" >/dev/null 2>&1
        firewall-cmd $zone --permanent --remove-port="$p" >/dev/null 2>&1
        say "firewall: closed $p (no role uses it any more)"
        ;;
    esac
  done
  for p in $wanted; do
    # runtime and permanent both, so no --reload (which would drop others' runtime rules)
    firewall-cmd $zone --add-port="$p" >/dev/null && firewall-cmd $zone --permanent --add-port="$p" >/dev/null ||
      warn "firewall-cmd could not open $p"
  done
  [ -n "$wanted" ] && say "firewall: open $wanted"
  FW_OPENED=$wanted
}

firewall_close_all() {
  old=$(state_get ports)
  [ -n "$old" ] || return 0
  if have firewall-cmd && firewall-cmd --state >/dev/null 2>&1; then
    zone=
    [ -n "$FW_ZONE" ] && zone=--zone=$FW_ZONE
    for p in $old; do
      firewall-cmd $zone --remove-port="$p" >/dev/null 2>&1
      firewall-cmd $zone --permanent --remove-port="$p" >/dev/null 2>&1
    done
    say "firewall: closed $old"
  else
    warn "firewalld is not running: close these ports by hand: $old"
  fi
}

# ---- time ----------------------------------------------------------------------------------------

# Records and file names carry Beijing time and the relay flags calls > 5 min off its clock: the
# clock must be synchronised, and the server on Asia/Shanghai (UTC+8) so logs and tools agree.
check_clock() {
  synced=unknown
  td=
  have timedatectl && td=$(timedatectl 2>/dev/null)
  if have chronyc; then
    if chronyc tracking 2>/dev/null | grep -q 'Leap status *: *Normal'; then synced=yes; else synced=no; fi
  elif [ -n "$td" ]; then
    if printf '%s\n' "$td" | grep -Eq '(NTP|System clock) synchronized: *yes'; then synced=yes; else synced=no; fi
  fi
  case $synced in
    yes) say 'clock: synchronised' ;;
    no) warn 'the clock is not synchronised (chronyc tracking): records more than 5 minutes off are flagged and the national platform may refuse them; yum install chrony, set the province NTP server in /etc/chrony.conf, systemctl enable --now chronyd' ;;
    *) warn 'cannot tell whether the clock is synchronised (neither chronyc nor timedatectl): install chrony' ;;
  esac
  zone=
  offset=
  if [ -n "$td" ]; then
    line=$(printf '%s\n' "$td" | grep 'Time zone:' | head -n 1)
    zone=$(printf '%s\n' "$line" | sed -n 's/.*Time zone: *\([^ ]*\).*/\1/p')
    offset=$(printf '%s\n' "$line" | sed -n 's/.*, *\([+-][0-9]\{4\}\)).*/\1/p')
  fi
  [ -n "$offset" ] || offset=$(date +%z)
  if [ "$zone" = Asia/Shanghai ] || [ "$offset" = +0800 ]; then
    say "time zone: ${zone:-UTC$offset} (Beijing time)"
  else
    warn "the time zone is ${zone:-UTC$offset}, not Beijing time: timedatectl set-timezone Asia/Shanghai"
  fi
}

# ---- systemd units -------------------------------------------------------------------------------

# Only what systemd 219 (CentOS 7) knows: no ProtectSystem=strict, ReadWritePaths, AmbientCapabilities,
# TasksMax, ProtectKernel*, MemoryDenyWriteExecute (V8 needs W+X pages anyway).
write_unit() { # role data
  role=$1
  after=
  [ "$role" = edge ] && after=' eseal-relay.service eseal-gb28181.service'
  cat >"$UNIT_DIR/eseal-$role.service.tmp" <<EOF
# written by install.sh (eseal); changes are lost at the next install: use a drop-in,
# systemctl edit eseal-$role
[Unit]
Description=eseal $role (coal-mine electronic seal appliance, role $role)
After=network-online.target$after
Wants=network-online.target

[Service]
Type=simple
User=$SVC_USER
Group=$SVC_USER
EnvironmentFile=-/etc/eseal/eseal-$role.env
ExecStart=/opt/eseal/current/bin/eseal start --roles $role --config /etc/eseal/eseal.yaml
WorkingDirectory=$2
# SIGTERM: stop accepting, finish what is in flight, close the stores
KillSignal=SIGTERM
TimeoutStopSec=60
Restart=always
RestartSec=5
StartLimitInterval=300
StartLimitBurst=20
LimitNOFILE=65536
LimitCORE=0
UMask=0077
StandardOutput=journal
StandardError=journal
SyslogIdentifier=eseal-$role
NoNewPrivileges=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectSystem=full
ProtectHome=yes
ReadWriteDirectories=$2
CapabilityBoundingSet=
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
EOF
  [ $? -eq 0 ] && mv -f "$UNIT_DIR/eseal-$role.service.tmp" "$UNIT_DIR/eseal-$role.service" ||
    die "cannot write $UNIT_DIR/eseal-$role.service"
}

remove_unit() { # role
  [ -f "$UNIT_DIR/eseal-$1.service" ] || return 0
  systemctl disable --now "eseal-$1.service" >/dev/null 2>&1 || systemctl stop "eseal-$1.service" >/dev/null 2>&1
  rm -f "$UNIT_DIR/eseal-$1.service"
  say "removed the unit eseal-$1"
}

write_env_file() { # role: the unit's EnvironmentFile, made once, for secrets (root only: systemd reads it)
  f=$ETC/eseal-$1.env
  [ -e "$f" ] && return 0
  {
    echo "# environment of eseal-$1.service (KEY=value lines; read by systemd as root, so keep it 0600)"
    [ "$1" = edge ] && echo '# ESEAL_EDGE_PASSWORD=the password of edge.report.username on the relay'
    echo '# ESEAL_LOG_LEVEL=info'
  } >"$f" && chmod 0600 "$f" || die "cannot write $f"
}

# ---- health --------------------------------------------------------------------------------------

role_healthy() { # role since-ms
  systemctl is-active --quiet "eseal-$1.service" || return 1
  cli=$OPT/current/bin/eseal
  case $1 in
    relay)
      # exit 0: running and no lane over budget; 3 with "running": true is a running relay whose
      # queue is late (upstream down): not the new version's fault
      out=$(as_service_user "$cli" status --config "$CONF" --json 2>/dev/null) && return 0
      printf '%s\n' "$out" | grep -q '"running": *true'
      ;;
    edge)
      # the status file a running edge rewrites every 5 s, written after this start
      out=$(as_service_user "$cli" edge status --config "$CONF" --json 2>/dev/null) || return 1
      at=$(printf '%s\n' "$out" | sed -n 's/^ *"at": *\([0-9][0-9]*\).*/\1/p' | head -n 1)
      [ -n "$at" ] && [ "$at" -ge "$2" ]
      ;;
    *) return 0 ;;
  esac
}

UNHEALTHY=
wait_healthy() { # roles since-ms
  deadline=$(($(date +%s) + HEALTH_TIMEOUT))
  while :; do
    UNHEALTHY=
    for r in $1; do role_healthy "$r" "$2" || UNHEALTHY="$UNHEALTHY $r"; done
    [ -z "$UNHEALTHY" ] && return 0
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep "$HEALTH_INTERVAL"
  done
}

restart_roles() { # roles
  systemctl daemon-reload || warn 'systemctl daemon-reload failed'
  for r in $1; do systemctl restart "eseal-$r.service" || warn "systemctl restart eseal-$r failed"; done
}

now_ms() { printf '%s000' "$(date +%s)"; }

switch_current() { # version
  ln -s "$1" "$OPT/.current.new" && mv -fT "$OPT/.current.new" "$OPT/current" || die "cannot point $OPT/current at $1"
}
set_previous() { # version or ''
  if [ -n "$1" ]; then
    ln -s "$1" "$OPT/.previous.new" && mv -fT "$OPT/.previous.new" "$OPT/previous" || die "cannot point $OPT/previous at $1"
  else
    rm -f "$OPT/previous"
  fi
}

# after a healthy start only the current version and the previous one (to go back to) stay: ~300 MB each
prune_versions() {
  keep_cur=$(readlink "$OPT/current" 2>/dev/null)
  keep_prev=$(readlink "$OPT/previous" 2>/dev/null)
  for d in "$OPT"/*; do
    v=${d##*/}
    [ "$v" = current ] || [ "$v" = previous ] || [ "$v" = "$keep_cur" ] || [ "$v" = "$keep_prev" ] && continue
    [ -d "$d" ] && [ ! -L "$d" ] && [ -f "$d/bin/eseal" ] || continue
    rm -rf "$d" && say "removed the old version $v"
  done
}

# start (or restart) ROLES on VERSION; when not healthy, go back to PREV (if any). Returns 0 or exits 3.
start_and_check() { # roles version prev
  since=$(now_ms)
  restart_roles "$1"
  if wait_healthy "$1" "$since"; then
    say "version $2 is running and healthy ($(echo $1 | sed 's/ /, /g'))"
    prune_versions
    return 0
  fi
  for r in $UNHEALTHY; do warn "eseal-$r is not healthy after ${HEALTH_TIMEOUT}s: journalctl -u eseal-$r -n 100"; done
  if [ -z "$3" ] || [ "$3" = "$2" ]; then
    die "version $2 is not healthy and there is no previous version to go back to" 3
  fi
  warn "rolling back to version $3"
  switch_current "$3"
  set_previous ''
  rm -rf "${OPT:?}/$2"
  since=$(now_ms)
  restart_roles "$1"
  if wait_healthy "$1" "$since"; then
    die "version $2 was not healthy: rolled back to $3, which is running (data and configuration untouched)" 3
  fi
  die "version $2 was not healthy; rolled back to $3, which is not healthy either: journalctl -u eseal-relay" 3
}

# ---- the commands --------------------------------------------------------------------------------

normalise_roles() { # comma list -> space list in start order, checked
  list=$(printf '%s' "$1" | tr ',' ' ')
  [ -n "$(echo $list)" ] || die '--roles: one or more of relay, console, gb28181, edge' 2
  for r in $list; do
    case " $KNOWN_ROLES " in *" $r "*) ;; *) die "--roles: unknown role $r (relay, console, gb28181, edge)" 2 ;; esac
  done
  out=
  for k in $KNOWN_ROLES; do
    case " $list " in *" $k "*) out="$out $k" ;; esac
  done
  echo $out
}

cmd_install() { # tarball roles data start
  tarball=$1
  [ -f "$tarball" ] || die "no such file: $tarball" 2
  base=${tarball##*/}
  version=${base#eseal-}
  version=${version%-linux-x64.tar.gz}
  case $base in eseal-*-linux-x64.tar.gz) ;; *) die "$base: expected eseal-<version>-linux-x64.tar.gz" 2 ;; esac
  case $version in '' | *[!A-Za-z0-9._+-]*) die "$base: not a version: $version" 2 ;; esac
  top=$(tar -tzf "$tarball" 2>/dev/null | head -n 1)
  [ "${top%%/*}" = "eseal-$version" ] || die "$base does not unpack to eseal-$version/ (is it an eseal bundle?)"

  if [ -n "$3" ]; then
    case $3 in /*) ;; *) die "--data: an absolute path, e.g. /data/eseal" 2 ;; esac
    case $3 in *[!A-Za-z0-9/._-]*) die "--data: letters, digits and / . _ - only" 2 ;; esac
  fi

  need_root
  take_lock
  prev=$(readlink "$OPT/current" 2>/dev/null)
  roles=$2
  [ -n "$roles" ] || roles=$(state_get roles)
  [ -n "$roles" ] || roles=$DEFAULT_ROLES
  roles=$(normalise_roles "$(echo $roles | tr ' ' ',')") || exit 2

  unpacked=
  if [ -d "$OPT/$version" ]; then
    say "version $version is already in $OPT/$version"
  else
    say "unpacking $base into $OPT/$version"
    TMP=$OPT/.unpack.$$
    rm -rf "$TMP"
    mkdir -p "$TMP" && tar -xzf "$tarball" -C "$TMP" || die "could not unpack $base (disk full?)"
    mv "$TMP/eseal-$version" "$OPT/$version" || die "cannot move the bundle into $OPT/$version"
    rm -rf "$TMP"
    TMP=
    unpacked=1
  fi
  bin=$OPT/$version/bin/eseal
  got=$("$bin" --version 2>&1)
  if [ $? -ne 0 ]; then
    [ -n "$unpacked" ] && rm -rf "${OPT:?}/$version"
    die "the bundle does not run here ($bin --version: $got); nothing changed"
  fi

  data=$3
  created=
  checked=
  if [ -e "$CONF" ]; then
    config_check "$bin" relay || die "$CONF does not pass version $version's check (nothing changed):
$CFG"
    cdata=$(cfg_value dataDir)
    case $cdata in /*) ;; *) die "$CONF: dataDir must be an absolute path (it is ${cdata:-unset})" ;; esac
    [ -n "$data" ] && [ "$data" != "$cdata" ] &&
      warn "--data $data ignored: $CONF says dataDir: $cdata (edit it, and move the data, to change it)"
    data=$cdata
    checked=relay
  else
    data=${data:-$(state_get data)}
    data=${data:-$DEFAULT_DATA}
  fi
  case $data in /home/* | /root/* | /run/user/*) warn "the data directory $data is hidden from the services (ProtectHome=yes): choose another disk" ;; esac

  ensure_user "$data"
  mkdir -p "$R$data" && chmod 0700 "$R$data" && chown "$(owner)" "$R$data" || die "cannot prepare the data directory $R$data"
  mkdir -p "$ETC" && chmod 0750 "$ETC" && chown "$ROOT_UID:$(group_of_user)" "$ETC" || die "cannot prepare $ETC"
  if [ ! -e "$CONF" ]; then
    example=$OPT/$version/eseal.example.yaml
    [ -f "$example" ] || die "the bundle has no eseal.example.yaml"
    {
      grep -q '^dataDir:' "$example" || echo "dataDir: $data"
      sed "s|^dataDir:.*|dataDir: $data|" "$example"
    } >"$CONF.tmp" && chmod 0640 "$CONF.tmp" && chown "$ROOT_UID:$(group_of_user)" "$CONF.tmp" && mv -f "$CONF.tmp" "$CONF" ||
      die "cannot write $CONF"
    created=1
    say "created $CONF from the bundle's example (dataDir: $data)"
  else
    say "kept $CONF"
  fi

  # every role's part checked, and the ports read, as each unit will see them (its env file too)
  ports=
  for r in $roles; do
    write_env_file "$r"
    [ "$checked" = "$r" ] || config_check "$bin" "$r" || die "$CONF does not pass version $version's check for $r:
$CFG"
    printf '%s\n' "$CFG" | grep -q "^$(role_section "$r")\." || die "version $version has no $r role"
    ports="$ports $(role_ports "$r" | tr '\n' ' ')"
  done
  ports=$(echo $ports | tr ' ' '\n' | awk '!seen[$0]++' | tr '\n' ' ')
  ports=$(echo $ports)

  mkdir -p "$UNIT_DIR" || die "cannot create $UNIT_DIR"
  for r in $KNOWN_ROLES; do
    case " $roles " in *" $r "*) ;; *) remove_unit "$r" ;; esac
  done
  for r in $roles; do write_unit "$r" "$data"; done
  systemctl daemon-reload || warn 'systemctl daemon-reload failed'
  for r in $roles; do systemctl enable "eseal-$r.service" >/dev/null 2>&1 || warn "systemctl enable eseal-$r failed"; done
  say "units: $(for r in $roles; do printf 'eseal-%s ' "$r"; done)(enabled)"

  firewall_apply "$ports"
  state_write "$roles" "$data" "$FW_OPENED"
  check_clock

  switch_current "$version"
  if [ -n "$prev" ] && [ "$prev" != "$version" ]; then
    set_previous "$prev"
    say "current: $version (previous: $prev, kept in $OPT/$prev)"
  else
    say "current: $version"
  fi

  if [ "$4" = no ]; then
    say "not started (--no-start): systemctl start $(for r in $roles; do printf 'eseal-%s ' "$r"; done)"
    return 0
  fi
  if [ -n "$created" ]; then
    say "not started: first edit $CONF (upstream.url, relay.tls; the edge's cameras), put secrets in $ETC/eseal-<role>.env,"
    say "then run this installer again with the same bundle: it checks the configuration, opens the ports it names and starts"
    return 0
  fi
  start_and_check "$roles" "$version" "$prev"
}

cmd_rollback() {
  need_root
  take_lock
  cur=$(readlink "$OPT/current" 2>/dev/null)
  prev=$(readlink "$OPT/previous" 2>/dev/null)
  [ -n "$prev" ] && [ -d "$OPT/$prev" ] || die 'no previous version to go back to'
  roles=$(state_get roles)
  [ -n "$roles" ] || roles=$DEFAULT_ROLES
  switch_current "$prev"
  set_previous "$cur"
  say "current: $prev (previous: $cur)"
  start_and_check "$roles" "$prev" ''
}

cmd_uninstall() { # purge
  need_root
  [ -d "$OPT" ] || [ -d "$ETC" ] || ls "$UNIT_DIR"/eseal-*.service >/dev/null 2>&1 || die 'eseal is not installed here'
  take_lock
  data=$(state_get data)
  [ -n "$data" ] || data=$(sed -n 's/^dataDir: *//p' "$CONF" 2>/dev/null | head -n 1)
  for r in $KNOWN_ROLES; do remove_unit "$r"; done
  systemctl daemon-reload || warn 'systemctl daemon-reload failed'
  firewall_close_all
  LOCK=
  rm -rf "$OPT"
  say "removed $OPT"
  if [ "$1" = 1 ]; then
    case $data in
      / | '' | *[!A-Za-z0-9/._-]*) warn "the data directory is unknown (${data:-unset}): remove it by hand" ;;
      /*)
        rm -rf "$R$data"
        say "removed the data directory $data"
        ;;
      *) warn "the data directory $data is not an absolute path: remove it by hand" ;;
    esac
    rm -rf "$ETC"
    say "removed $ETC"
    if user_exists; then
      if have userdel; then userdel "$SVC_USER" && say "removed the user $SVC_USER"; else warn "userdel not found: remove the user $SVC_USER by hand"; fi
    fi
  else
    say "kept the data directory ${data:-(unknown)} and $ETC (--purge removes them)"
  fi
}

# ---- arguments -----------------------------------------------------------------------------------

mode=install
tarball=
roles=
data=
start=yes
purge=0
while [ $# -gt 0 ]; do
  case $1 in
    --roles) [ $# -ge 2 ] || usage; roles=$2; shift ;;
    --roles=*) roles=${1#*=} ;;
    --data) [ $# -ge 2 ] || usage; data=$2; shift ;;
    --data=*) data=${1#*=} ;;
    --no-start) start=no ;;
    --uninstall) mode=uninstall ;;
    --purge) purge=1 ;;
    --rollback) mode=rollback ;;
    -h | --help) usage 0 ;;
    -*) printf '%s: unknown option %s\n' "$PROG" "$1" >&2; usage ;;
    *) [ -z "$tarball" ] || usage; tarball=$1 ;;
  esac
  shift
done
[ -z "$roles" ] || roles=$(normalise_roles "$roles") || exit 2

case $mode in
  install) [ -n "$tarball" ] || usage; [ "$purge" = 0 ] || usage; cmd_install "$tarball" "$roles" "$data" "$start" ;;
  rollback) [ -z "$tarball" ] || usage; cmd_rollback ;;
  uninstall) [ -z "$tarball" ] || usage; cmd_uninstall "$purge" ;;
esac
