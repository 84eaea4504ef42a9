# bash completion for ntpclients (ntpkit)

_ntpclients() {
    local cur prev words cword
    _init_completion || return

    local sub="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            pcap | live | mru)
                sub=${words[i]}
                break
                ;;
        esac
    done
    if [[ -z $sub ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W '-h --help -V --version' -- "$cur"))
        else
            COMPREPLY=($(compgen -W 'pcap live mru' -- "$cur"))
        fi
        return
    fi

    case $prev in
        --plot | -o | --output)
            _filedir
            return
            ;;
        -i | --interface)
            COMPREPLY=($(compgen -W "any $(command ls /sys/class/net 2>/dev/null)" -- "$cur"))
            return
            ;;
        --user)
            COMPREPLY=($(compgen -u -- "$cur"))
            return
            ;;
        --progress)
            COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
            return
            ;;
        --response-figure)
            COMPREPLY=($(compgen -W 'median p90 p99 max' -- "$cur"))
            return
            ;;
        -p | --port | --server | --interval | --response-timeout | --top | --slowest | \
            --rate-limit | --vxlan-port | --duration | --every | --snaplen | --buffer-size | \
            --warn-clients | --crit-clients | --warn-rate | --crit-rate | --warn-response | \
            --crit-response | --warn-unanswered | --crit-unanswered | -t | --timeout | \
            -r | --retries | --mincount | --laddr | --limit | --recent | --max-restarts | \
            --max-duration)
            return
            ;;
    esac

    if [[ $cur == -* ]]; then
        local opts='-h --help -p --port --top --rate-limit -j --json --csv --prometheus
            -v --verbose --plot -o --output --progress --nagios --warn-clients --crit-clients
            --warn-rate --crit-rate --warn-response --crit-response --warn-unanswered
            --crit-unanswered --response-figure --no-traffic-critical'
        if [[ $sub != mru ]]; then
            opts+=' --server --interval --response-timeout --slowest --vxlan-port'
        fi
        if [[ $sub == mru ]]; then
            opts+=' -4 --ipv4 -6 --ipv6 -t --timeout -r --retries --mincount --laddr --limit
                --recent --max-restarts --max-duration --list'
        fi
        if [[ $sub == live ]]; then
            opts+=' -i --interface --duration --every --snaplen --buffer-size --promiscuous
                --user --keep-privileges'
        fi
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    [[ $sub == pcap ]] && _filedir '@(pcap|pcapng|cap|gz)'
    [[ $sub == mru ]] && _known_hosts_real -- "$cur"
} &&
    complete -F _ntpclients ntpclients
