# Sourced by the vendor-*.sh scripts: fetch one npm package at a pinned
# version with `npm pack` into a temporary directory and copy chosen files
# into web/static/vendor/<dir>/. Needs npm (and the network) only when run;
# `go build` never runs it.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# pack NAME VERSION: unpacks NAME@VERSION and sets $pkg to its directory.
pack() {
	tmp=$(mktemp -d "$work/pack.XXXXXX")
	(cd "$tmp" && npm pack --silent "$1@$2" >/dev/null)
	tar xzf "$tmp"/*.tgz -C "$tmp"
	pkg="$tmp/package"
}

# put SRC DEST: copies SRC (relative to the package) to vendor/DEST without
# its source-map comment (the maps are not vendored).
put() {
	mkdir -p "$(dirname "$root/static/vendor/$2")"
	sed '/^\/\/# sourceMappingURL=/d' "$pkg/$1" > "$root/static/vendor/$2"
}
