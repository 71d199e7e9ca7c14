#!/bin/sh
# SortableJS (the kanban's drag and drop), ES module.
. "$(dirname "$0")/lib.sh"
pack sortablejs 1.15.7
rm -rf "$root/static/vendor/sortablejs"
put modular/sortable.esm.js sortablejs/sortable.esm.js
put LICENSE sortablejs/LICENSE
echo "vendored sortablejs 1.15.7"
