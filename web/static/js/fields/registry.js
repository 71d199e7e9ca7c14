// The field-type registry: one module per field type (fields/<type>.js)
// registers how a value of that type is shown (display), edited (input),
// written as an expr literal in a filter (literal) and which filter
// operators make sense (ops). Lists, forms, record pages and the filter
// builder look types up here, so a new type is one new module.
//
// A type is {display({field, value, record}), input({field, value, onChange,
// id, invalid, required}), text(value, field), literal(value, field),
// ops: [..], blank: value for an empty input}.

const types = new Map();

/** STRING_OPS, ORDER_OPS: the filter operators of text and of ordered types. */
export const STRING_OPS = ['==', '!=', 'contains', 'startsWith'];
export const ORDER_OPS = ['==', '!=', '<', '<=', '>', '>='];

/** quote is an expr string literal. */
export function quote(s) {
  return "'" + String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}

const defaults = {
  display: ({ value }) => (value === null || value === undefined ? '' : String(value)),
  text: (value) => (value === null || value === undefined ? '' : String(value)),
  literal: (value) => quote(value),
  ops: STRING_OPS,
  blank: '',
};

/** register adds (or replaces) a field type. */
export function register(name, type) {
  types.set(name, { ...defaults, ...type, name });
}

/** typeOf returns the type of a schema field (string when unknown). */
export function typeOf(field) {
  return types.get(field?.type) || types.get('string');
}

/** isEmpty reports whether a field value counts as no value. */
export function isEmpty(v) {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
}
