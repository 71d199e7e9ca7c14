// Every field type, registered by importing its module.
import './string.js';
import './text.js';
import './int.js';
import './decimal.js';
import './money.js';
import './bool.js';
import './date.js';
import './datetime.js';
import './enum.js';
import './email.js';
import './phone.js';
import './url.js';
import './ref.js';
import './user.js';
import './file.js';
import './object.js';

export { register, typeOf, isEmpty, quote } from './registry.js';
