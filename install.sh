#!/usr/bin/env bash
# selfheal installer: binary, ~/.openclaw/.env, and a scheduler that runs
# `selfheal --quiet check` every few minutes. No sudo.
#
#   ./install.sh [--dry-run] [--uninstall] [--prefix DIR] [--interval SECONDS]
#                [--scheduler launchd|systemd|cron|none] [--binary FILE]
#                [--from selfheal-VERSION-TARGET.tar.gz] [--url URL] [--build]
#                [--keep-old]
#
# Never reads stdin (so `curl … | bash` works); a second run changes nothing;
# --dry-run prints every file and command and changes nothing; --uninstall
# removes every scheduler entry of selfheal it finds (whichever was chosen)
# and the binary, and keeps .env and the logs. --from installs a
# release tarball after checking it against the SHA256SUMS beside it; --url
# downloads one (and its SHA256SUMS) with curl first. Nothing else downloads.
# From a clone, a binary already built from these sources (`make demo`) is
# installed as it is; --build builds anew. The old openclaw-self-healing
# scripts' schedulers (two healers would restart the same gateway) are
# disabled, not deleted; --keep-old leaves them; --uninstall says how to
# enable them again.
set -euo pipefail
exec </dev/null

prefix="$HOME/.local"
interval=60
scheduler=auto
binary=""
from=""
url=""
dry=0
uninstall=0
build=0
keep_old=0

usage() {
  sed -n '2,/^set -euo/p' "$0" 2>/dev/null | grep '^#' | sed 's/^# \{0,1\}//'
}

die() {
  echo "install.sh: $*" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run | -n) dry=1 ;;
    --uninstall) uninstall=1 ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift ;;
    --interval) [ $# -ge 2 ] || die "--interval needs seconds"; interval=$2; shift ;;
    --scheduler) [ $# -ge 2 ] || die "--scheduler needs a name"; scheduler=$2; shift ;;
    --binary) [ $# -ge 2 ] || die "--binary needs a file"; binary=$2; shift ;;
    --from) [ $# -ge 2 ] || die "--from needs a release tarball"; from=$2; shift ;;
    --url) [ $# -ge 2 ] || die "--url needs the address of a release tarball"; url=$2; shift ;;
    --build) build=1 ;;
    --keep-old) keep_old=1 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

case "$interval" in
  '' | *[!0-9]*) die "--interval must be a whole number of seconds" ;;
esac
[ "$interval" -ge 60 ] || die "--interval must be at least 60 seconds"
case "$scheduler" in
  auto | launchd | systemd | cron | none) ;;
  *) die "--scheduler must be launchd, systemd, cron or none" ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)
bin_dir="$prefix/bin"
bin="$bin_dir/selfheal"
env_dir="$HOME/.openclaw"
env_file="$env_dir/.env"
plist="$HOME/Library/LaunchAgents/com.openclaw.healthcheck.plist"
unit_dir="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
cron_tag="# selfheal"
# What was installed, for `selfheal doctor` (and nothing else reads it).
record_dir="${XDG_CONFIG_HOME:-$HOME/.config}/selfheal"
record="$record_dir/installed"

if [ "$scheduler" = auto ]; then
  case "$(uname -s)" in
    Darwin) scheduler=launchd ;;
    *) if command -v systemctl >/dev/null 2>&1; then scheduler=systemd; else scheduler=cron; fi ;;
  esac
fi

say() { printf '%s\n' "$*"; }

# Checked before anything is written: a scheduler whose command is missing
# would otherwise leave a binary (and a plist or units) that nothing runs.
if [ "$uninstall" = 0 ] && [ "$scheduler" = cron ] && ! command -v crontab >/dev/null 2>&1; then
  die "no crontab command here (install cron, e.g. \`sudo apt install cron\`), or use --scheduler none and run \`selfheal --quiet check\` yourself"
fi
if [ "$uninstall" = 0 ] && [ "$scheduler" = launchd ] && ! command -v launchctl >/dev/null 2>&1; then
  die "--scheduler launchd: no launchctl command here (launchd is macOS's); use --scheduler systemd, cron or none"
