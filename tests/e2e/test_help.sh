#!/usr/bin/env bash
# Help and conventions (issue 16), as a user meets them: `help` and `COMMAND --help` list every
# option with an example, --version, global options after the command, -q/-v for every
# command, the man page (renders without warnings, names every command and option), the bash
# and zsh completions (commands, options, revision ids and labels from the project), colour
# only on a terminal, and the README's command reference, generated from the table
# (`__reference`, scripts/gen-readme-reference.sh).
# None of it touches a database: it runs once, on the SQLite pass.
. "$(dirname "$0")/lib.sh"
if [ "$DIALECT" = postgresql ]; then
  echo "skipped: help and completion are the same on every database (the sqlite pass runs it)"
  exit 77
fi
new_db

migration aaaa00000001 "" "db:exec('CREATE TABLE t1 (id integer)')" "db:exec('DROP TABLE t1')" \
  'branch_labels = {"core"},'
migration bbbb00000002 aaaa00000001 "db:exec('CREATE TABLE t2 (id integer)')" "db:exec('DROP TABLE t2')"

commands=$("$RBACMIG" __complete commands)
check "the command list is not empty" test -n "$commands"

# ---- help COMMAND, COMMAND --help: every option, with its example ----------------------
for c in $commands; do
  subs=$("$RBACMIG" __complete subcommands "$c")
  for s in ${subs:--}; do
    [ "$s" = - ] && s=""
    rb help $c $s
    expect_rc 0 "help $c $s"
    help=$OUT
    rb $c $s --help
    expect_eq "$OUT" "$help" "'$c $s --help' is 'help $c $s'"
    globals=$("$RBACMIG" __complete options)
    for o in $("$RBACMIG" __complete options $c $s); do
      case $'\n'$globals$'\n' in *$'\n'$o$'\n'*) continue ;; esac
      case $o in --*) ;; *) continue ;; esac
      line=$(printf '%s\n' "$help" | grep -A1 -E "^  (-[a-zA-Z], |    )$o( |\$)" | head -2)
      case $line in
        *"e.g. rbacmig $c${s:+ $s} "*) pass ;;
        *) fail "help $c $s: $o is listed with an example" ;;
      esac
    done
    # -q and -v are every command's, before or after it.
    rb $c $s -q -v --help
    expect_rc 0 "'$c $s' takes -q and -v"
  done
done
rb help
expect_rc 0 "help"
expect_out_has "global options (before or after the command" "help lists the global options"
for c in $commands; do
  case $OUT in *"  $c "*) pass ;; *) fail "help lists $c" ;; esac
done
expect_not_in_output "__complete" "plumbing stays out of help"
rb help nosuch
expect_rc 2 "help of an unknown command"
expect_one_error_line "help nosuch"

# ---- --version: the version, the git revision and the build type -----------------------
rb --version
expect_rc 0 "--version"
[[ $OUT =~ ^rbacmig\ [0-9]+\.[0-9]+\.[0-9]+\ \(git\ (unknown|[0-9a-f]{7,}(-dirty)?),\ [A-Za-z+]+\)$ ]] &&
  pass || fail "--version names the git revision and the build type"
rb heads --version
expect_rc 0 "--version after a command"
# A tree without git (a release tarball) says "unknown" (tools/revision.cmake).
mkdir tarball
cmake -DSOURCE_DIR="$TEST_DIR/tarball" -DOUTPUT="$TEST_DIR/revision.h" \
  -P "$SRC/tools/revision.cmake" >/dev/null 2>&1
check "without .git the revision is unknown" grep -q '"unknown"' "$TEST_DIR/revision.h"

