# bash completion for ntpmon-query (ntpkit)

_ntpmon_query() {
    local cur prev words cword
    _init_completion || return

    case $prev in
        -k | --keyfile)
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
        peervars)
            COMPREPLY=($(compgen -W 'all' -- "$cur"))
            return
            ;;
        -p | --port | -t | --timeout | -r | --retries | -a | --key | --warning | --critical | \
            --stratum-warning | --stratum-critical | --jitter-warning | --jitter-critical | \
            --truechimers-warning | --truechimers-critical)
            return
            ;;
    esac

    # A command after at most one host word; hosts otherwise.
    if [[ $cur != -* ]]; then
        local i word count=0
        for ((i = 1; i < cword; i++)); do
            word=${words[i]}
            case $word in
                sysvars | rv | peers | pe | associations | as | peervars | clockvars | cv | gps | sysstats | \
                    iostats | monstats | authinfo | kerninfo) return ;;
                -p | --port | -t | --timeout | -r | --retries | -a | --key | -k | --keyfile | \
                    --key-format | --mac-length | --warning | --critical | --stratum-warning | \
                    --stratum-critical | --jitter-warning | --jitter-critical | \
                    --truechimers-warning | --truechimers-critical) ((i++)) ;;
                -*) ;;
                *) ((count++)) ;;
            esac
        done
        COMPREPLY=($(compgen -W 'sysvars rv peers pe associations as peervars clockvars cv gps
            sysstats iostats monstats authinfo kerninfo' \
            -- "$cur"))
        if ((count == 0)); then
            _known_hosts_real -a -- "$cur"
        fi
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '-h --help -V --version -4 --ipv4 -6 --ipv6 -p --port
            -t --timeout -r --retries -n --numeric -j --json --prometheus -a --key
            -k --keyfile --key-format --mac-length --nagios --warning --critical
            --stratum-warning --stratum-critical --jitter-warning --jitter-critical
            --truechimers-warning --truechimers-critical --refclocks --quiet' -- "$cur"))
    fi
} &&
    complete -F _ntpmon_query ntpmon-query
