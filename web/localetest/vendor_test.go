package localetest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// jalaaliDistSHA256 pins the vendored jalaali-js 2.0.1 ES module build
// (dist/index.js of the npm package, its sourceMappingURL line dropped), as
// web/scripts/vendor-jalaali.sh writes it.
const jalaaliDistSHA256 = "31258e17d6351e15c37b21353a29604ee9bb5b69d644659d8faf56f388e6df4c"

// TestVendoredJalaali checks that the committed jalaali-js is the pinned one
// and that its wrapper exports the functions the UI contract names.
func TestVendoredJalaali(t *testing.T) {
	dist, err := os.ReadFile("../static/vendor/jalaali-js/jalaali.dist.js")
	if err != nil {
		t.Fatalf("read the vendored jalaali-js: %v", err)
	}
	sum := sha256.Sum256(dist)
	if got := hex.EncodeToString(sum[:]); got != jalaaliDistSHA256 {
		t.Errorf("jalaali.dist.js has sha256 %s, want %s (re-run web/scripts/vendor-jalaali.sh, or update the pin with the script's version)", got, jalaaliDistSHA256)
	}
	wrapper, err := os.ReadFile("../static/vendor/jalaali-js/jalaali.js")
	if err != nil {
		t.Fatalf("read the wrapper: %v", err)
	}
	for _, name := range []string{"toJalaali", "toGregorian", "isValidJalaaliDate", "jalaaliMonthLength", "isLeapJalaaliYear"} {
		if !strings.Contains(string(wrapper), "  "+name+",\n") {
			t.Errorf("the wrapper does not export %s", name)
		}
	}
	if !strings.Contains(string(wrapper), "from './jalaali.dist.js'") {
		t.Error("the wrapper does not re-export jalaali.dist.js")
	}
	if _, err := os.Stat("../static/vendor/jalaali-js/LICENSE"); err != nil {
		t.Errorf("the licence is not vendored: %v", err)
	}
}