# ---- global options after the command, and -v / -q with one meaning --------------------
cat > other.lua <<'LUA'
return { migrations = "migrations" }
LUA
rb heads -c other.lua
expect_rc 0 "-c after the command"
expect_out_has "bbbb00000002" "-c after the command reads the file"
rb upgrade head -d "$DB_URL" -q
expect_rc 0 "upgrade head -d URL -q"
expect_eq "$OUT" "" "-q after the command: no progress"
rb -v history
before=$OUT
rb history -v
expect_eq "$OUT" "$before" "-v before and after the command are one option"
expect_out_has "Path:" "history -v shows every detail"
rb check -v
expect_rc 0 "check takes -v"
rb heads --lock-timeout 5
expect_rc 2 "a global option that does not apply, after the command"
expect_err_has "'heads' does not take --lock-timeout (it takes no lock)" "named as before it"

# ---- the man page -------------------------------------------------------------------------
man_page=$TEST_DIR/rbacmig.1
"$RBACMIG" __man "$SRC/doc/rbacmig.1.in" > "$man_page"
check "the man page is written" test -s "$man_page"
built="$(dirname "$RBACMIG")/rbacmig.1"
if [ -f "$built" ]; then
  check "the built man page is the table's" cmp -s "$built" "$man_page"
fi
if command -v groff >/dev/null; then
  warnings=$(groff -man -Tutf8 -ww -z "$man_page" 2>&1)
  expect_eq "$warnings" "" "groff renders the man page without warnings"
  rendered=$(groff -man -Tutf8 -P-cbou "$man_page" 2>/dev/null)
  for c in $commands; do
    case $rendered in *"   $c"*) pass ;; *) fail "the man page has $c" ;; esac
    for o in $("$RBACMIG" __complete options $c); do
      case $rendered in *"$o"*) pass ;; *) fail "the man page names $o ($c)" ;; esac
    done
  done
  for section in SYNOPSIS COMMANDS "GLOBAL OPTIONS" TARGETS CONFIGURATION "EXIT STATUS" \
    ENVIRONMENT FILES; do
    case $rendered in *"$section"*) pass ;; *) fail "the man page has $section" ;; esac
  done
  case $rendered in *"Example: rbacmig revision -m"*) pass ;; *) fail "the man page has examples" ;; esac
fi

# ---- bash completion ----------------------------------------------------------------------
# complete WORDS...: what _rbacmig offers for the last word (which may be empty).
complete_bash() {
  PATH="$(dirname "$RBACMIG"):$PATH" bash -c '
    . "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    _rbacmig; printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$SRC/completions/rbacmig.bash" \
    rbacmig "$@"
}
bin_name=$(basename "$RBACMIG")
[ "$bin_name" = rbacmig ] || fail "the binary is called rbacmig (completion calls it by name)"
got=$(complete_bash upg)
expect_eq "$got" "upgrade" "bash: a command"
got=$(complete_bash "")
expect_eq "$got" "$(printf '%s\n' $commands | sort)" "bash: every command"
got=$(complete_bash tenant "")
expect_eq "$got" "$(printf 'create\ndelete\nlist\n')" "bash: subcommands"
got=$(complete_bash revision --dep)
expect_eq "$got" "--depends-on" "bash: a command's option"
got=$(complete_bash upgrade --data)
expect_eq "$got" "--database-url" "bash: a global option after the command"
got=$(complete_bash heads --lock)
expect_eq "$got" "" "bash: not a global option that does not apply to the command"
got=$(complete_bash upgrade "")
for w in aaaa00000001 bbbb00000002 core core@head head heads base; do
  case $'\n'$got$'\n' in
    *$'\n'$w$'\n'*) pass ;;
    *) fail "bash: upgrade completes revisions, labels and targets: $w (got: $got)" ;;
  esac
done
got=$(complete_bash -c other.lua downgrade bb)
expect_eq "$got" "bbbb00000002" "bash: a revision id after a global option's value"
got=$(complete_bash revision -m "x" --head "")
case $got in *aaaa00000001*base*) pass ;; *) fail "bash: --head completes revisions (got: $got)" ;; esac
got=$(complete_bash show c)
expect_eq "$got" "$(printf 'core\ncore@head\ncurrent\n')" "bash: show's words and labels"
got=$(complete_bash help up)
expect_eq "$got" "upgrade" "bash: help completes commands"