fi
if [ "$uninstall" = 0 ] && [ "$scheduler" = systemd ] && ! command -v systemctl >/dev/null 2>&1; then
  die "--scheduler systemd: no systemctl command here; use --scheduler cron or none"
fi

# "removed: X", or in a dry run "would remove: X".
removed() {
  if [ "$dry" = 1 ]; then say "would remove: $*"; else say "removed: $*"; fi
}

# Runs a command, or in a dry run says that it would.
run() {
  if [ "$dry" = 1 ]; then
    say "would run: $*"
  else
    "$@"
  fi
}

# install_file SRC DEST MODE: copies only when the content differs.
install_file() {
  local src=$1 dest=$2 mode=$3
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    say "unchanged: $dest"
    return 1
  fi
  if [ "$dry" = 1 ]; then
    say "would write: $dest (mode $mode)"
    return 0
  fi
  mkdir -p "$(dirname "$dest")"
  local tmp
  tmp=$(mktemp "$(dirname "$dest")/.selfheal-install.XXXXXX")
  cp "$src" "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dest"
  say "wrote: $dest"
  return 0
}

# render TEMPLATE: fills in @BIN@, @INTERVAL@, @HOME@.
render() {
  sed -e "s|@BIN@|$bin|g" -e "s|@INTERVAL@|$interval|g" -e "s|@HOME@|$HOME|g" "$1"
}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/selfheal-install.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# sha256 FILE: the hex digest, with whichever tool this system has.
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    die "neither sha256sum nor shasum is installed: cannot verify $1"
  fi
}

# verify TARBALL SUMS: the tarball's line in SHA256SUMS must match it.
verify() {
  local tarball=$1 sums=$2 name want got
  name=$(basename "$tarball")
  [ -f "$sums" ] || die "no SHA256SUMS next to $tarball: refusing to install an unverified binary"
  want=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$sums")
  [ -n "$want" ] || die "$name is not listed in $sums"
  got=$(sha256 "$tarball")
  [ "$want" = "$got" ] || die "$name does not match SHA256SUMS (expected $want, got $got): it may be damaged or tampered with; nothing was installed"
  say "verified: $name (sha256 $got)"
}

# unpack TARBALL: extracts into the scratch directory; installs from there.
unpack() {
  local tarball=$1 dir
  mkdir -p "$scratch/release"
  tar -xzf "$tarball" -C "$scratch/release" || die "cannot unpack $tarball"
  dir=$(find "$scratch/release" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  if [ -z "$dir" ] || [ ! -x "$dir/selfheal" ] || [ ! -d "$dir/contrib" ]; then
    die "$tarball is not a selfheal release (no selfheal binary and contrib/ inside)"
  fi
  here=$dir
  binary="$dir/selfheal"
}

# download URL: the tarball and the SHA256SUMS beside it, with curl.
download() {
  command -v curl >/dev/null 2>&1 || die "--url needs curl"
  local name=${url##*/} base=${url%/*}
  case "$name" in
    selfheal-*.tar.gz) ;;
    *) die "--url must end in selfheal-VERSION-TARGET.tar.gz" ;;
  esac
  mkdir -p "$scratch/download"
  curl -fsSL --max-time 300 -o "$scratch/download/$name" "$url" ||
    die "cannot download $url (no network, or no such file)"
  curl -fsSL --max-time 60 -o "$scratch/download/SHA256SUMS" "$base/SHA256SUMS" ||
    die "cannot download $base/SHA256SUMS: refusing to install an unverified binary"
  from="$scratch/download/$name"
}

if [ -n "$url" ]; then
  [ -z "$from" ] || die "--from and --url: choose one"
  download
fi
if [ -n "$from" ]; then
  [ -f "$from" ] || die "--from $from: no such file"
  verify "$from" "$(dirname "$from")/SHA256SUMS"
  unpack "$from"
fi

