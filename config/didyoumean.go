package config

import (
	"fmt"
	"strings"

	"github.com/agext/levenshtein"
)

// Suggest returns the name in names closest to given by Levenshtein distance,
// or "" when none is close enough to be a likely typo: a distance of 1 for
// names of up to three characters, 2 for longer ones. The earliest name wins
// a tie. It serves the "did you mean" hints of the loader, and is exported so
// that the packages that check expressions and manifests can give the same
// hints.
func Suggest(given string, names []string) string {
	limit := 2
	if len(given) <= 3 {
		limit = 1
	}
	best, bestDist := "", limit+1
	for _, name := range names {
		d := levenshtein.Distance(given, name, nil)
		if d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// hint is the detail for an unknown name: "did you mean ...?" when a near
// name exists, else the list of valid names (of the given kind) when it is
// short enough to read.
func hint(given string, names []string, kind string) string {
	if s := Suggest(given, names); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	if len(names) == 0 || len(names) > 20 {
		return ""
	}
	return kind + ": " + strings.Join(names, ", ")
}
