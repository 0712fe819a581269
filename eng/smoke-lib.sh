# Shared by the smoke tests (eng/package-smoke-test.sh, eng/project-reference-smoke-test.sh); source it, do not run it.
#
#   smoke_setup TITLE PREFIX   the work folder ($work: FASHIONVISION_SMOKE_DIR or a new /tmp/PREFIX.XXXXXX, always outside the
#                              repository), removed on exit unless $keep is 1; quiet dotnet; fail/step print under TITLE
#   smoke_isolate FOLDER       empty Directory.Build.props/.targets and Directory.Packages.props, so no parent folder's
#                              MSBuild or package-management files reach the apps created below FOLDER
#   system_has_glibcxx_3_4_32  whether this system's libstdc++ provides GLIBCXX_3.4.32 (then nothing needs patching)
#   smoke_check_result LOG N   the app's "SMOKE steps=N test-accuracy=A" line is in LOG with N steps and A above chance;
#                              sets $accuracy

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

smoke_setup() {
  smoke_title="$1"
  work="${FASHIONVISION_SMOKE_DIR:-$(mktemp -d "/tmp/$2.XXXXXX")}"
  case "$work/" in
    "$root"/*) echo "the smoke-test folder must lie outside the repository ($work)" >&2; exit 2 ;;
  esac
  mkdir -p "$work"
  trap smoke_cleanup EXIT
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}

smoke_cleanup() { if [ "${keep:-0}" -eq 0 ]; then rm -rf "$work"; else echo "kept $work"; fi; }

fail() { echo "$smoke_title FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

smoke_isolate() {
  printf '<Project />\n' >"$1/Directory.Build.props"
  printf '<Project />\n' >"$1/Directory.Build.targets"
  printf '<Project />\n' >"$1/Directory.Packages.props"
}

system_has_glibcxx_3_4_32() {
  local libstdcxx
  for libstdcxx in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6; do
    if [ -f "$libstdcxx" ] && grep -aq 'GLIBCXX_3.4.32' "$libstdcxx"; then return 0; fi
  done
  return 1
}

smoke_check_result() {
  local result steps
  result="$(grep -E '^SMOKE steps=[0-9]+ test-accuracy=[0-9.]+$' "$1")" || fail "the app printed no result line"
  steps="$(sed -E 's/.*steps=([0-9]+).*/\1/' <<<"$result")"
  accuracy="$(sed -E 's/.*test-accuracy=([0-9.]+).*/\1/' <<<"$result")"
  [ "$steps" -eq "$2" ] || fail "expected $2 training steps, got $steps"
  # Chance is 0.10; a few batches of a small conv net on real images reach well above it.
  awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.40 && a <= 1.0) }' || fail "test accuracy $accuracy is not above chance"
}