# The binary to install: --binary, one shipped next to this script, or built.
find_binary() {
  if [ -n "$binary" ]; then
    [ -x "$binary" ] || die "--binary $binary is not an executable file"
    say "$binary"
  elif [ -x "$here/selfheal" ] && [ ! -d "$here/selfheal" ]; then
    say "$here/selfheal"
  elif [ -f "$here/Cargo.toml" ]; then
    command -v cargo >/dev/null 2>&1 || die "no selfheal binary next to install.sh and no cargo to build one: install a release tarball with --from FILE (or --url URL), or Rust from https://rustup.rs"
    local target=() out="$here/target/release/selfheal"
    if [ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] && command -v musl-gcc >/dev/null 2>&1 &&
      rustup target list --installed 2>/dev/null | grep -q x86_64-unknown-linux-musl; then
      target=(--target x86_64-unknown-linux-musl)
      out="$here/target/x86_64-unknown-linux-musl/release/selfheal"
    fi
    # A binary `make demo` (or an earlier build) left, newer than every
    # source file, is this code already built: no second build.
    local built
    for built in "$out" "$here/target/release/selfheal"; do
      if [ "$build" = 0 ] && [ -x "$built" ] && [ -z "$(cd "$here" && find src Cargo.toml Cargo.lock build.rs -newer "$built" 2>/dev/null | head -n 1)" ]; then
        echo "using $built (built from these sources)" >&2
        say "$built"
        return 0
      fi
    done
    echo "building selfheal with cargo (about a minute the first time)..." >&2
    if ! (cd "$here" && cargo build --quiet --release ${target[@]+"${target[@]}"}) >"$scratch/build.log" 2>&1; then
      tail -n 20 "$scratch/build.log" >&2
      die "the build failed (its last lines are above); nothing was installed"
    fi
    say "$out"
  else
    die "no selfheal binary next to install.sh; pass --binary FILE"
  fi
}

do_install() {
  local src
  if [ "$dry" = 1 ] && [ -z "$binary" ] && [ ! -x "$here/selfheal" ]; then
    say "would build selfheal and install it as $bin"
  else
    src=$(find_binary) || exit 2
    install_file "$src" "$bin" 755 || true
  fi

  services_dir="${XDG_CONFIG_HOME:-$HOME/.config}/selfheal/services"
  if [ -e "$env_file" ]; then
    say "kept: $env_file (never rewritten; the keys are listed in contrib/selfheal.env.example)"
  elif ls "$services_dir"/*.env >/dev/null 2>&1; then
    # Several services and no gateway's env file: creating one would make
    # the default service (the gateway on 18789) one of them.
    say "services in $services_dir: no $env_file written (create it to watch the OpenClaw gateway too); one scheduler entry checks them all"
  else
    [ -f "$here/contrib/selfheal.env.example" ] || die "contrib/selfheal.env.example is missing"
    run mkdir -p "$env_dir"
    run chmod 700 "$env_dir"
    install_file "$here/contrib/selfheal.env.example" "$env_file" 600 || true
  fi

  disable_old
  case "$scheduler" in
    launchd) install_launchd ;;
    systemd) install_systemd ;;
    cron) install_cron ;;
    none) say "no scheduler installed (--scheduler none): run \`$bin --quiet check\` every few minutes yourself" ;;
  esac
  printf 'scheduler=%s\nbinary=%s\ninterval=%s\n' "$scheduler" "$bin" "$interval" >"$scratch/installed"
  install_file "$scratch/installed" "$record" 644 || true
  case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) say "note: $bin_dir is not on your PATH: the scheduler uses the full path, but to type \`selfheal\` add it (e.g. export PATH=\"$bin_dir:\$PATH\" in ~/.profile)" ;;
  esac

  if [ "$dry" = 1 ]; then
    say "would run: $bin doctor"
  elif [ -x "$bin" ]; then
    say ""
    "$bin" doctor || say "(doctor found problems: see the fixes above; they do not stop the installation)"
  fi
}

install_launchd() {
  render "$here/contrib/com.openclaw.healthcheck.plist" >"$scratch/plist"
  if install_file "$scratch/plist" "$plist" 644; then
    run launchctl bootout "gui/$(id -u)" "$plist" 2>/dev/null || true
    run launchctl bootstrap "gui/$(id -u)" "$plist" || run launchctl load -w "$plist"
  elif [ "$dry" = 0 ] && ! launchctl list com.openclaw.healthcheck >/dev/null 2>&1; then
    run launchctl bootstrap "gui/$(id -u)" "$plist" || run launchctl load -w "$plist"
  fi
}

user_manager() {
  systemctl --user show-environment >/dev/null 2>&1
}

install_systemd() {
  local changed=0
  render "$here/contrib/selfheal.service" >"$scratch/service"
  render "$here/contrib/selfheal.timer" >"$scratch/timer"
  install_file "$scratch/service" "$unit_dir/selfheal.service" 644 && changed=1
  install_file "$scratch/timer" "$unit_dir/selfheal.timer" 644 && changed=1
  if user_manager; then
    [ "$changed" = 1 ] && run systemctl --user daemon-reload
    if [ "$dry" = 1 ] || ! systemctl --user is-enabled selfheal.timer >/dev/null 2>&1 ||
      ! systemctl --user is-active selfheal.timer >/dev/null 2>&1; then
      run systemctl --user enable --now selfheal.timer
    else
      say "unchanged: selfheal.timer is enabled and active"
    fi
  else
    say "no systemd user manager is reachable from here; to start the timer, run:"
    say "    systemctl --user daemon-reload && systemctl --user enable --now selfheal.timer"
    say "and, so that it runs while you are logged out:"
    say "    loginctl enable-linger $(id -un)"
  fi
}

cron_line() {
  local minutes=$((interval / 60)) every
  [ "$minutes" -ge 1 ] || minutes=1
  every="*/$minutes"
  [ "$minutes" -eq 1 ] && every="*"
  say "$every * * * * $bin --quiet check $cron_tag"
}