# ---- zsh completion, in a real zsh ---------------------------------------------------------
# zsh-complete.zsh types each line into one interactive zsh on a pseudo-terminal (zpty) whose
# compinit loaded completions/_rbacmig, presses Tab, and prints what zsh's completion system
# offers after its own matching: the completion as a user's shell runs it.
if command -v zsh >/dev/null; then
  check "zsh: the completion parses" zsh -n "$SRC/completions/_rbacmig"
  zsh_lines=("upg" "" "member " "revision --dep" "upgrade --data" "heads --lock" "stamp --"
    "upgrade " "downgrade bb" "revision -m x --head " "show c" "help up" "-c oth")
  zsh_out=$(PATH="$(dirname "$RBACMIG"):$PATH" timeout 120 zsh -f "$SRC/tests/e2e/zsh-complete.zsh" \
    "$SRC/completions" "${zsh_lines[@]}")
  check "zsh: the completion ran" test $? = 0
  zsh_offered() { # zsh_offered LINE: what zsh offered for that line (as typed after rbacmig)
    local i
    for i in "${!zsh_lines[@]}"; do
      [ "${zsh_lines[$i]}" = "$1" ] || continue
      printf '%s\n' "$zsh_out" | awk -F '\t' -v n=$((i + 1)) '$1 == n { print $2 }' | sort -u
    done
  }
  expect_eq "$(zsh_offered upg)" "upgrade" "zsh: a command"
  expect_eq "$(zsh_offered "")" "$(printf '%s\n' $commands | sort)" "zsh: every command, no plumbing"
  expect_eq "$(zsh_offered "member ")" "$(printf 'add\nlist\nremove\n')" "zsh: subcommands"
  expect_eq "$(zsh_offered "revision --dep")" "--depends-on" "zsh: a command's option"
  expect_eq "$(zsh_offered "upgrade --data")" "--database-url" "zsh: a global option after the command"
  expect_eq "$(zsh_offered "heads --lock")" "" "zsh: not a global option that does not apply to the command"
  got=$(zsh_offered "stamp --")
  for w in --purge --sql --from-alembic --alembic-table --database-url; do
    case $'\n'$got$'\n' in *$'\n'$w$'\n'*) pass ;; *) fail "zsh: stamp's options: $w (got: $got)" ;; esac
  done
  expect_eq "$(zsh_offered "upgrade ")" \
    "$(printf '%s\n' aaaa00000001 bbbb00000002 base core core@head head heads | sort)" \
    "zsh: upgrade completes revisions, labels and targets"
  expect_eq "$(zsh_offered "downgrade bb")" "bbbb00000002" "zsh: a revision id by its prefix"
  expect_eq "$(zsh_offered "revision -m x --head ")" \
    "$(printf '%s\n' aaaa00000001 bbbb00000002 base core core@head | sort)" "zsh: --head completes revisions"
  expect_eq "$(zsh_offered "show c")" "$(printf 'core\ncore@head\ncurrent\n')" "zsh: show's words and labels"
  expect_eq "$(zsh_offered "help up")" "upgrade" "zsh: help completes commands"
  expect_eq "$(zsh_offered "-c oth")" "other.lua" "zsh: -c completes files"
else
  fail "zsh is not installed: the zsh completion is untested (scripts/install-deps.sh installs it)"
fi

