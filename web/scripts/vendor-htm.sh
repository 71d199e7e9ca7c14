#!/bin/sh
# htm and its preact binding (htm/preact), ES modules.
. "$(dirname "$0")/lib.sh"
pack htm 3.1.1
rm -rf "$root/static/vendor/htm"
put dist/htm.module.js htm/htm.module.js
put preact/index.module.js htm/preact.module.js
put LICENSE htm/LICENSE
echo "vendored htm 3.1.1"
