# bash completion for arborctl                                 -*- shell-script -*-
#
#   arborctl [--runtime-dir DIR] [--json] COMMAND ...
#
#   status [DAEMON]
#   health
#   events DAEMON [-f] [--since N] [--type GLOB]
#   reload|renew|stop DAEMON|all
#   get DAEMON PATH
#   post DAEMON PATH [JSON]
#   addr [--machine-id ID] [--iface NAME [--state DIR] | --subnet-id N] [--host HOST-ID] [--json]
#   overlay enroll|forget|spokes ...
#   wg list|show|add|set|del|config|qr|rotate-key|help ...
#   help
#
# DAEMON names come from the *.sock files in the runtime directory (the
# --runtime-dir given on the command line, else /run/arbor), or from the fixed
# list of arbor daemons when there are none. Self-contained: it needs bash 4.3
# or later and nothing from the bash-completion package. addr's --iface offers
# the interfaces in /sys/class/net. Install it as
# /usr/share/bash-completion/completions/arborctl.

_arborctl_daemons()
{
    local dir=${1:-/run/arbor} f
    local -a names=()
    [[ $dir == "~" || $dir == "~/"* ]] && dir=$HOME${dir:1}
    for f in "$dir"/*.sock; do
        [[ -S $f ]] || continue
        f=${f##*/}
        names+=("${f%.sock}")
    done
    if ((${#names[@]} == 0)); then
        names=(healthd dhcp4d dhcp6pd dnsd overlayd wgd)
    fi
    printf '%s\n' "${names[@]}"
}

# _arborctl_reply WORD... : COMPREPLY = the WORDs that start with $cur.
_arborctl_reply()
{
    local w
    COMPREPLY=()
    for w in "$@"; do
        [[ $w == "$cur"* ]] && COMPREPLY+=("$w")
    done
}

_arborctl()
{
    local cur prev i w joined=0 cword=0
    local -a words=()

    # Bash splits "--runtime-dir=/run/x" into "--runtime-dir" "=" "/run/x"
    # (COMP_WORDBREAKS); put such options back together.
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        w=${COMP_WORDS[i]}
        if ((i > 0 && ${#words[@]} > 0)) && [[ $w == "=" && ${words[-1]} == --* && ${words[-1]} != *=* ]]; then
            words[-1]+="="
            joined=1
        elif ((joined)); then
            words[-1]+=$w
            joined=0
        else
            words+=("$w")
        fi
        ((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
    done
    # The word being completed is empty when the cursor is after a blank.
    ((COMP_CWORD >= ${#COMP_WORDS[@]})) && { words+=(""); cword=$((${#words[@]} - 1)); }
    cur=${words[cword]}
    prev=${words[cword - 1]}
    COMPREPLY=()

    # Global options, the command and its arguments, up to the current word.
    local rundir="" cmd="" json=0
    local -a args=()
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if [[ -z $cmd ]]; then
            case $w in
                --runtime-dir) ((i + 1 < cword)) && rundir=${words[i + 1]}; ((i++)) ;;
                --runtime-dir=*) rundir=${w#*=} ;;
                --json) json=1 ;;
                -*) ;;
                *) cmd=$w ;;
            esac
        else
            args+=("$w")
        fi
    done

    if [[ -z $cmd ]]; then
        if [[ $prev == --runtime-dir ]]; then
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            return 0
        fi
        if [[ $cur == --runtime-dir=* ]]; then
            # Bash replaces only what follows "=".
            cur=${cur#*=}
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            return 0
        fi
        if [[ $cur == -* ]]; then
            local -a opts=(--runtime-dir)
            ((json)) || opts+=(--json)
            _arborctl_reply "${opts[@]}"
        else
            _arborctl_reply status health events reload renew stop get post addr overlay wg help
        fi
        return 0
    fi

    # Positional arguments of the command so far (options of events left out).
    local -a pos=()
    local skip=0
    for w in "${args[@]}"; do
        if ((skip)); then skip=0; continue; fi
        case $cmd:$w in
            events:--since | events:--type) skip=1 ;;
            events:-*) ;;
            addr:--machine-id | addr:--iface | addr:--subnet-id | addr:--host | addr:--state) skip=1 ;;
            addr:-*) ;;
            wg:--interface | wg:--public-key | wg:--allowed-ips | wg:--keepalive | wg:--expires) skip=1 ;;
            wg:-*) ;;
            *) pos+=("$w") ;;
        esac
    done

    local -a paths=(/v1/status /v1/healthz /v1/events /v1/metrics /v1/commands/)
    local -a daemons=()
    mapfile -t daemons < <(_arborctl_daemons "$rundir")
    case $cmd in
        status)
            ((${#pos[@]} == 0)) && _arborctl_reply "${daemons[@]}"
            ;;
        events)
            case $prev in
                --since | --type) return 0 ;; # a number, a glob: nothing to offer
            esac
            if [[ $cur == -* ]]; then
                local -a opts=() o
                for o in -f --since --type; do
                    [[ " ${args[*]} " == *" $o "* ]] || opts+=("$o")
                done
                _arborctl_reply "${opts[@]}"
            elif ((${#pos[@]} == 0)); then
                _arborctl_reply "${daemons[@]}"
            fi
            ;;
        reload | renew | stop)
            ((${#pos[@]} == 0)) && _arborctl_reply "${daemons[@]}" all
            ;;
        get | post)
            if ((${#pos[@]} == 0)); then
                _arborctl_reply "${daemons[@]}"
            elif ((${#pos[@]} == 1)); then
                if [[ $cur == /v1/commands/* ]]; then
                    _arborctl_reply /v1/commands/reload /v1/commands/renew /v1/commands/stop
                else
                    _arborctl_reply "${paths[@]}"
                fi
                # Let the user go on typing after "/v1/commands/".
                if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == */ ]]; then
                    compopt -o nospace 2>/dev/null
                fi
            fi
            ;;
        overlay)
            ((${#pos[@]} == 0)) && _arborctl_reply enroll forget spokes
            ;;
        addr)
            # "--iface=NAME" and "--state=DIR" arrive joined (see above).
            local opt=$prev
            if [[ $cur == --iface=* || $cur == --state=* ]]; then
                opt=${cur%%=*}
                cur=${cur#*=}
            fi
            case $opt in
                --iface)
                    local -a ifaces=()
                    for w in /sys/class/net/*; do
                        [[ -e $w ]] && ifaces+=("${w##*/}")
                    done
                    _arborctl_reply "${ifaces[@]}"
                    return 0
                    ;;
                --state)
                    compopt -o filenames 2>/dev/null
                    mapfile -t COMPREPLY < <(compgen -d -- "$cur")
                    return 0
                    ;;
                --machine-id | --subnet-id | --host) return 0 ;; # free text
            esac
            if [[ $cur == -* ]]; then
                # Each option once; --iface and --subnet-id exclude each other.
                local -a opts=() o
                local given=" "
                for w in "${args[@]}"; do
                    given+="${w%%=*} " # "--iface=eth0" counts as --iface
                done
                for o in --machine-id --iface --subnet-id --host --state --json; do
                    [[ $given == *" $o "* ]] && continue
                    [[ $o == --json ]] && ((json)) && continue
                    [[ $o == --subnet-id && $given == *" --iface "* ]] && continue
                    [[ ($o == --iface || $o == --state) && $given == *" --subnet-id "* ]] && continue
                    opts+=("$o")
                done
                _arborctl_reply "${opts[@]}"
            fi
            ;;
        wg)
            # wgd's peers: the verb, then its options (peer names are free text).
            if ((${#pos[@]} == 0)); then
                _arborctl_reply list show add set del config qr rotate-key help
            elif [[ $cur == -* ]]; then
                case ${pos[0]} in
                    list) _arborctl_reply --interface ;;
                    add) _arborctl_reply --interface --public-key --allowed-ips --keepalive --psk --expires --disabled --qr ;;
                    set) _arborctl_reply --enable --disable --allowed-ips --no-allowed-ips --keepalive --expires --never ;;
                    qr) _arborctl_reply --svg ;;
                esac
            fi
            ;;
        health | help | *) ;;
    esac
    return 0
}

complete -F _arborctl arborctl
