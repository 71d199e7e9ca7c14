// Package localetest holds the tests of the UI's languages: the message
// catalogues in web/static/i18n (complete, same placeholders, the plural forms
// each language needs) and, in a real chromium, the locale modules in
// web/static/js/locale (calendar arithmetic, parsing, formatting, the date
// picker). Its test page lives in testdata/, outside the embedded UI.
package localetest
