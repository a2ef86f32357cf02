# bash completion for rbacmig: commands, subcommands, options (a command's and the global
# ones, which go anywhere), and revision ids, branch labels and targets from the project.
# Every word list comes from rbacmig itself (`rbacmig __complete ...`, generated from its
# command table; `rbacmig __revisions`, read from the migrations directory of the project
# in the working directory), so this script never needs an edit when a command changes.
# Installed as share/bash-completion/completions/rbacmig; or: source completions/rbacmig.bash

_rbacmig() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=""
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  local prog=${COMP_WORDS[0]}
  local cmd="" sub="" skip="" w i valued
  COMPREPLY=()

  # The command and subcommand typed so far: the first words that are neither options nor
  # the value of an option that takes one. The options that take a value depend on the
  # command, so the list is asked again once the command is known.
  valued=$("$prog" __complete values 2>/dev/null)
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [[ -n $skip ]]; then
      skip=""
      continue
    fi
    case $w in
      --) break ;;
      --*=*) ;;
      -*) if [[ $'\n'$valued$'\n' == *$'\n'$w$'\n'* ]]; then skip=1; fi ;;
      *)
        if [[ -z $cmd ]]; then
          cmd=$w
          valued=$("$prog" __complete values "$cmd" 2>/dev/null)
        elif [[ -z $sub && -n $("$prog" __complete subcommands "$cmd" 2>/dev/null) ]]; then
          sub=$w
          valued=$("$prog" __complete values "$cmd" "$sub" 2>/dev/null)
        fi
        ;;
    esac
  done

  # The value of an option: a file for --config, revisions where a revision is named.
  if [[ -n $prev && $prev == -* && $'\n'$valued$'\n' == *$'\n'$prev$'\n'* ]]; then
    case $prev in
      -c | --config) COMPREPLY=($(compgen -f -- "$cur")) ;;
      --head | --depends-on | -r | --rev-range)
        COMPREPLY=($(compgen -W "base $("$prog" __revisions 2>/dev/null)" -- "$cur")) ;;
    esac
    return 0
  fi

  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$("$prog" __complete options $cmd $sub 2>/dev/null)" -- "$cur"))
  elif [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "$("$prog" __complete commands 2>/dev/null)" -- "$cur"))
  elif [[ -z $sub && -n $("$prog" __complete subcommands "$cmd" 2>/dev/null) ]]; then
    COMPREPLY=($(compgen -W "$("$prog" __complete subcommands "$cmd" 2>/dev/null)" -- "$cur"))
  else
    local words="" word
    for word in $("$prog" __complete positional $cmd $sub 2>/dev/null); do
      case $word in
        @revisions) words+=" $("$prog" __revisions 2>/dev/null)" ;;
        @commands) words+=" $("$prog" __complete commands 2>/dev/null)" ;;
        @files) COMPREPLY=($(compgen -f -- "$cur")) ;;
        *) words+=" $word" ;;
      esac
    done
    COMPREPLY+=($(compgen -W "$words" -- "$cur"))
  fi
  return 0
}
complete -o default -F _rbacmig rbacmig