install_cron() {
  command -v crontab >/dev/null 2>&1 || die "no crontab command; use --scheduler none and run selfheal yourself"
  local current line
  current=$(crontab -l 2>/dev/null || true)
  line=$(cron_line)
  case $'\n'"$current"$'\n' in
    *$'\n'"$line"$'\n'*)
      say "unchanged: crontab has $line"
      return
      ;;
  esac
  if [ "$dry" = 1 ]; then
    say "would set in the crontab: $line"
    return
  fi
  { without_ours "$current"; say "$line"; } | crontab -
  say "crontab: $line"
}

# The crontab text without selfheal's line (and without blank lines).
without_ours() {
  printf '%s\n' "$1" | { grep -vF "$cron_tag" || true; } | sed '/^$/d'
}

# The old openclaw-self-healing scripts' schedulers, each as
# "kind name": its watchdog LaunchAgent (our plist takes the place of its
# com.openclaw.healthcheck), its two systemd user timers, and crontab lines
# that run its scripts. The gateway's own units are never touched.
old_label=ai.openclaw.watchdog
old_plist="$HOME/Library/LaunchAgents/$old_label.plist"
old_timers="openclaw-watchdog.timer openclaw-healthcheck.timer"
old_cron_pattern='gateway-watchdog.sh|gateway-healthcheck.sh|openclaw-self-healing'
old_cron_mark='#selfheal-disabled# '

old_healers() {
  if [ -f "$old_plist" ]; then say "launchd $old_label"; fi
  local t
  for t in $old_timers; do
    if [ -f "$unit_dir/$t" ] && { ! user_manager || systemctl --user is-enabled "$t" >/dev/null 2>&1 ||
      systemctl --user is-active "$t" >/dev/null 2>&1; }; then
      say "systemd $t"
    fi
  done
  if command -v crontab >/dev/null 2>&1; then
    crontab -l 2>/dev/null | grep -v '^[[:space:]]*#' | grep -E "$old_cron_pattern" | sed 's/^/cron /' || true
  fi
}

