// datetime: an instant (RFC 3339), shown in the user's time zone and
// calendar. Registered by date.js, which shares its picker; this module
// exists so that every type has its module to look for.
import './date.js';
