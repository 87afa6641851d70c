# shellcheck shell=bash
# The one .env reader of the deploy scripts (k8s-secret.sh, helm-deploy.sh). Bash 3.2 safe (no
# associative arrays: each value lands in a variable ENVFILE__<KEY>).
#
# Understood, line by line (the last assignment of a key wins):
#   KEY=value                      export KEY=value          leading/trailing blanks ignored
#   KEY="value"   KEY='value'      the quotes are removed; a comment may follow the closing quote
#   KEY=value  # note              an unquoted value ends where " #" starts an inline comment
#   # comment, blank lines, lines that are no KEY=... assignment: skipped;  CRLF line ends: fine
# Values are never printed or evaluated (no shell expansion of $VAR or `...` in the file).

ENVFILE_KEYS=""   # the keys read, space-separated

envfile_read() {  # FILE
  local line key raw value
  local re_double='^"(.*)"[[:space:]]*(#.*)?$' re_single="^'(.*)'[[:space:]]*(#.*)?\$"
  local re_key='^[A-Za-z_][A-Za-z0-9_]*$'
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    line=${line#"${line%%[![:space:]]*}"}          # leading whitespace
    case "$line" in '' | '#'*) continue ;; esac
    case "$line" in export[[:space:]]*) line=${line#export}; line=${line#"${line%%[![:space:]]*}"} ;; esac
    case "$line" in *=*) ;; *) continue ;; esac
    key=${line%%=*}; key=${key%"${key##*[![:space:]]}"}
    [[ $key =~ $re_key ]] || continue
    raw=${line#*=}; value=${raw#"${raw%%[![:space:]]*}"}
    if [[ $value =~ $re_double ]] || [[ $value =~ $re_single ]]; then
      value=${BASH_REMATCH[1]}
    elif [ "$value" != "$raw" ] && [ "${value:0:1}" = "#" ]; then
      value=""                                      # KEY=  # only a comment
    else
      value=${value%%[[:space:]]#*}                 # unquoted: " # comment" ends the value
      value=${value%"${value##*[![:space:]]}"}
    fi
    printf -v "ENVFILE__$key" '%s' "$value"
    case " $ENVFILE_KEYS " in *" $key "*) ;; *) ENVFILE_KEYS="$ENVFILE_KEYS $key" ;; esac
  done <"$1"
}

env_setting() {  # KEY -> the process environment's value (it wins), else the file's, else ""
  local file_var="ENVFILE__$1"
  if [ -n "${!1:-}" ]; then printf '%s' "${!1}"; else printf '%s' "${!file_var:-}"; fi
}

# The auth secret under either name: AUTH_SECRET, or BETTER_AUTH_SECRET (the name the project's
# brief uses, accepted as an alias). The environment wins over the file; under the same source
# AUTH_SECRET wins. Prints "NAME VALUE" (the name the value came from), or nothing.
auth_secret_setting() {
  local name file_var
  for name in AUTH_SECRET BETTER_AUTH_SECRET; do
    if [ -n "${!name:-}" ]; then printf '%s %s' "$name" "${!name}"; return 0; fi
  done
  for name in AUTH_SECRET BETTER_AUTH_SECRET; do
    file_var="ENVFILE__$name"
    if [ -n "${!file_var:-}" ]; then printf '%s %s' "$name" "${!file_var}"; return 0; fi
  done
}
