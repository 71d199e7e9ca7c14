#!/bin/sh
# Vendors jalaali-js (Jalali <-> Gregorian arithmetic) into web/static/vendor/jalaali-js/.
#
# Pinned: version 2.0.1, checked against the npm registry's published sha512.
# Upstream ships a CommonJS build (dist/index.cjs, its "main") and, since 2.0, an ES
# module build (dist/index.js). We copy the ES module build as jalaali.dist.js and write
# jalaali.js, a small ESM wrapper that re-exports the named functions the UI contract
# names (toJalaali, toGregorian, isValidJalaaliDate, jalaaliMonthLength,
# isLeapJalaaliYear, plus j2d/d2j/g2d/d2g/jalaaliWeek), so the import map maps
# "jalaali-js" to vendor/jalaali-js/jalaali.js and no bundler is needed.
#
# Run by `make vendor` (never by `go build`); the output is committed.
set -eu

PKG=jalaali-js
VERSION=2.0.1
INTEGRITY='sha512-qzTmjw6lZ3V4znyNA8ceYoGgFR+CcF+xEfIYZNcK2ZR0mzdMpMZ6iAcdRPvMgxUVdPMh6QLWCANpTcCJow2U+Q=='

here=$(cd "$(dirname "$0")" && pwd)
dest="$here/../static/vendor/$PKG"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "$PKG@$VERSION" >/dev/null)
tgz="$tmp/$PKG-$VERSION.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | openssl base64 -A)"
if [ "$got" != "$INTEGRITY" ]; then
	echo "vendor-jalaali: $PKG@$VERSION integrity mismatch: got $got, want $INTEGRITY" >&2
	exit 1
fi
tar -xzf "$tgz" -C "$tmp"

rm -rf "$dest"
mkdir -p "$dest"
# The source map is not shipped, so drop the comment that points to it.
grep -v '^//# sourceMappingURL=' "$tmp/package/dist/index.js" >"$dest/jalaali.dist.js"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
cat >"$dest/jalaali.js" <<JS
// jalaali-js $VERSION (MIT, https://github.com/jalaali/jalaali-js), vendored by
// web/scripts/vendor-jalaali.sh; do not edit, re-run \`make vendor\`.
export {
  toJalaali,
  toGregorian,
  isValidJalaaliDate,
  jalaaliMonthLength,
  isLeapJalaaliYear,
  jalaaliWeek,
  j2d,
  d2j,
  g2d,
  d2g,
} from './jalaali.dist.js';
JS
echo "vendor-jalaali: $PKG@$VERSION -> $dest"
