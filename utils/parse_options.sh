#!/usr/bin/env bash
# Kaldi-style option parsing, sourced by a script after it sets its defaults:
#   stage=1; nj=4; . utils/parse_options.sh
# turns `--stage 3 --nj=8 --langs "ko en"` into stage=3 nj=8 langs="ko en". An option must name a
# variable the script already set (dashes become underscores); anything else is an error.
# `--config FILE` sources FILE first. Parsing stops at the first argument that is not an option,
# and the rest stay in "$@".
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h)
      echo "usage: $0 [--option value ...]; options: the variables set at the top of $0" >&2
      exit 0 ;;
    --config)
      [ -f "$2" ] || { echo "$0: --config: no such file $2" >&2; exit 1; }
      . "$2"; shift 2 ;;
    --*=*)
      _name=${1%%=*}; _name=${_name#--}; _name=${_name//-/_}; _value=${1#*=}
      if [ -z "${!_name+set}" ]; then echo "$0: unknown option --${_name}" >&2; exit 1; fi
      printf -v "$_name" '%s' "$_value"; shift ;;
    --*)
      _name=${1#--}; _name=${_name//-/_}
      if [ -z "${!_name+set}" ]; then echo "$0: unknown option --${_name}" >&2; exit 1; fi
      [ $# -ge 2 ] || { echo "$0: option --${_name} needs a value" >&2; exit 1; }
      printf -v "$_name" '%s' "$2"; shift 2 ;;
    *) break ;;
  esac
done
unset _name _value
true