# ---- colour: only on a terminal, never with --no-color or NO_COLOR, never in --sql ---------
esc=$'\033'
if command -v script >/dev/null; then
  on_tty() { # on_tty ARGS...: rbacmig's output with stdout and stderr on a terminal
    TERM=xterm script -qec "$(printf '%q ' "$RBACMIG" "$@")" /dev/null 2>&1
  }
  out=$(unset NO_COLOR; on_tty upgrade nosuch)
  case $out in *"rbacmig: ${esc}["*"error:${esc}[0m"*) pass ;; *) fail "colour: the error prefix on a terminal ($out)" ;; esac
  out=$(unset NO_COLOR; on_tty downgrade base)
  case $out in *"${esc}[1mRunning downgrade"*) pass ;; *) fail "colour: step lines on a terminal ($out)" ;; esac
  out=$(NO_COLOR=1 on_tty upgrade nosuch)
  case $out in *"$esc"*) fail "colour: NO_COLOR is respected" ;; *) pass ;; esac
  out=$(unset NO_COLOR; on_tty upgrade nosuch --no-color)
  case $out in *"$esc"*) fail "colour: --no-color is respected" ;; *) pass ;; esac
  out=$(unset NO_COLOR; on_tty upgrade --sql base:head)
  case $out in *"$esc"*) fail "colour: none with --sql" ;; *) pass ;; esac
fi
rb upgrade nosuch
case $ERR$OUT in *"$esc"*) fail "colour: none when not a terminal" ;; *) pass ;; esac

# ---- the README's command reference is the table's, generated -----------------------------
# README.md holds exactly `rbacmig __reference` between its markers
# (scripts/gen-readme-reference.sh writes it there), so the README cannot drift from the table.
between_markers() { # between_markers FILE: the lines between the commands:begin/end markers
  sed -n '/^<!-- commands:begin -->$/,/^<!-- commands:end -->$/p' "$1" | sed '1d;$d'
}
rb __reference
expect_rc 0 "__reference"
reference=$OUT
between_markers "$SRC/README.md" > readme-reference.md
printf '%s\n' "$reference" > table-reference.md
if diff -u readme-reference.md table-reference.md; then pass; else
  fail "README.md's command reference is 'rbacmig __reference' (run scripts/gen-readme-reference.sh)"
fi
rb help
expect_not_in_output "__reference" "__reference is plumbing, not in help"
# What it renders: every command's synopsis and example, every option with its help line and
# its example.
globals=$("$RBACMIG" __complete options)
for c in $commands; do
  subs=$("$RBACMIG" __complete subcommands "$c")
  for s in ${subs:--}; do
    [ "$s" = - ] && s=""
    synopsis=$("$RBACMIG" help $c $s | sed -n '1s/^usage: //p')
    case $reference in *"- **\`$synopsis\`**: "*) pass ;; *) fail "the reference has $c $s's synopsis ($synopsis)" ;; esac
    example=$("$RBACMIG" help $c $s | sed -n 's/^example: //p')
    case $reference in *"Example: \`$example\`"*) pass ;; *) fail "the reference has $c $s's example ($example)" ;; esac
    for o in $("$RBACMIG" __complete options $c $s); do
      case $'\n'$globals$'\n' in *$'\n'$o$'\n'*) continue ;; esac
      case $o in --*) ;; *) continue ;; esac
      case $reference in
        *"$o"*"Example: \`rbacmig $c${s:+ $s} "*) pass ;;
        *) fail "the reference lists $c $s $o with an example" ;;
      esac
    done
  done
done
for o in $globals; do
  case $reference in *"\`$o"*|*", $o"*) pass ;; *) fail "the reference lists the global option $o" ;; esac
done
# The script rewrites a README whose reference is stale, and --check catches it.
cp "$SRC/README.md" README.md
sed -i 's/^- \*\*`rbacmig upgrade /- **`rbacmig upgrayedd /' README.md
"$SRC/scripts/gen-readme-reference.sh" --check "$RBACMIG" README.md >/dev/null 2>&1
RC=$?; expect_rc 1 "gen-readme-reference.sh --check finds a stale reference"
"$SRC/scripts/gen-readme-reference.sh" "$RBACMIG" README.md >/dev/null
RC=$?; expect_rc 0 "gen-readme-reference.sh rewrites it"
check "the rewritten README is the source README again" cmp -s README.md "$SRC/README.md"
"$SRC/scripts/gen-readme-reference.sh" --check "$RBACMIG" README.md
RC=$?; expect_rc 0 "gen-readme-reference.sh --check on a current README"

finish
