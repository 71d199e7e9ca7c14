#!/bin/sh
# preact and preact/hooks, ES modules.
. "$(dirname "$0")/lib.sh"
pack preact 10.29.8
rm -rf "$root/static/vendor/preact"
put dist/preact.module.js preact/preact.module.js
put hooks/dist/hooks.module.js preact/hooks.module.js
put LICENSE preact/LICENSE
echo "vendored preact 10.29.8"
