# source this file: puts tools/venv first on PATH
_dualasr_tools=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$_dualasr_tools/venv/bin/activate"
unset _dualasr_tools
