#!/usr/bin/env zsh
# zsh-complete.zsh COMPLETIONS_DIR LINE...: what zsh's own completion system offers for each
# command line "rbacmig LINE<TAB>" (a LINE ending in a blank completes a new word), as lines
# "N<TAB>MATCH", N the LINE's number from 1. A real interactive zsh runs on a pseudo-terminal
# (zsh/zpty) with compinit loading _rbacmig from COMPLETIONS_DIR through its #compdef line and
# Tab bound to a complete-word widget running _main_complete: words, CURRENT, the matching against what is typed, _files and
# _message are zsh's own. Only compadd is wrapped, to print what each call adds (-O: the
# matches left after zsh's matching) before adding it; after each completion nothing is
# inserted or listed, the line is cleared (^U) and the next one typed. One shell for all
# lines: compinit is the slow part. rbacmig must be on PATH (the completion calls it by name).
# Used by tests/e2e/test_help.sh.
emulate -L zsh
zmodload zsh/zpty || exit 2
dir=$1; shift
setup=$(mktemp /tmp/rbacmig-zsh-complete.XXXXXX) || exit 2
trap 'rm -f $setup; zpty -d rbzc 2>/dev/null' EXIT
# \x01 marks the lines to keep (the terminal echoes what is typed, never that byte); \x01\x02
# ends a completion, \x01\x03 says the shell is ready.
cat > $setup <<SETUP
PS1='' PROMPT='' RPROMPT=''
fpath=(${(q)dir} \$fpath)
autoload -Uz compinit && compinit -u -D
zstyle ':completion:*' insert-tab false
compadd() {
  local -a rbzc_matches
  local m
  if [[ \${(j: :)@} != *-[OAD]\ * ]]; then
    builtin compadd -O rbzc_matches "\$@"
    for m in \$rbzc_matches; do print -r -- \$'\x01'\$m >/dev/tty; done
  fi
  builtin compadd "\$@"
}
# Tab: zsh's own completion (_main_complete, as complete-word runs it), then nothing inserted
# or listed, and the end marker.
rbzc_complete() {
  _main_complete
  compstate[insert]='' compstate[list]=''
  print -r -- \$'\x01\x02' >/dev/tty
}
zle -C rbzc-complete complete-word rbzc_complete
bindkey '^I' rbzc-complete
bindkey '^U' kill-whole-line
print -r -- \$'\x01\x03' >/dev/tty
SETUP
TERM=xterm zpty rbzc zsh -f -i || exit 2
zpty -w rbzc "source ${(q)setup}"
local line ready=0 n=0
while zpty -r rbzc line; do
  [[ $line == *$'\x01\x03'* ]] && { ready=1; break }
done
(( ready )) || { print -u2 "zsh-complete: the completion system did not start"; exit 2 }
for typed in "$@"; do
  (( n++ ))
  zpty -w -n rbzc "rbacmig $typed"$'\t'
  while zpty -r rbzc line; do
    line=${${line//$'\r'/}%$'\n'}
    [[ $line == *$'\x01\x02'* ]] && break
    [[ $line == *$'\x01'* ]] || continue  # the echo of what was typed
    line=${line#*$'\x01'}
    [[ -n $line ]] && print -r -- "$n"$'\t'"$line"
  done
  zpty -w -n rbzc $'\x15'
done
