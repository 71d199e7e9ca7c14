// jalaali-js 2.0.1 (MIT, https://github.com/jalaali/jalaali-js), vendored by
// web/scripts/vendor-jalaali.sh; do not edit, re-run `make vendor`.
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
