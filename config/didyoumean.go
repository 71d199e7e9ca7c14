package config

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/agext/levenshtein"
)

// suggestMaxLen bounds the names Suggest compares, in characters: a longer
// given name is no typo of a name in a configuration, and the bound keeps
// the cost of a hint small when the name comes from a request.
const suggestMaxLen = 64

// Suggest returns the name in names closest to given by Levenshtein distance
// (on characters, ignoring case), or "" when none is close enough to be a
// likely typo: a distance of 1 for names of up to three characters, 2 for
// longer ones. The earliest name wins a tie; names longer than 64
// characters are never compared.
//
// It is the one "did you mean" of the CRM: the loader, the schema (record
// input), the rules compiler and the plugin checks all use it, through
// DidYouMean and Hint.
func Suggest(given string, names []string) string {
	n := utf8.RuneCountInString(given)
	if n == 0 || n > suggestMaxLen {
		return ""
	}
	limit := 2
	if n <= 3 {
		limit = 1
	}
	g := strings.ToLower(given)
	best, bestDist := "", limit+1
	for _, name := range names {
		if utf8.RuneCountInString(name) > suggestMaxLen {
			continue
		}
		if d := levenshtein.Distance(g, strings.ToLower(name), nil); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// DidYouMean is the tail of a message about an unknown name:
// `; did you mean "x"?` when Suggest finds a near name other than given,
// else "".
func DidYouMean(given string, names []string) string {
	if s := Suggest(given, names); s != "" && s != given {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}

// Hint is the detail of a diagnostic about an unknown name: "did you mean
// ...?" when a near name exists, else the list of valid names (of the
// given kind) when it is short enough to read.
func Hint(given string, names []string, kind string) string {
	if s := Suggest(given, names); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	if len(names) == 0 || len(names) > 20 {
		return ""
	}
	return kind + ": " + strings.Join(names, ", ")
}

// hint is Hint, for the loader's many call sites.
func hint(given string, names []string, kind string) string { return Hint(given, names, kind) }
