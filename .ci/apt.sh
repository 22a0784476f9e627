# apt-get for the .ci/*-install.sh scripts (sourced, not run): waits for apt's locks
# instead of failing.
#
# On a freshly booted machine another apt-get or unattended-upgrades often holds a lock
# for minutes. DPkg::Lock::Timeout makes apt-get wait for dpkg's lock, but apt 2.6 does
# not apply it to /var/lib/apt/lists/lock (apt-get update) or /var/cache/apt/archives/lock
# (downloads); apt-get fails at once on those, so a failure that names a lock is retried
# until APT_LOCK_TIMEOUT seconds (default 600) have passed.
#
# Usage: . .ci/apt.sh; apt_get NAME update -q; apt_get NAME install -y -q PACKAGE...

APT_LOCK_TIMEOUT="${APT_LOCK_TIMEOUT:-600}"

apt_get() {
    local name="$1" sudo="" log rc waited=0
    shift
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    local deadline=$((SECONDS + APT_LOCK_TIMEOUT))
    log="$(mktemp)"
    while :; do
        rc=0
        # LC_ALL=C: the lock message is matched below, so it must not be translated
        $sudo env LC_ALL=C DEBIAN_FRONTEND=noninteractive \
            apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" "$@" 2>"$log" || rc=$?
        if [ "$rc" -eq 0 ] || ! grep -q "Could not get lock" "$log" || [ "$SECONDS" -ge "$deadline" ]; then
            cat "$log" >&2
            rm -f "$log"
            return "$rc"
        fi
        if [ "$waited" -eq 0 ]; then
            echo "$name: $(grep -m1 "Could not get lock" "$log" | sed 's/^E: //')" >&2
            echo "$name: waiting up to ${APT_LOCK_TIMEOUT}s for the other apt-get to finish" >&2
        fi
        waited=1
        sleep 5
    done
}
