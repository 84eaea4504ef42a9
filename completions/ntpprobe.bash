# bash completion for ntpprobe (ntpkit)

_ntpprobe() {
    local cur prev words cword
    _init_completion || return

    case $prev in
        -k | --keyfile | -f | --file)
            _filedir
            return
            ;;
        --mac-length)
            COMPREPLY=($(compgen -W 'full 20' -- "$cur"))
            return
            ;;
        --key-format)
            COMPREPLY=($(compgen -W 'auto ntp chrony' -- "$cur"))
            return
            ;;
        --ntp-version)
            COMPREPLY=($(compgen -W '1 2 3 4' -- "$cur"))
            return
            ;;
        -p | --port | -t | --timeout | -r | --retries | -n | --samples | -i | --interval | \
            --concurrency | -a | --key | --listen-address | --listen-duration | --broadcast-delay | --upstream | \
            -w | --warning | -c | --critical | --warn-stratum | --crit-stratum | \
            --warn-delay | --crit-delay | --warn-jitter | --crit-jitter | \
            --warn-root-distance | --crit-root-distance | --warn-processing | \
            --crit-processing | --expect-refid | --min-ok | --time-offset)
            return
            ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '-h --help -V --version -f --file -4 --ipv4 -6 --ipv6
            -p --port -t --timeout -r --retries -n --samples -i --interval --allow-fast
            -x --interleaved --ntp-version --concurrency -a --key -k --keyfile --key-format --mac-length
            -j --json --json-lines --prometheus -v --verbose --listen-broadcast
            --listen-address --listen-duration --broadcast-delay --upstream
            --nagios -w --warning -c --critical --warn-stratum --crit-stratum --warn-delay
            --crit-delay --warn-jitter --crit-jitter --warn-root-distance --crit-root-distance
            --warn-processing --crit-processing --expect-refid --leap-ok --no-reply-critical
            --min-ok --time-offset' -- "$cur"))
        return
    fi
    _known_hosts_real -- "$cur"
} &&
    complete -F _ntpprobe ntpprobe
