#!/usr/bin/env bash
# Runs the README's curl examples against a running gateway: readme_examples.sh BASE_URL [README]
#
# Convention (README.md is written by hand; this script keeps it honest):
# - A fenced ```sh block right after a line `<!-- e2e -->` (blank lines between are allowed) is
#   an executed example. Other blocks are not run.
# - `http://127.0.0.1:3000` in it is replaced by BASE_URL; nothing else is changed.
# - The block runs in one `bash -e -o pipefail` (a failing command fails the example).
# - A comment line `# => TEXT` checks output: the commands since the previous `# =>` group (or
#   the block's start) must print TEXT as their last line(s); consecutive `# =>` lines check
#   consecutive last lines. Trailing blank lines are ignored. A group without `# =>` is not
#   checked beyond succeeding.
# - Examples run in README order against the same gateway, so each may rely on the state the
#   previous ones left (the first one expects an empty store).
#
# Exit status: 0 when every example ran and printed what it promises, 1 otherwise.
set -uo pipefail

base=${1:?usage: readme_examples.sh BASE_URL [README]}
readme=${2:-"$(cd "$(dirname "$0")/../.." && pwd)/README.md"}
placeholder='http://127.0.0.1:3000'
mark='@@promagg-e2e-check@@'

[ -f "$readme" ] || { echo "FAIL: $readme not found"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Split the README into example scripts: $work/N.sh (with a marker line printed before each
# checked group's expectations), $work/N.line (README line), $work/N.expect.G (expectations).
n=0 state=text lineno=0 group=0 pending=0
while IFS= read -r line || [ -n "$line" ]; do
  lineno=$((lineno + 1))
  case $state in
    text)
      [ "$line" = "<!-- e2e -->" ] && { state=marked; marked_at=$lineno; }
      ;;
    marked)
      if [ -z "${line//[[:space:]]/}" ]; then
        continue
      elif [ "$line" = '```sh' ]; then
        n=$((n + 1)) group=0 pending=0 state=block
        echo "$lineno" >"$work/$n.line"
        : >"$work/$n.sh"
      else
        echo "FAIL: README line $marked_at: <!-- e2e --> must be followed by a \`\`\`sh block (line $lineno is: $line)"
        exit 1
      fi
      ;;
    block)
      if [ "$line" = '```' ]; then
        state=text
      elif [[ $line =~ ^#\ =\>\ ?(.*)$ ]]; then
        if [ "$pending" = 0 ]; then
          group=$((group + 1)) pending=1
          printf 'printf "\\n%s %d\\n"\n' "$mark" "$group" >>"$work/$n.sh"
        fi
        printf '%s\n' "${BASH_REMATCH[1]}" >>"$work/$n.expect.$group"
      else
        pending=0
        printf '%s\n' "${line//"$placeholder"/$base}" >>"$work/$n.sh"
      fi
      ;;
  esac
done <"$readme"
[ "$state" = block ] && { echo "FAIL: README ends inside an e2e example"; exit 1; }
[ "$n" -gt 0 ] || { echo "FAIL: README has no example marked <!-- e2e -->"; exit 1; }

# The last lines of $1 (blank lines at the end dropped), as many as $2 has.
last_lines() {
  local want
  want=$(wc -l <"$2")
  sed -e :a -e '/^[[:space:]]*$/{$d;N;ba' -e '}' "$1" | tail -n "$want"
}

failed=0
for i in $(seq 1 "$n"); do
  at="$(basename "$readme") line $(cat "$work/$i.line")"
  if ! bash -e -o pipefail "$work/$i.sh" >"$work/$i.out" 2>"$work/$i.err"; then
    echo "FAIL: example at $at: a command failed"
    grep -v "$mark" "$work/$i.sh" | sed 's/^/    | /'
    echo "  output:"; sed 's/^/    /' "$work/$i.out" "$work/$i.err"
    failed=$((failed + 1))
    continue
  fi
  # Output of group G is what was printed between marker G-1 (or the start) and marker G.
  awk -v mark="$mark" -v dir="$work" -v ex="$i" '
    $1 == mark { g = $2; next }
    { print > (dir "/" ex ".got." (g + 1)) }
  ' "$work/$i.out"
  ok=1
  for exp in "$work/$i".expect.*; do
    [ -e "$exp" ] || continue
    g=${exp##*.}
    got="$work/$i.got.$g"
    [ -e "$got" ] || : >"$got"
    if [ "$(last_lines "$got" "$exp")" != "$(cat "$exp")" ]; then
      ok=0
      echo "FAIL: example at $at, check $g: expected the output to end with:"
      sed 's/^/    /' "$exp"
      echo "  but it printed:"
      sed 's/^/    /' "$got"
    fi
  done
  if [ "$ok" = 1 ]; then
    echo "ok: example at $at"
  else
    failed=$((failed + 1))
  fi
done
echo "README examples: $((n - failed)) of $n ok"
[ "$failed" = 0 ]
