#!/bin/sh
# @preact/signals 2.x and the @preact/signals-core it depends on.
. "$(dirname "$0")/lib.sh"
pack @preact/signals 2.11.4
rm -rf "$root/static/vendor/signals"
put dist/signals.module.js signals/signals.module.js
put LICENSE signals/LICENSE
pack @preact/signals-core 1.14.5
put dist/signals-core.module.js signals/signals-core.module.js
echo "vendored @preact/signals 2.11.4, @preact/signals-core 1.14.5"