# Two healers restart the same gateway: the old ones are switched off
# (files kept, so that they can be switched on again).
disable_old() {
  local found kind name
  found=$(old_healers)
  [ -n "$found" ] || return 0
  if [ "$keep_old" = 1 ]; then
    say "kept (--keep-old), though they restart the same gateway: the old scripts' $(printf '%s' "$found" | tr '\n' ';' | sed 's/;$//; s/;/, /g')"
    return 0
  fi
  while read -r kind name; do
    case "$kind" in
      launchd)
        if command -v launchctl >/dev/null 2>&1; then
          run launchctl bootout "gui/$(id -u)/$old_label" 2>/dev/null || true
        fi
        run mv "$old_plist" "$old_plist.disabled-by-selfheal"
        ;;
      systemd)
        if user_manager; then run systemctl --user disable --now "$name" 2>/dev/null || true; fi
        run mv "$unit_dir/$name" "$unit_dir/$name.disabled-by-selfheal"
        ;;
      cron) ;;
    esac
    if [ "$kind" != cron ]; then
      if [ "$dry" = 1 ]; then say "would disable the old scripts' $kind $name"; else say "disabled the old scripts' $kind $name"; fi
    fi
  done <<EOF_OLD
$found
EOF_OLD
  if printf '%s\n' "$found" | grep -q '^cron '; then
    if [ "$dry" = 1 ]; then
      say "would disable the old scripts' crontab line(s) (commented out with $old_cron_mark)"
    else
      # Read whole before it is written: a crontab that replaces its file as
      # it reads (or a slow one) must not see half a table.
      local table
      table=$(crontab -l 2>/dev/null || true)
      printf '%s\n' "$table" | sed -E "/^[[:space:]]*#/! { /$old_cron_pattern/ s/^/$old_cron_mark/; }" | crontab -
      say "disabled the old scripts' crontab line(s) (commented out with $old_cron_mark)"
    fi
  fi
}

# What --uninstall says of the old schedulers it finds switched off.
old_reenable_hint() {
  local t
  if [ -f "$old_plist.disabled-by-selfheal" ]; then
    say "the old scripts' LaunchAgent is switched off; to use them again: mv $old_plist.disabled-by-selfheal $old_plist && launchctl bootstrap gui/\$(id -u) $old_plist"
  fi
  for t in $old_timers; do
    if [ -f "$unit_dir/$t.disabled-by-selfheal" ]; then
      say "the old scripts' $t is switched off; to use it again: mv $unit_dir/$t.disabled-by-selfheal $unit_dir/$t && systemctl --user daemon-reload && systemctl --user enable --now $t"
    fi
  done
  if command -v crontab >/dev/null 2>&1 && crontab -l 2>/dev/null | grep -qF "$old_cron_mark"; then
    say "the old scripts' crontab line(s) are commented out with '$old_cron_mark'; to use them again: crontab -e and remove that mark"
  fi
}

do_uninstall() {
  # Every scheduler's entry, whichever was chosen at install time.
  if [ -f "$plist" ]; then
    if command -v launchctl >/dev/null 2>&1; then
      run launchctl bootout "gui/$(id -u)" "$plist" 2>/dev/null || run launchctl unload "$plist" 2>/dev/null || true
    fi
    run rm -f "$plist"
    removed "$plist"
  fi
  if [ -f "$unit_dir/selfheal.timer" ] || [ -f "$unit_dir/selfheal.service" ]; then
    if user_manager; then run systemctl --user disable --now selfheal.timer 2>/dev/null || true; fi
    run rm -f "$unit_dir/selfheal.timer" "$unit_dir/selfheal.service"
    if user_manager; then run systemctl --user daemon-reload; fi
    removed "$unit_dir/selfheal.timer, selfheal.service"
  fi
  local current=""
  if command -v crontab >/dev/null 2>&1; then current=$(crontab -l 2>/dev/null || true); fi
  case "$current" in
    *"$cron_tag"*)
      if [ "$dry" = 0 ]; then without_ours "$current" | crontab -; fi
      removed "the selfheal line of the crontab"
      ;;
  esac
  if [ -f "$bin" ]; then
    run rm -f "$bin"
    removed "$bin"
  fi
  if [ -f "$record" ]; then
    run rm -f "$record"
    removed "$record"
  fi
  say "kept: $env_file and the logs and metrics in ~/openclaw/memory (remove them yourself if you want)"
  old_reenable_hint
}

if [ "$dry" = 1 ]; then
  say "dry run: nothing is changed"
fi
if [ "$uninstall" = 1 ]; then
  say "uninstalling: every scheduler entry of selfheal, and $bin"
  do_uninstall
else
  say "scheduler: $scheduler, interval ${interval}s, binary $bin"
  do_install
fi
