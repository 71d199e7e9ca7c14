package api

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/crmkit/crm/core/store"
)

// runIDOf is the id of a rule's run from the last segment of the retry
// route: the feed position of an event's run, or the tail of a scheduled
// run's id ("s-RECORD-VERSION").
func runIDOf(rule, seg string) (string, bool) {
	if seq, err := strconv.ParseUint(seg, 10, 64); err == nil {
		return fmt.Sprintf("%s/%020d", rule, seq), true
	}
	rest, ok := strings.CutPrefix(seg, "s-")
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '-')
	if i < 1 || !store.ValidID(rest[:i]) {
		return "", false
	}
	if _, err := strconv.ParseInt(rest[i+1:], 10, 64); err != nil {
		return "", false
	}
	return rule + "/" + seg, true
}
